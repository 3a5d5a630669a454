#include "proxy/listeners.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "proxy/logging.hpp"
#include "proxy/session.hpp"
#include "proxy/thread_name.hpp"
#include "proxy/thread_policy.hpp"

namespace switchyard::proxy {
namespace {

using reuse_port = net::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

// Binds with a scratch io_context on the calling thread; the socket is then handed over as a
// descriptor, since a worker's own context may be touched only by its thread.
std::optional<std::string> open_listening(const tcp::endpoint& at, int& fd, tcp::endpoint& local) {
  net::io_context scratch;
  tcp::acceptor acceptor(scratch);
  error_code ec;
  acceptor.open(at.protocol(), ec);
  if (!ec) {
    acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor.set_option(reuse_port(true), ec);
  }
  if (!ec) {
    acceptor.bind(at, ec);
  }
  if (!ec) {
    acceptor.listen(net::socket_base::max_listen_connections, ec);
  }
  if (!ec) {
    local = acceptor.local_endpoint(ec);
  }
  if (!ec) {
    fd = acceptor.release(ec);
  }
  if (ec) {
    return "cannot listen on " + describe(at) + ": " + ec.message();
  }
  return std::nullopt;
}

// A session for a connection accepted from a unix socket. The relay is written against
// tcp_socket, and what it does with one (recv, sendmsg, epoll, shutdown) works the same on a unix
// socket's descriptor, as for a unix upstream (upstream_connect.cpp).
void spawn_session(net::local::stream_protocol::socket::rebind_executor<executor>::other socket,
                   const std::shared_ptr<ProxyState>& state, WorkerInbox& inbox, Metrics& metrics) {
  const executor where = socket.get_executor();
  error_code ec;
  const int fd = socket.release(ec);
  if (ec) {
    return;
  }
  tcp_socket relay(where);
  relay.assign(tcp::v6(), fd, ec);
  if (ec) {
    ::close(fd);
    spdlog::error("event=accept_failed error={}", log_value("unix socket: " + ec.message()));
    return;
  }
  net::co_spawn(where,
                run_session(std::move(relay), state, inbox, metrics, ClientTransport::unix_socket),
                net::detached);
}

void spawn_session(tcp_socket socket, const std::shared_ptr<ProxyState>& state, WorkerInbox& inbox,
                   Metrics& metrics) {
  const executor where = socket.get_executor();
  net::co_spawn(where, run_session(std::move(socket), state, inbox, metrics, ClientTransport::tcp),
                net::detached);
}

// Holds the acceptor by shared_ptr: a rebind closes and drops it while this loop still has to
// resume once with operation_aborted.
template <class Acceptor>
awaitable<void> accept_loop(std::shared_ptr<Acceptor> acceptor, std::shared_ptr<ProxyState> state,
                            WorkerInbox& inbox, Metrics& metrics) {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(use_nothrow);
    if (ec == net::error::operation_aborted || !acceptor->is_open()) {
      co_return;
    }
    if (ec) {
      // Out of file descriptors and the like: log, back off briefly, keep serving.
      spdlog::error("event=accept_failed error={}", log_value(ec.message()));
      steady_timer pause(acceptor->get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(use_nothrow);
      continue;
    }
    spawn_session(std::move(socket), state, inbox, metrics);
  }
}

// A socket file outlives the process that made it: one nobody answers on is stale and goes.
std::optional<std::string> clear_stale_socket(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return std::nullopt;
    }
    return "cannot use " + path + ": " + std::strerror(errno);
  }
  if (!S_ISSOCK(st.st_mode)) {
    return path + " exists and is not a socket: remove it or choose another " +
           "[listen] unix_socket_directory";
  }
  net::io_context scratch;
  net::local::stream_protocol::socket probe(scratch);
  error_code ec;
  probe.connect(net::local::stream_protocol::endpoint(path), ec);
  if (!ec) {
    return "another server is listening on " + path;
  }
  if (ec != net::error::connection_refused) {
    return "cannot use " + path + ": " + ec.message();
  }
  if (::unlink(path.c_str()) != 0) {
    return "cannot remove the stale socket " + path + ": " + std::strerror(errno);
  }
  spdlog::info("event=stale_socket_removed path={}", log_value(path));
  return std::nullopt;
}

