#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "config/config.hpp"
#include "proxy/proxy_state.hpp"

namespace switchyard::proxy {

/// The trigger the config file watch uses; a reload it asks for is skipped when the file
/// reads as it did at the previous reload.
inline constexpr std::string_view kFileChangeTrigger = "file change";

/// The trigger of a reload tried again because the last one could not reach the catalog.
inline constexpr std::string_view kRetryTrigger = "retry";

/// What the last reload did, for logs, /config and /metrics.
struct ReloadStatus {
  enum class Result { none, ok, failed };
  Result result = Result::none;
  std::string trigger;  ///< "SIGHUP", kFileChangeTrigger, ...
  std::chrono::system_clock::time_point time{};
  /// The generation running after the attempt (unchanged by a failure).
  std::uint64_t generation = 0;
  /// A failure's reasons: "file:line:col: key: message" for config errors, the file and the
  /// section or migration for errors found while building the snapshot.
  std::vector<std::string> errors;
  /// A success's differences from the previous config (config::describe_changes).
  std::vector<std::string> changes;
  /// Time of the last successful reload; epoch when none happened.
  std::chrono::system_clock::time_point last_success{};
  /// When a failure that was not the file's (the catalog unreachable) is tried again; epoch
  /// when nothing is pending.
  std::chrono::system_clock::time_point retry_at{};
};

/// "none", "ok", "failed".
std::string_view to_string(ReloadStatus::Result result);

/// The names of the migrations in `before` but not in `after` whose flags were not both
/// "old": the proxy wrote or read their new column and stops at once, which leaves rows written
/// from then on with the new column behind. It is also what a config file read half-written
/// looks like, so a reload warns about each.
std::vector<std::string> active_migrations_removed(const config::Config& before,
                                                   const config::Config& after);

/// One warning per migration that `before` ran with writes = "new" and `after` reads from the
/// old column: that column is stale (rows written meanwhile are in the new one only), so the
/// save serves old values. The way back goes through writes = "both" with reads = "new" and a
/// to-old backfill first.
std::vector<std::string> stale_old_column_reads(const config::Config& before,
                                                const config::Config& after);

/// Whether `snapshot` saw migration `m`'s table without its old column but with the new one:
/// removing `m` then ends the runbook (step 8), with nothing left to write or read the old way.
bool old_column_dropped(const Snapshot& snapshot, const config::Migration& m);

/// Lets the server apply the parts of a new config that live outside the snapshot (listening
/// sockets, the admin endpoint). Called on the reloader's thread.
class ReloadParticipant {
 public:
  virtual ~ReloadParticipant() = default;
  /// Prepares what `next` needs (e.g. binds its new listen address). Errors veto the reload:
  /// the running config stays.
  virtual std::vector<std::string> prepare(const Snapshot& current, const Snapshot& next) = 0;
  /// After prepare: `committed` says whether `next` was published (switch to what prepare
  /// made) or not (drop it).
  virtual void finish(const Snapshot& current, const Snapshot& next, bool committed) = 0;
};

/// The one reload procedure, used by SIGHUP and the file watch: load and validate the file,
/// build the next snapshot (which blocks on the catalog, so never call reload() on a session
/// thread), let the participant prepare, then publish; or keep the running config, log every
/// error and count the failure. Reloads are serialised.
class Reloader : public Rebuilder {
 public:
  /// A build that failed because the catalog could not be reached or read: the file may be
  /// right, so the reload is tried again (with backoff, and at once when the catalog check
  /// recovers) until it works or fails for another reason.
  /// With `missing_database`, the server answered but has no database of a name the config
  /// gives (3D000): a config error, said once and tried again only every
  /// kMissingDatabaseRetry, so that creating the database is picked up without a tight loop.
  struct Unreachable {
    std::vector<std::string> errors;
    bool missing_database = false;
  };
  using BuildResult =
      std::variant<std::shared_ptr<const Snapshot>, std::vector<std::string>, Unreachable>;
  /// Errors as the operator reads them, each naming the file (build_snapshot's do).
  using Build = std::function<BuildResult(config::Config config, std::uint64_t generation)>;

