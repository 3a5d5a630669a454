#include "proxy/reloader.hpp"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "config/changes.hpp"
#include "proxy/logging.hpp"
#include "proxy/snapshot_builder.hpp"
#include "proxy/thread_name.hpp"

namespace switchyard::proxy {
std::string_view to_string(ReloadStatus::Result result) {
  switch (result) {
    case ReloadStatus::Result::ok:
      return "ok";
    case ReloadStatus::Result::failed:
      return "failed";
    case ReloadStatus::Result::none:
      break;
  }
  return "none";
}

Reloader::Reloader(std::filesystem::path config_path, std::shared_ptr<ProxyState> state,
                   Build build, std::optional<std::string> loaded_text,
                   std::chrono::milliseconds first_retry)
    : config_path_(std::move(config_path)),
      state_(std::move(state)),
      build_(
          build ? std::move(build) : Build([this](config::Config config, std::uint64_t generation) {
            BuildOptions options;
            options.unreachable_hint =
                "the running config stays until a retry reaches the database";
            options.previous = state_->snapshot();
            bool unreachable = false;
            bool missing_database = false;
            options.unreachable = &unreachable;
            options.missing_database = &missing_database;
            auto built = build_snapshot(std::move(config), generation, std::move(options));
            if (auto* errors = std::get_if<std::vector<std::string>>(&built)) {
              if (unreachable || missing_database) {
                // A database down beside one missing: the faster retries of the one down.
                return BuildResult(Unreachable{std::move(*errors), !unreachable});
              }
              return BuildResult(std::move(*errors));
            }
            return BuildResult(std::get<std::shared_ptr<const Snapshot>>(std::move(built)));
          })),
      last_read_(std::move(loaded_text)),
      first_retry_(first_retry),
      retry_delay_(first_retry) {
  if (auto current = state_->snapshot()) {
    last_.generation = current->generation;
  }
  worker_ = std::thread([this] { worker_loop(); });
  name_thread(worker_, "sy-reloader");
}

Reloader::~Reloader() { stop(); }

void Reloader::set_participant(ReloadParticipant* participant) { participant_ = participant; }

void Reloader::stop() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_changed_.notify_all();
  if (worker_.joinable()) {
    worker_.join();
  }
}

std::uint64_t Reloader::request(std::string trigger) {
  std::uint64_t ticket = 0;
  {
    std::lock_guard lock(queue_mutex_);
    if (stopping_) {
      return 0;
    }
    // Merged: one reload reads the file as it is then, which covers every queued request.
    if (std::find(queued_triggers_.begin(), queued_triggers_.end(), trigger) ==
        queued_triggers_.end()) {
      queued_triggers_.push_back(std::move(trigger));
    }
    ticket = ++requested_;
  }
  queue_changed_.notify_all();
  return ticket;
}

bool Reloader::wait_served(std::uint64_t ticket, std::chrono::milliseconds timeout) {
  std::unique_lock lock(queue_mutex_);
  return queue_changed_.wait_for(lock, timeout, [&] { return stopping_ || served_ >= ticket; }) &&
         served_ >= ticket;
}

void Reloader::catalog_recovered() {
  {
    std::lock_guard lock(queue_mutex_);
    if (!retry_due_) {
      return;
    }
    retry_due_ = std::chrono::steady_clock::now();
  }
  queue_changed_.notify_all();
}

void Reloader::worker_loop() {
  std::unique_lock lock(queue_mutex_);
  for (;;) {
    const auto retry_is_due = [this] {
      return retry_due_ && *retry_due_ <= std::chrono::steady_clock::now();
    };
    // catalog_recovered() may move the retry earlier: the predicate sees it when notified.
    const auto woken = [&] { return stopping_ || !queued_triggers_.empty() || retry_is_due(); };
    if (retry_due_) {
      queue_changed_.wait_until(lock, *retry_due_, woken);
    } else {
      queue_changed_.wait(lock, woken);
    }
    if (stopping_) {
      return;
    }
    if (queued_triggers_.empty()) {
      if (!retry_is_due()) {
        continue;
      }
      queued_triggers_.emplace_back(kRetryTrigger);
    }
    std::string trigger;
    for (const auto& t : queued_triggers_) {
      trigger += (trigger.empty() ? "" : "+") + t;
    }
    queued_triggers_.clear();
    const std::uint64_t serving = requested_;
    lock.unlock();
    reload(trigger);
    lock.lock();
    served_ = serving;
    queue_changed_.notify_all();
  }
}

ReloadStatus Reloader::last() const {
  std::lock_guard lock(status_mutex_);
  return last_;
}

std::uint64_t Reloader::completed() const {
  std::lock_guard lock(status_mutex_);
  return completed_;
}

