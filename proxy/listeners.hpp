#pragma once

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "proxy/asio.hpp"
#include "proxy/proxy_state.hpp"
#include "proxy/worker_inbox.hpp"

namespace switchyard::proxy {

/// The client listeners: one io_context per thread, each with its own SO_REUSEPORT acceptor, so
/// the kernel spreads connections across cores and a session never changes threads. The listen
/// address can change while sessions run: new acceptors are bound first (a failure leaves the
/// old ones serving), then each thread swaps its own; open sessions are never touched.
/// A worker's io_context takes no locks (kWorkerConcurrencyHint): everything another thread
/// asks of a worker (take these acceptors, stop accepting, stop) goes through its inbox.
class Listeners {
 public:
  Listeners(std::shared_ptr<ProxyState> state, unsigned threads);
  ~Listeners();
  Listeners(const Listeners&) = delete;
  Listeners& operator=(const Listeners&) = delete;

  /// Binds every thread's acceptor on `address` (port 0: one free port shared by all).
  std::optional<std::string> bind(const config::Endpoint& address);
  /// After bind(), before start(): also listens on `<directory>/.s.PGSQL.<port>`, the port the
  /// TCP acceptors got, as libpq names a server's socket. A socket file left by a process that
  /// is gone is replaced; one a server still answers on is not. Every thread accepts from it.
  std::optional<std::string> bind_unix(const std::string& directory);
  /// The unix socket's path, "" when there is none.
  const std::string& unix_path() const { return unix_path_; }
  /// Starts accepting and the threads.
  void start();
  /// Where the acceptors listen (after bind, or after a committed rebind).
  tcp::endpoint endpoint() const;

  /// Binds acceptors for `address` beside the current ones. Called from the reloader thread.
  std::optional<std::string> prepare_rebind(const config::Endpoint& address);
  /// Switches every thread to the prepared acceptors (commit) or closes them.
  void finish_rebind(bool commit);

  /// Stops accepting (drain); a rebind that commits later is closed at once too.
  void close();
  /// Stops the io_contexts (ending every session) and joins the threads, then waits for the
  /// blocking work sessions started on the state's pool: its answers are posted to the
  /// workers' inboxes, which must outlive them. Removes the unix socket's file.
  void stop();

 private:
  /// A bound, listening socket that no worker has taken yet; closed if none ever does.
  class Listening {
   public:
    Listening(tcp protocol, int fd) : protocol_(protocol), fd_(fd) {}
    Listening(Listening&& other) noexcept
        : protocol_(other.protocol_), fd_(std::exchange(other.fd_, -1)) {}
    Listening& operator=(Listening&&) = delete;
    ~Listening();
    /// An acceptor of `context` for the socket; on the context's thread once it runs.
    std::shared_ptr<tcp_acceptor> adopt(net::io_context& context);

   private:
    tcp protocol_;
    int fd_;
  };

  struct Worker {
    explicit Worker(Metrics& m) : metrics(m) {}
    // One thread runs the context and uses every object of it; other threads use the inbox.
    net::io_context context{kWorkerConcurrencyHint};
    // Keeps run() going when no acceptor or session is left (after a drain closed them), so a
    // rebind posted later still runs; stop() ends it.
    net::executor_work_guard<net::io_context::executor_type> keep_running{context.get_executor()};
    // Declared after the context, so destroyed before it: a task it still holds may own that
    // context's sockets.
    WorkerInbox inbox{context};
    // Touched only on the worker's own thread once started.
    std::shared_ptr<tcp_acceptor> acceptor;
    std::shared_ptr<unix_acceptor> local_acceptor;  // with [listen] unix_socket_directory
    bool closed = false;
    Metrics& metrics;  // written by this worker's sessions only
    std::thread thread;
  };

  std::optional<std::string> open_all(const config::Endpoint& address, std::vector<Listening>& out,
                                      tcp::endpoint& bound);

  std::shared_ptr<ProxyState> state_;
  std::vector<std::unique_ptr<Worker>> workers_;
  mutable std::mutex endpoint_mutex_;
  tcp::endpoint endpoint_;
  // Prepared by prepare_rebind, consumed by finish_rebind (both on the reloader thread).
  std::vector<Listening> pending_;
  tcp::endpoint pending_endpoint_;
  std::string unix_path_;
  // The socket file this process made (device, inode): removed at stop only if still it.
  std::pair<unsigned long, unsigned long> unix_file_{0, 0};
};

/// The listen endpoint for `address`: an IP literal as is, a name through the resolver.
std::optional<std::string> resolve_endpoint(const config::Endpoint& address, tcp::endpoint& out);

/// `host:port` as logs and errors name an endpoint, an IPv6 host in brackets.
std::string describe(const tcp::endpoint& at);

}  // namespace switchyard::proxy
