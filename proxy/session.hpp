#pragma once

#include <memory>

#include "proxy/asio.hpp"
#include "proxy/proxy_state.hpp"

namespace switchyard::proxy {

/// Runs one client connection to its end: startup (TLS, cancel), upstream connect, auth
/// relay, then the message relay. Never throws; failures end this session only.
awaitable<void> run_session(tcp_socket client, std::shared_ptr<ProxyState> state);

}  // namespace switchyard::proxy
