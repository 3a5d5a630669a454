#include "proxy/server.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <functional>

#include "proxy/admin_server.hpp"
#include "proxy/catalog_watch.hpp"
#include "proxy/config_watch.hpp"
#include "proxy/cpu_budget.hpp"
#include "proxy/listeners.hpp"
#include "proxy/logging.hpp"
#include "proxy/reloader.hpp"

namespace switchyard::proxy {
namespace {

// Applies what a reload changes outside the snapshot: the listen and admin addresses, and the
// log level and format. Runs on the reloader's thread; the main thread touches `admin` only
// after the reloader stopped.
class AddressChanges : public ReloadParticipant {
 public:
  AddressChanges(Listeners& listeners, std::unique_ptr<AdminServer>& admin,
                 std::function<std::unique_ptr<AdminServer>()> make_admin,
                 const LogOverrides& log_overrides)
      : listeners_(listeners),
        admin_(admin),
        make_admin_(std::move(make_admin)),
        log_overrides_(log_overrides) {}

  std::vector<std::string> prepare(const Snapshot& current, const Snapshot& next) override {
    std::vector<std::string> errors;
    const auto& before = *current.config;
    const auto& after = *next.config;
    rebinding_ = false;
    if (before.listen.address != after.listen.address) {
      if (auto error = listeners_.prepare_rebind(after.listen.address)) {
        errors.push_back("[listen] address: " + *error);
      } else {
        rebinding_ = true;
      }
    }
    next_admin_.reset();
    if (after.admin && (!before.admin || before.admin->address != after.admin->address)) {
      next_admin_ = make_admin_();
      if (auto error = next_admin_->start(after.admin->address)) {
        errors.push_back("[admin] address: " + *error);
      }
    }
    // The socket's name carries the port it was made with: a rebind does not move it.
    if (before.listen.unix_socket_directory != after.listen.unix_socket_directory ||
        (!listeners_.unix_path().empty() &&
         before.listen.address.port != after.listen.address.port)) {
      spdlog::warn("event=restart_needed key=listen.unix_socket_directory running={} configured={}",
                   log_value(listeners_.unix_path()),
                   log_value(after.listen.unix_socket_directory));
    }
    if (before.runtime.threads != after.runtime.threads) {
      spdlog::warn("event=restart_needed key=runtime.threads running={} configured={}",
                   before.runtime.threads, after.runtime.threads);
    }
    if (before.runtime.scheduling != after.runtime.scheduling) {
      spdlog::warn("event=restart_needed key=runtime.scheduling running={} configured={}",
                   config::to_string(before.runtime.scheduling),
                   config::to_string(after.runtime.scheduling));
    }
    return errors;
  }

  void finish(const Snapshot& current, const Snapshot& next, bool committed) override {
    if (rebinding_) {
      listeners_.finish_rebind(committed);
      if (committed) {
        spdlog::info("event=listen_rebound address={} was={}", describe(listeners_.endpoint()),
                     current.config->listen.address.to_string());
      }
    }
    rebinding_ = false;
    if (!committed) {
      next_admin_.reset();
      return;
    }
    apply_log_changes(current.config->log, next.config->log, log_overrides_);
    if (!next.config->admin) {
      if (admin_) {
        admin_->stop();
        admin_.reset();
        spdlog::info("event=admin_stopped reason={}", log_value("[admin] removed"));
      }
    } else if (next_admin_) {
      if (admin_) {
        admin_->stop();
      }
      admin_ = std::move(next_admin_);
      spdlog::info("event=admin_listening address={}", describe(admin_->local_endpoint()));
    }
  }