template <class Acceptor>
void close_quietly(Acceptor& acceptor) {
  error_code ignored;
  acceptor.close(ignored);
}

}  // namespace

std::optional<std::string> resolve_endpoint(const config::Endpoint& address, tcp::endpoint& out) {
  error_code ec;
  auto ip = net::ip::make_address(address.host, ec);
  if (!ec) {
    out = tcp::endpoint(ip, address.port);
    return std::nullopt;
  }
  net::io_context io;
  tcp_resolver resolver(io);
  auto results = resolver.resolve(address.host, std::to_string(address.port), ec);
  if (ec || results.empty()) {
    return "cannot resolve listen address " + address.to_string() + ": " + ec.message();
  }
  out = results.begin()->endpoint();
  return std::nullopt;
}

Listeners::Listeners(std::shared_ptr<ProxyState> state, unsigned threads)
    : state_(std::move(state)) {
  for (unsigned i = 0; i < std::max(1u, threads); ++i) {
    workers_.push_back(std::make_unique<Worker>(state_->metrics.worker(i)));
  }
}

Listeners::~Listeners() { stop(); }

Listeners::Listening::~Listening() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

std::shared_ptr<tcp_acceptor> Listeners::Listening::adopt(net::io_context& context) {
  auto acceptor = std::make_shared<tcp_acceptor>(context);
  error_code ec;
  acceptor->assign(protocol_, std::exchange(fd_, -1), ec);
  if (ec) {
    // Only when the reactor cannot register one more descriptor; the worker keeps what it had.
    spdlog::error("event=listen_failed error={}",
                  log_value("cannot take over a listening socket: " + ec.message()));
    return nullptr;
  }
  return acceptor;
}

std::optional<std::string> Listeners::open_all(const config::Endpoint& address,
                                               std::vector<Listening>& out, tcp::endpoint& bound) {
  tcp::endpoint endpoint;
  if (auto error = resolve_endpoint(address, endpoint)) {
    return error;
  }
  out.clear();
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    int fd = -1;
    tcp::endpoint local;
    if (auto error = open_listening(endpoint, fd, local)) {
      out.clear();
      return error;
    }
    out.emplace_back(endpoint.protocol(), fd);
    // Port 0: the first socket's port is the one every thread shares.
    endpoint = local;
  }
  bound = endpoint;
  return std::nullopt;
}

std::optional<std::string> Listeners::bind(const config::Endpoint& address) {
  std::vector<Listening> listening;
  tcp::endpoint bound;
  if (auto error = open_all(address, listening, bound)) {
    return error;
  }
  // Before start(): no worker thread runs yet, so this thread may use their contexts.
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    workers_[i]->acceptor = listening[i].adopt(workers_[i]->context);
    if (!workers_[i]->acceptor) {
      return "cannot listen on " + address.to_string() + ": no acceptor for a worker thread";
    }
  }
  std::lock_guard lock(endpoint_mutex_);
  endpoint_ = bound;
  return std::nullopt;
}

std::optional<std::string> Listeners::bind_unix(const std::string& directory) {
  const std::string path = directory + "/.s.PGSQL." + std::to_string(endpoint().port());
  if (auto error = clear_stale_socket(path)) {
    return error;
  }
  net::io_context scratch;
  net::local::stream_protocol::acceptor acceptor(scratch);
  error_code ec;
  acceptor.open(net::local::stream_protocol(), ec);
  if (!ec) {
    acceptor.bind(net::local::stream_protocol::endpoint(path), ec);
  }
  if (ec) {
    return "cannot listen on " + path + ": " + ec.message();
  }
  acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    ::unlink(path.c_str());  // made by the bind
    return "cannot listen on " + path + ": " + ec.message();
  }
  // Who may connect is the server's to decide (each client authenticates as itself), so the
  // socket is open to every local user, as Postgres' default unix_socket_permissions is.
  struct stat st {};
  if (::chmod(path.c_str(), 0777) != 0 || ::stat(path.c_str(), &st) != 0) {
    const std::string error = std::strerror(errno);
    ::unlink(path.c_str());
    return "cannot set the permissions of " + path + ": " + error;
  }
  unix_path_ = path;
  unix_file_ = {static_cast<unsigned long>(st.st_dev), static_cast<unsigned long>(st.st_ino)};
  const int fd = acceptor.release(ec);
  // Every worker accepts from its own descriptor of the one socket; the kernel hands each
  // connection to one of them.
  for (std::size_t i = 0; i < workers_.size() && !ec; ++i) {
    const int copy = i + 1 == workers_.size() ? fd : ::dup(fd);
    auto local = std::make_shared<unix_acceptor>(workers_[i]->context);
    if (copy < 0) {
      ec = error_code(errno, boost::system::system_category());
      break;
    }
    local->assign(net::local::stream_protocol(), copy, ec);
    if (ec) {
      ::close(copy);
      break;
    }
    workers_[i]->local_acceptor = std::move(local);
  }
  if (ec) {
    return "cannot listen on " + path + ": " + ec.message();
  }
  return std::nullopt;
}

