#include "proxy/server.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

#include "proxy/logging.hpp"
#include "proxy/session.hpp"
#include "proxy/snapshot_builder.hpp"

namespace switchyard::proxy {
namespace {

using reuse_port = net::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

struct Worker {
  net::io_context context{1};
  std::unique_ptr<tcp::acceptor> acceptor;
  std::thread thread;
};

std::variant<tcp::endpoint, std::string> resolve_listen(const config::Endpoint& address) {
  error_code ec;
  auto ip = net::ip::make_address(address.host, ec);
  if (!ec) {
    return tcp::endpoint(ip, address.port);
  }
  net::io_context io;
  tcp::resolver resolver(io);
  auto results = resolver.resolve(address.host, std::to_string(address.port), ec);
  if (ec || results.empty()) {
    return "cannot resolve listen address " + address.to_string() + ": " + ec.message();
  }
  return results.begin()->endpoint();
}

std::variant<std::unique_ptr<tcp::acceptor>, std::string> open_acceptor(net::io_context& context,
                                                                        const tcp::endpoint& at) {
  auto acceptor = std::make_unique<tcp::acceptor>(context);
  error_code ec;
  acceptor->open(at.protocol(), ec);
  if (!ec) {
    acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
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
    return "cannot listen on " + at.address().to_string() + ":" + std::to_string(at.port()) + ": " +
           ec.message();
  }
  return acceptor;
}

net::awaitable<void> accept_loop(tcp::acceptor& acceptor, std::shared_ptr<ProxyState> state) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(use_nothrow);
    if (ec == net::error::operation_aborted || !acceptor.is_open()) {
      co_return;
    }
    if (ec) {
      // Out of file descriptors and the like: log, back off briefly, keep serving.
      spdlog::error("event=accept_failed error={}", log_value(ec.message()));
      net::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(use_nothrow);
      continue;
    }
    net::co_spawn(acceptor.get_executor(), run_session(std::move(socket), state), net::detached);
  }
}

}  // namespace

Server::Server(std::filesystem::path config_path, std::shared_ptr<ProxyState> state)
    : config_path_(std::move(config_path)), state_(std::move(state)) {}

int Server::run() {
  auto snapshot = state_->snapshot();
  const auto& config = *snapshot->config;
  unsigned threads = config.runtime.threads;
  if (threads == 0) {
    threads = std::max(1u, std::thread::hardware_concurrency());
  }
  auto where = resolve_listen(config.listen.address);
  if (auto* error = std::get_if<std::string>(&where)) {
    spdlog::critical("event=listen_failed error={}", log_value(*error));
    return 1;
  }
  const auto endpoint = std::get<tcp::endpoint>(where);

  std::vector<std::unique_ptr<Worker>> workers;
  for (unsigned i = 0; i < threads; ++i) {
    auto worker = std::make_unique<Worker>();
    auto acceptor = open_acceptor(worker->context, endpoint);
    if (auto* error = std::get_if<std::string>(&acceptor)) {
      spdlog::critical("event=listen_failed error={}", log_value(*error));
      return 1;
    }
    worker->acceptor = std::move(std::get<std::unique_ptr<tcp::acceptor>>(acceptor));
    workers.push_back(std::move(worker));
  }
  for (auto& worker : workers) {
    net::co_spawn(worker->context, accept_loop(*worker->acceptor, state_), net::detached);
    worker->thread = std::thread([&context = worker->context] { context.run(); });
  }
  spdlog::info("event=listening address={} upstream={} threads={} generation={} tls={}",
               config.listen.address.to_string(), config.upstream.address.to_string(), threads,
               snapshot->generation, snapshot->client_tls ? "on" : "off");

  net::io_context main_context;
  net::signal_set signals(main_context, SIGTERM, SIGINT, SIGHUP);
  bool draining = false;
  net::steady_timer drain_poll(main_context);
  std::chrono::steady_clock::time_point drain_deadline;

  std::function<void()> poll_drain = [&] {
    auto active = state_->metrics.connections_active.load();
    if (active <= 0 || std::chrono::steady_clock::now() >= drain_deadline) {
      if (active > 0) {
        spdlog::warn("event=drain_timeout sessions_closed={}", active);
      }
      main_context.stop();
      return;
    }
    drain_poll.expires_after(std::chrono::milliseconds(20));
    drain_poll.async_wait([&](error_code ec) {
      if (!ec) {
        poll_drain();
      }
    });
  };

  std::function<void()> wait_signal = [&] {
    signals.async_wait([&](error_code ec, int signal) {
      if (ec) {
        return;
      }
      if (signal == SIGHUP) {
        auto loaded = config::load_config(config_path_);
        if (!loaded.ok()) {
          state_->metrics.reloads_failed.fetch_add(1, std::memory_order_relaxed);
          for (const auto& error : loaded.errors) {
            spdlog::error("event=reload_failed error={}", log_value(config::format_error(error)));
          }
        } else {
          auto next = state_->snapshot()->generation + 1;
          auto built = build_snapshot(std::move(*loaded.config), next);
          if (auto* errors = std::get_if<std::vector<std::string>>(&built)) {
            state_->metrics.reloads_failed.fetch_add(1, std::memory_order_relaxed);
            for (const auto& error : *errors) {
              spdlog::error("event=reload_failed error={}", log_value(error));
            }
          } else {
            state_->publish(std::get<std::shared_ptr<const Snapshot>>(built));
            state_->metrics.reloads_ok.fetch_add(1, std::memory_order_relaxed);
            spdlog::info("event=config_reloaded generation={}", next);
          }
        }
        wait_signal();
        return;
      }
      if (draining) {
        spdlog::warn("event=shutdown_now reason={}", log_value("second signal while draining"));
        main_context.stop();
        return;
      }
      draining = true;
      auto drain_timeout = state_->snapshot()->config->timeouts.drain;
      spdlog::info("event=draining sessions={} timeout_ms={}",
                   state_->metrics.connections_active.load(), drain_timeout.count());
      for (auto& worker : workers) {
        net::post(worker->context, [&acceptor = *worker->acceptor] {
          error_code ignored;
          acceptor.close(ignored);
        });
      }
      state_->start_draining();
      drain_deadline = std::chrono::steady_clock::now() + drain_timeout;
      poll_drain();
      wait_signal();
    });
  };
  wait_signal();
  main_context.run();

  for (auto& worker : workers) {
    worker->context.stop();
  }
  for (auto& worker : workers) {
    worker->thread.join();
  }
  spdlog::info("event=stopped");
  return 0;
}

}  // namespace switchyard::proxy
