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

/// Why an upstream connection could not be made; `message` names the upstream address.
struct ConnectFailure {
  std::string message;
  /// The connection was made and ended before the server answered anything: the server never
  /// saw the session, so making it again is safe.
  bool unanswered = false;
};

/// Connects to the snapshot's upstream and negotiates TLS per `[upstream] tls`, within the
/// connect timeout.
awaitable<std::variant<std::unique_ptr<Stream>, ConnectFailure>> connect_upstream(
    const Snapshot& snapshot, OffThread off_thread);

}  // namespace switchyard::proxy
