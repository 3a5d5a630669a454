#pragma once

#include <memory>
#include <string>
#include <variant>

#include "proxy/proxy_state.hpp"
#include "proxy/stream.hpp"
#include "proxy/worker_inbox.hpp"

namespace switchyard::proxy {

/// Opens a TCP connection to `address` (numeric, or a host name resolved through
/// `off_thread`), with TCP_NODELAY set; or, for a unix socket address, connects to the socket
/// file and carries its descriptor in the tcp_socket (only reads, writes and waits are asked
/// of it).
awaitable<std::variant<tcp_socket, std::string>> connect_socket(const config::Endpoint& address,
                                                                OffThread off_thread);

/// Connects to the snapshot's upstream and negotiates TLS per `[upstream] tls`, within the
/// connect timeout. On failure the string says why, naming the upstream address.
awaitable<std::variant<std::unique_ptr<Stream>, std::string>> connect_upstream(
    const Snapshot& snapshot, OffThread off_thread);

}  // namespace switchyard::proxy
