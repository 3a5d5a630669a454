#pragma once

#include <memory>

#include "proxy/asio.hpp"
#include "proxy/proxy_state.hpp"
#include "proxy/worker_inbox.hpp"

namespace switchyard::proxy {

/// How the client reached the proxy. A unix socket's descriptor travels in a tcp_socket too.
enum class ClientTransport { tcp, unix_socket };

/// Runs one client connection to its end: startup (TLS, cancel), upstream connect, auth
/// relay, then the message relay. Never throws; failures end this session only. `inbox` and
/// `metrics`: those of the worker whose thread runs the session.
awaitable<void> run_session(tcp_socket client, std::shared_ptr<ProxyState> state,
                            WorkerInbox& inbox, Metrics& metrics, ClientTransport transport);

}  // namespace switchyard::proxy