std::vector<std::string> active_migrations_removed(const config::Config& before,
                                                   const config::Config& after) {
  std::vector<std::string> out;
  for (const auto& m : before.migrations) {
    const bool kept = std::any_of(after.migrations.begin(), after.migrations.end(),
                                  [&](const config::Migration& n) { return n.name == m.name; });
    if (!kept && (m.writes != config::Writes::old_column || m.reads != config::Reads::old_column)) {
      out.push_back(m.name);
    }
  }
  return out;
}

std::vector<std::string> stale_old_column_reads(const config::Config& before,
                                                const config::Config& after) {
  std::vector<std::string> out;
  for (const auto& m : after.migrations) {
    if (m.reads != config::Reads::old_column) {
      continue;
    }
    const auto was = std::find_if(before.migrations.begin(), before.migrations.end(),
                                  [&](const config::Migration& b) { return b.name == m.name; });
    if (was != before.migrations.end() && was->writes == config::Writes::new_column) {
      out.push_back("migration \"" + m.name +
                    "\": reads = \"old\" in the same save that ends writes = \"new\": reads now "
                    "come from the old column, stale (what was written meanwhile is in the new "
                    "column only). Unless this is an emergency rollback, save writes = \"both\" "
                    "with reads = \"new\", run switchyard backfill --direction to-old and "
                    "switchyard verify, then reads = \"old\"");
    }
  }
  return out;
}

bool old_column_dropped(const Snapshot& snapshot, const config::Migration& m) {
  if (!snapshot.config) {
    return false;
  }
  const DatabaseRewrite* database = snapshot.for_database(snapshot.config->effective_database(m));
  if (database == nullptr) {
    return false;
  }
  for (const auto& relation : database->mapped_relations) {
    if (relation.name.schema == m.schema && relation.name.table == m.table) {
      const auto& columns = relation.columns;
      return std::find(columns.begin(), columns.end(), m.old_column) == columns.end() &&
             std::find(columns.begin(), columns.end(), m.new_column) != columns.end();
    }
  }
  return false;
}

namespace {

// The first twelve hex digits of the SHA-256 of the bytes a reload read, so that whoever
// changed the file can tell that this version is the one in force (`sha256sum FILE`), and a
// reload that read an earlier version is not taken for it.
std::string digest_of(const std::optional<std::string>& text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  std::size_t length = 0;
  if (!text ||
      EVP_Q_digest(nullptr, "SHA256", nullptr, text->data(), text->size(), md, &length) != 1) {
    return "none";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < 6 && i < length; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xf];
  }
  return out;
}

}  // namespace

void Reloader::schedule_retry(ReloadStatus& status, bool unreachable, bool missing_database,
                              bool quiet) {
  std::chrono::milliseconds delay{};
  {
    std::lock_guard lock(queue_mutex_);
    if (!unreachable && !missing_database) {
      // Done, or refused for the file's own content: that waits for the next save or SIGHUP.
      retry_due_.reset();
      retry_delay_ = first_retry_;
      return;
    }
    if (missing_database) {
      delay = kMissingDatabaseRetry;
    } else {
      delay = retry_delay_;
      retry_delay_ = std::min(retry_delay_ * 2, kMaxRetryDelay);
    }
    retry_due_ = std::chrono::steady_clock::now() + delay;
  }
  status.retry_at = status.time + delay;
  spdlog::log(
      quiet ? spdlog::level::debug : spdlog::level::warn,
      "event=reload_retry trigger={} in_ms={} reason={}", log_value(status.trigger), delay.count(),
      log_value(missing_database ? "a database the config names does not exist (see the errors); "
                                   "the file is loaded again then, at once on SIGHUP, or "
                                   "when the catalog check finds the database"
                                 : "the catalog could not be reached or read (see the errors); the "
                                   "file is loaded again then, or at once when the catalog check "
                                   "finds the database back"));
}