 private:
  Listeners& listeners_;
  std::unique_ptr<AdminServer>& admin_;
  std::function<std::unique_ptr<AdminServer>()> make_admin_;
  const LogOverrides& log_overrides_;
  bool rebinding_ = false;
  std::unique_ptr<AdminServer> next_admin_;
};

}  // namespace

Server::Server(std::filesystem::path config_path, std::shared_ptr<ProxyState> state,
               std::string loaded_text, LogOverrides log_overrides)
    : config_path_(std::move(config_path)),
      state_(std::move(state)),
      loaded_text_(std::move(loaded_text)),
      log_overrides_(std::move(log_overrides)) {}

int Server::run() {
  auto snapshot = state_->snapshot();
  const auto& config = *snapshot->config;
  unsigned threads = config.runtime.threads;
  if (threads == 0) {
    const CpuBudget budget = cpu_budget();
    threads = budget.threads();
    spdlog::info(
        "event=threads_chosen threads={} cpus_online={} cpus_allowed={} cgroup_cpu_limit={}",
        threads, budget.online, budget.allowed,
        budget.quota ? fmt::format("{:.2f}", *budget.quota) : std::string("none"));
  }

  // Signals are caught from here on: a SIGTERM sent as soon as the port accepts must drain,
  // not kill the process with the default action.
  net::io_context main_context;
  net::signal_set signals(main_context, SIGTERM, SIGINT, SIGHUP);

  Listeners listeners(state_, threads);
  if (auto error = listeners.bind(config.listen.address)) {
    spdlog::critical("event=listen_failed error={}", log_value(*error));
    return 1;
  }
  if (!config.listen.unix_socket_directory.empty()) {
    if (auto error = listeners.bind_unix(config.listen.unix_socket_directory)) {
      spdlog::critical("event=listen_failed error={}", log_value(*error));
      return 1;
    }
  }

  Reloader reloader(config_path_, state_, {}, std::move(loaded_text_));
  auto make_admin = [&] {
    return std::make_unique<AdminServer>(state_, [&reloader] { return reloader.last(); });
  };
  std::unique_ptr<AdminServer> admin;
  if (config.admin) {
    admin = make_admin();
    if (auto error = admin->start(config.admin->address)) {
      spdlog::critical("event=admin_failed error={}", log_value(*error));
      return 1;
    }
  }
  AddressChanges address_changes(listeners, admin, make_admin, log_overrides_);
  reloader.set_participant(&address_changes);
  state_->set_rebuilder(&reloader);
  CatalogWatch catalog_watch(state_);
  catalog_watch.start();

  ConfigWatch watch(config_path_,
                    [&reloader] { reloader.request(std::string(kFileChangeTrigger)); });
  if (auto error = watch.start()) {
    spdlog::warn("event=config_watch_unavailable error={} reload={}", log_value(*error),
                 log_value("SIGHUP only"));
  }

  listeners.start();
  spdlog::info(
      "event=listening address={}{} upstream={} threads={} scheduling={} generation={} tls={}",
      describe(listeners.endpoint()),
      listeners.unix_path().empty() ? "" : " unix_socket=" + log_value(listeners.unix_path()),
      config.upstream.address.to_string(), threads, config::to_string(config.runtime.scheduling),
      snapshot->generation, snapshot->client_tls ? "on" : "off");
  if (admin) {
    spdlog::info("event=admin_listening address={}", describe(admin->local_endpoint()));
  }

  bool draining = false;
  bool closing = false;  // the drain timeout passed: the sessions left are being closed
  steady_timer drain_poll(main_context);
  std::chrono::steady_clock::time_point drain_deadline;

  std::function<void()> poll_drain = [&] {
    auto active = state_->metrics.connections_active();
    const auto now = std::chrono::steady_clock::now();
    if (active > 0 && now >= drain_deadline && !closing) {
      // Each session tells its client why and cancels what it still runs; a bounded wait
      // lets them do it before the workers stop.
      spdlog::warn("event=drain_timeout sessions_closed={}", active);
      closing = true;
      state_->sessions.close_all();
      drain_deadline = now + std::chrono::seconds(2);
    } else if (active <= 0 || now >= drain_deadline) {
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
        // The reload blocks on the catalog: it runs on the reloader's thread, never here.
        reloader.request("SIGHUP");
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
      spdlog::info("event=draining sessions={} timeout_ms={}", state_->metrics.connections_active(),
                   drain_timeout.count());
      listeners.close();
      state_->start_draining();
      drain_deadline = std::chrono::steady_clock::now() + drain_timeout;
      poll_drain();
      wait_signal();
    });
  };
  wait_signal();
  main_context.run();

  // The watches feed the reloader, and the reloader uses the listeners and the admin server.
  catalog_watch.stop();
  watch.stop();
  reloader.stop();
  state_->set_rebuilder(nullptr);
  if (admin) {
    admin->stop();
  }
  listeners.stop();
  spdlog::info("event=stopped");
  return 0;
}

}  // namespace switchyard::proxy
