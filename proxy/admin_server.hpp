#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "config/config.hpp"
#include "proxy/asio.hpp"
#include "proxy/proxy_state.hpp"
#include "proxy/reloader.hpp"

namespace switchyard::proxy {

/// The admin HTTP/1.1 endpoint (Boost.Beast) on `[admin] address`:
/// - `/metrics`: Prometheus text format (render_metrics);
/// - `/healthz`: 200 while the process runs;
/// - `/readyz`: 200 when a config is loaded, the proxy is not draining and a TCP connect to the
///   upstream succeeds within a bound; 503 with the reason otherwise;
/// - `/config`: JSON of the effective config, flags and last reload, secrets redacted;
/// - anything else 404; methods other than GET and HEAD 405.
/// It runs on its own thread and io_context, so a slow scrape or upstream check never delays a
/// session. It keeps a bounded number of connections, each of which must send its request
/// within a short timeout; at the bound, the one that has waited longest for a request is
/// closed to let a new one in (a probe is never kept out by connections that send nothing).
class AdminServer {
 public:
  using LastReload = std::function<ReloadStatus()>;

  /// `last_reload` may be empty (no reloader: result none).
  AdminServer(std::shared_ptr<ProxyState> state, LastReload last_reload);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  /// Binds `address` (port 0: a free port) and starts serving. An error message on failure.
  /// Call once.
  std::optional<std::string> start(const config::Endpoint& address);
  /// The bound address, valid after a successful start.
  tcp::endpoint local_endpoint() const { return bound_; }
  /// Closes the listener and every admin connection and joins the thread. Idempotent.
  void stop();

  /// Upper bound of the /readyz upstream connect (lowered to `[timeouts] connect`), kept under
  /// a Kubernetes probe's default one-second timeout.
  static constexpr std::chrono::milliseconds kReadyCheckTimeout{900};

  /// What the connections share (defined in the source file).
  struct Shared;

 private:
  std::shared_ptr<Shared> shared_;
  net::io_context context_{1};
  std::unique_ptr<tcp_acceptor> acceptor_;
  tcp::endpoint bound_;
  std::thread thread_;
};

}  // namespace switchyard::proxy