  /// The pace of the retries of a build refused for a missing database: the slowest of the
  /// ramp of an unreachable catalog, from the first retry on.
  static constexpr std::chrono::milliseconds kMissingDatabaseRetry{30000};

  /// `build` defaults to build_snapshot() with the catalog. `loaded_text`: the bytes the
  /// running config was loaded from, so that a file event that changes nothing after start
  /// does not reload.
  /// `first_retry`: the wait before the first retry of an unreachable catalog; it doubles per
  /// failed retry up to kMaxRetryDelay.
  Reloader(std::filesystem::path config_path, std::shared_ptr<ProxyState> state, Build build = {},
           std::optional<std::string> loaded_text = std::nullopt,
           std::chrono::milliseconds first_retry = std::chrono::seconds(1));
  ~Reloader();
  Reloader(const Reloader&) = delete;
  Reloader& operator=(const Reloader&) = delete;

  /// Set before the first reload; not owned.
  void set_participant(ReloadParticipant* participant);

  /// Reloads now, on the calling thread, and returns the outcome.
  ReloadStatus reload(std::string_view trigger);

  /// Queues a reload on the reloader's own thread and returns at once (safe from a signal
  /// handler's completion or the file watch). Requests that arrive while one is still queued
  /// are merged into it; one that arrives during a reload runs after it. Returns the request's
  /// ticket for wait_served() (0 once stopped).
  std::uint64_t request(std::string trigger) override;

  /// Blocks until a reload that began after request `ticket` has finished (ok or failed), the
  /// reloader stops, or `timeout` passes; true in the first case. Not on a session's worker.
  bool wait_served(std::uint64_t ticket, std::chrono::milliseconds timeout) override;

  /// Tries a pending retry now instead of at its backoff time (the catalog answers again).
  void catalog_recovered() override;

  /// The last reload's outcome (result none before the first).
  ReloadStatus last() const;

  /// Number of reloads finished (ok or failed); for bounded waits in tests.
  std::uint64_t completed() const;

  /// Stops the background thread after the reload in progress, if any. Idempotent.
  void stop();

 private:
  static constexpr std::chrono::milliseconds kMaxRetryDelay{30000};

  void worker_loop();
  // After a reload: a failure to reach the catalog is tried again later (status.retry_at says
  // when), a missing database at kMissingDatabaseRetry; anything else ends a pending retry.
  // `quiet`: a retry failing as the one before, logged at debug.
  void schedule_retry(ReloadStatus& status, bool unreachable, bool missing_database, bool quiet);

  const std::filesystem::path config_path_;
  const std::shared_ptr<ProxyState> state_;
  const Build build_;
  ReloadParticipant* participant_ = nullptr;

  std::mutex reload_mutex_;  // one reload at a time
  // The bytes the last reload read and loaded (or that were refused): a file event that
  // changed nothing since (a second event for one save, a `touch`, or a watch that fires after
  // the SIGHUP already reloaded) is not reloaded again, so one edit logs one outcome.
  std::optional<std::string> last_read_;
  mutable std::mutex status_mutex_;
  ReloadStatus last_;
  std::uint64_t completed_ = 0;

  std::mutex queue_mutex_;
  std::condition_variable queue_changed_;
  std::vector<std::string> queued_triggers_;
  std::uint64_t requested_ = 0;  // tickets handed out
  std::uint64_t served_ = 0;     // every ticket up to this one has had its reload
  // A reload that could not reach the catalog is tried again at retry_due_ (nullopt: none
  // pending); the delay doubles while it keeps failing so.
  std::optional<std::chrono::steady_clock::time_point> retry_due_;
  const std::chrono::milliseconds first_retry_;
  std::chrono::milliseconds retry_delay_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace switchyard::proxy
