#pragma once

#include <memory>

#include "proxy/asio.hpp"
#include "proxy/proxy_state.hpp"
#include "proxy/worker_inbox.hpp"

namespace switchyard::proxy {

/// Runs one client connection to its end: startup (TLS, cancel), upstream connect, auth
/// relay, then the message relay. Never throws; failures end this session only. `inbox` and
/// `metrics`: those of the worker whose thread runs the session.
awaitable<void> run_session(tcp_socket client, std::shared_ptr<ProxyState> state,
                            WorkerInbox& inbox, Metrics& metrics);

}  // namespace switchyard::proxy