ReloadStatus Reloader::reload(std::string_view trigger) {
  std::lock_guard serial(reload_mutex_);
  // The file is read once and those bytes are loaded, so that "unchanged" below means
  // unchanged since what is in force (or was refused), whatever happened in between.
  auto loaded = config::load_config(config_path_);
  if (trigger == kFileChangeTrigger && loaded.source_text && loaded.source_text == last_read_) {
    spdlog::debug("event=reload_skipped trigger={} reason=file_unchanged", log_value(trigger));
    std::lock_guard lock(status_mutex_);
    return last_;
  }
  last_read_ = loaded.source_text;
  const auto current = state_->snapshot();
  const std::uint64_t current_generation = current ? current->generation : 0;

  ReloadStatus status;
  status.trigger = std::string(trigger);
  status.time = std::chrono::system_clock::now();
  status.generation = current_generation;
  {
    std::lock_guard lock(status_mutex_);
    status.last_success = last_.last_success;
  }

  bool unreachable = false;
  bool missing_database = false;
  std::vector<std::string> removed_active;
  std::vector<std::string> stale_reads;
  if (!loaded.ok()) {
    for (const auto& error : loaded.errors) {
      status.errors.push_back(config::format_error(error));
    }
  } else {
    const std::uint64_t ddl_epoch = state_->ddl_epoch();
    auto built = build_(*loaded.config, current_generation + 1);
    auto* errors = std::get_if<std::vector<std::string>>(&built);
    if (auto* failed = std::get_if<Unreachable>(&built)) {
      unreachable = !failed->missing_database;
      missing_database = failed->missing_database;
      errors = &failed->errors;
    }
    if (errors != nullptr) {
      // The build's errors name the file themselves, with the line and key where known.
      status.errors.insert(status.errors.end(), errors->begin(), errors->end());
    } else {
      auto next = std::get<std::shared_ptr<const Snapshot>>(std::move(built));
      if (participant_ != nullptr && current) {
        for (auto& error : participant_->prepare(*current, *next)) {
          status.errors.push_back(config_path_.string() + ": " + std::move(error));
        }
      }
      if (status.errors.empty()) {
        if (current && current->config) {
          status.changes = config::describe_changes(*current->config, *next->config);
          removed_active = active_migrations_removed(*current->config, *next->config);
          stale_reads = stale_old_column_reads(*current->config, *next->config);
        }
        status.result = ReloadStatus::Result::ok;
        status.generation = next->generation;
        status.last_success = status.time;
        // Published and recorded as one step: whoever sees the new generation and then asks
        // for the last reload (/config) finds this one, not the one before.
        std::lock_guard lock(status_mutex_);
        state_->publish(next);
        state_->forget_if_ddl_since(ddl_epoch, *next);
        last_ = status;
        state_->metrics.shared().reloads_ok.fetch_add(1, std::memory_order_relaxed);
      }
      if (participant_ != nullptr && current) {
        participant_->finish(*current, *next, status.result == ReloadStatus::Result::ok);
      }
    }
  }

  if (status.result == ReloadStatus::Result::ok) {
    spdlog::info("event=config_reloaded trigger={} generation={} changes={} file_sha256={}",
                 log_value(status.trigger), status.generation, status.changes.size(),
                 digest_of(loaded.source_text));
    for (const auto& change : status.changes) {
      spdlog::info("event=config_change generation={} change={}", status.generation,
                   log_value(change));
    }
    // Taken, not refused: it is also the on-call's emergency way back from a broken new
    // column, losing what was written meanwhile until a to-old backfill restores it.
    for (const auto& warning : stale_reads) {
      spdlog::warn("event=stale_old_column_read generation={} meaning={}", status.generation,
                   log_value(warning));
    }
    for (const auto& name : removed_active) {
      const auto& before = current->config->migrations;
      const auto m = std::find_if(before.begin(), before.end(),
                                  [&](const config::Migration& b) { return b.name == name; });
      if (m != before.end() && old_column_dropped(*current, *m)) {
        spdlog::info("event=migration_removed generation={} migration={} meaning={}",
                     status.generation, log_value(name),
                     log_value("its old column is already dropped: runbook step 8 is complete"));
        continue;
      }
      spdlog::warn(
          "event=active_migration_removed generation={} migration={} meaning={}", status.generation,
          log_value(name),
          log_value("it wrote or read the new column and no longer does: rows written from now "
                    "on leave the new column behind, and reads come from the old one. If the "
                    "file was not meant to lose it (a half-written or truncated save), restore "
                    "it and run switchyard backfill again"));
    }
    if (auto adopted = state_->snapshot()) {
      log_warnings(*adopted);
    }
  }
  // A database that does not exist is said once: its retries, failing alike, at debug.
  bool quiet = false;
  if (status.result != ReloadStatus::Result::ok) {
    status.result = ReloadStatus::Result::failed;
    {
      std::lock_guard lock(status_mutex_);
      quiet = missing_database && trigger == kRetryTrigger && last_.errors == status.errors;
    }
    const auto level = quiet ? spdlog::level::debug : spdlog::level::err;
    for (const auto& error : status.errors) {
      spdlog::log(level, "event=reload_failed trigger={} error={}", log_value(status.trigger),
                  log_value(error));
    }
    spdlog::log(level, "event=reload_rejected trigger={} errors={} generation_kept={}",
                log_value(status.trigger), status.errors.size(), status.generation);
  }
  schedule_retry(status, unreachable, missing_database, quiet);

  std::lock_guard lock(status_mutex_);
  last_ = status;
  ++completed_;
  if (status.result == ReloadStatus::Result::failed) {
    // Counted with its record, retry time and all, as a success is: whoever sees the count
    // finds the failure on /config.
    state_->metrics.shared().reloads_failed.fetch_add(1, std::memory_order_relaxed);
  }
  return status;
}

}  // namespace switchyard::proxy