void Listeners::start() {
  const auto scheduling = state_->snapshot()->config->runtime.scheduling;
  int refused = 0;
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    Worker& worker = *workers_[i];
    net::co_spawn(worker.context,
                  accept_loop(worker.acceptor, state_, worker.inbox, worker.metrics),
                  net::detached);
    if (worker.local_acceptor) {
      net::co_spawn(worker.context,
                    accept_loop(worker.local_acceptor, state_, worker.inbox, worker.metrics),
                    net::detached);
    }
    worker.thread = std::thread([&context = worker.context] { context.run(); });
    name_thread(worker.thread, "sy-worker-" + std::to_string(i));
    if (scheduling == config::WorkerScheduling::batch && refused == 0) {
      refused = use_batch_scheduling(worker.thread);
    }
  }
  if (refused != 0) {
    // The workers still run, under the normal policy: slower on a shared machine, not wrong.
    spdlog::warn("event=scheduling_refused key=runtime.scheduling wanted=batch error={}",
                 log_value(std::strerror(refused)));
  }
}

tcp::endpoint Listeners::endpoint() const {
  std::lock_guard lock(endpoint_mutex_);
  return endpoint_;
}

std::optional<std::string> Listeners::prepare_rebind(const config::Endpoint& address) {
  return open_all(address, pending_, pending_endpoint_);
}

void Listeners::finish_rebind(bool commit) {
  if (pending_.empty()) {
    return;
  }
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    Worker& worker = *workers_[i];
    // Not taken (abandoned, or the worker closed): the socket closes with the task.
    worker.inbox.post([this, &worker, next = std::move(pending_[i]), commit]() mutable {
      if (!commit || worker.closed) {
        return;
      }
      auto acceptor = next.adopt(worker.context);
      if (!acceptor) {
        return;
      }
      if (worker.acceptor) {
        close_quietly(*worker.acceptor);
      }
      worker.acceptor = acceptor;
      net::co_spawn(worker.context, accept_loop(acceptor, state_, worker.inbox, worker.metrics),
                    net::detached);
    });
  }
  pending_.clear();
  if (commit) {
    std::lock_guard lock(endpoint_mutex_);
    endpoint_ = pending_endpoint_;
  }
}

void Listeners::close() {
  for (auto& worker : workers_) {
    worker->inbox.post([&worker = *worker] {
      worker.closed = true;
      if (worker.acceptor) {
        close_quietly(*worker.acceptor);
      }
      if (worker.local_acceptor) {
        close_quietly(*worker.local_acceptor);
      }
    });
  }
}

void Listeners::stop() {
  for (auto& worker : workers_) {
    worker->inbox.post([&worker = *worker] {
      worker.inbox.close();
      worker.context.stop();
    });
  }
  for (auto& worker : workers_) {
    if (worker->thread.joinable()) {
      worker->thread.join();
    }
  }
  state_->blocking_pool.join();
  // Only the file this process made: another one may have taken the path since.
  struct stat st {};
  if (!unix_path_.empty() && ::lstat(unix_path_.c_str(), &st) == 0 &&
      std::pair<unsigned long, unsigned long>(st.st_dev, st.st_ino) == unix_file_) {
    ::unlink(unix_path_.c_str());
  }
  unix_path_.clear();
}

std::string describe(const tcp::endpoint& at) {
  auto host = at.address().to_string();
  return (at.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(at.port());
}

}  // namespace switchyard::proxy
