#include "proxy/listeners.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

#include "proxy/logging.hpp"
#include "proxy/session.hpp"

namespace switchyard::proxy {
namespace {

using reuse_port = net::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

std::string describe(const tcp::endpoint& at) {
  auto host = at.address().to_string();
  return (at.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(at.port());
}

std::optional<std::string> open_acceptor(net::io_context& context, const tcp::endpoint& at,
                                         std::shared_ptr<tcp_acceptor>& out) {
  auto acceptor = std::make_shared<tcp_acceptor>(context);
  error_code ec;
  acceptor->open(at.protocol(), ec);
  if (!ec) {
    acceptor->set_option(tcp_acceptor::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor->set_option(reuse_port(true), ec);
  }
  if (!ec) {
    acceptor->bind(at, ec);
  }
  if (!ec) {
    acceptor->listen(net::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return "cannot listen on " + describe(at) + ": " + ec.message();
  }
  out = std::move(acceptor);
  return std::nullopt;
}

// Holds the acceptor by shared_ptr: a rebind closes and drops it while this loop still has to
// resume once with operation_aborted.
awaitable<void> accept_loop(std::shared_ptr<tcp_acceptor> acceptor,
                            std::shared_ptr<ProxyState> state) {
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
    net::co_spawn(acceptor->get_executor(), run_session(std::move(socket), state), net::detached);
  }
}

void close_quietly(tcp_acceptor& acceptor) {
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
    workers_.push_back(std::make_unique<Worker>());
  }
}

Listeners::~Listeners() { stop(); }

std::optional<std::string> Listeners::open_all(const config::Endpoint& address,
                                               std::vector<std::shared_ptr<tcp_acceptor>>& out,
                                               tcp::endpoint& bound) {
  tcp::endpoint endpoint;
  if (auto error = resolve_endpoint(address, endpoint)) {
    return error;
  }
  out.clear();
  for (auto& worker : workers_) {
    std::shared_ptr<tcp_acceptor> acceptor;
    if (auto error = open_acceptor(worker->context, endpoint, acceptor)) {
      for (auto& opened : out) {
        close_quietly(*opened);
      }
      out.clear();
      return error;
    }
    if (out.empty()) {
      // Port 0: the first acceptor's port is the one every thread shares.
      error_code ec;
      endpoint = acceptor->local_endpoint(ec);
    }
    out.push_back(std::move(acceptor));
  }
  bound = endpoint;
  return std::nullopt;
}

std::optional<std::string> Listeners::bind(const config::Endpoint& address) {
  std::vector<std::shared_ptr<tcp_acceptor>> acceptors;
  tcp::endpoint bound;
  if (auto error = open_all(address, acceptors, bound)) {
    return error;
  }
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    workers_[i]->acceptor = std::move(acceptors[i]);
  }
  std::lock_guard lock(endpoint_mutex_);
  endpoint_ = bound;
  return std::nullopt;
}

void Listeners::start() {
  for (auto& worker : workers_) {
    net::co_spawn(worker->context, accept_loop(worker->acceptor, state_), net::detached);
    worker->thread = std::thread([&context = worker->context] { context.run(); });
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
    net::post(worker.context, [this, &worker, next = std::move(pending_[i]), commit] {
      if (!commit || worker.closed) {
        close_quietly(*next);
        return;
      }
      if (worker.acceptor) {
        close_quietly(*worker.acceptor);
      }
      worker.acceptor = next;
      net::co_spawn(worker.context, accept_loop(next, state_), net::detached);
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
    net::post(worker->context, [&worker = *worker] {
      worker.closed = true;
      if (worker.acceptor) {
        close_quietly(*worker.acceptor);
      }
    });
  }
}

void Listeners::stop() {
  for (auto& worker : workers_) {
    worker->context.stop();
  }
  for (auto& worker : workers_) {
    if (worker->thread.joinable()) {
      worker->thread.join();
    }
  }
}

}  // namespace switchyard::proxy
