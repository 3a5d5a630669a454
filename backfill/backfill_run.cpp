#include <algorithm>
#include <filesystem>
#include <iostream>

#include "backfill/fill_direction.hpp"
#include "backfill/fill_history.hpp"
#include "backfill/flag_watch.hpp"
#include "backfill/interrupt.hpp"
#include "backfill/old_transactions.hpp"
#include "backfill/progress_store.hpp"
#include "backfill/proxy_census.hpp"
#include "backfill/reporter.hpp"
#include "backfill/runs.hpp"
#include "backfill/table_info.hpp"
#include "backfill/walker.hpp"
#include "config/values.hpp"

namespace switchyard::backfill {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Batches never shrink below this: one-row batches would only add round trips.
constexpr long long kMinBatch = 10;
// Consecutive transient failures (lock/statement timeouts, deadlocks) before giving up.
constexpr int kMaxRetries = 20;
// Tries for the per-migration advisory lock, 250 ms apart.
constexpr int kLockAttempts = 20;

std::string ms_text(Clock::duration d) {
  return std::to_string(std::chrono::duration_cast<milliseconds>(d).count()) + "ms";
}

// Outcome of one batch transaction.
struct BatchResult {
  bool finished = false;  // nothing left after the lower key
  Chunk chunk;
  long long updated = 0;
};

class Backfill {
 public:
  Backfill(const Options& options, const config::Config& config, const config::Migration& migration,
           PgConnection& connection, const TableSpec& spec)
      : options_(options),
        config_(config),
        migration_(migration),
        connection_(connection),
        spec_(spec),
        flags_(options.config_path, migration, spec.fill) {}

  int run();

 private:
  int run_locked();
  int dry_run();
  int count_pending(Reporter& reporter);
  std::variant<BatchResult, DbError> batch(long long size);
  int fail_on_row(const DbError& error);
  bool wait_for_replicas(Reporter& reporter);
  void warn_of_old_transactions(Reporter& reporter);
  void rollback() { connection_.exec("ROLLBACK"); }

  const Options& options_;
  const config::Config& config_;
  const config::Migration& migration_;
  PgConnection& connection_;
  const TableSpec& spec_;
  FlagWatch flags_;
  std::optional<Key> lower_;
  std::optional<Key> failed_upper_;  // the range of the UPDATE that failed, if it was one
  Clock::time_point last_lag_check_{};
};

void Backfill::warn_of_old_transactions(Reporter& reporter) {
  const std::string& written =
      spec_.fill == Direction::to_old ? spec_.new_column : spec_.old_column;
  const std::string consequence =
      "a session keeps the flags its transaction began under until it ends: what they write to " +
      written +
      " from now on is left behind by this backfill. Wait for them to end before backfilling, or "
      "run switchyard verify (and backfill --restart) after";
  // The proxy counts its own sessions exactly; the file's mtime is the save time only when
  // nothing kept an older one (cp -p, rsync -t, tar).
  std::string unasked = "the config has no [admin] address to ask the proxy";
  if (config_.admin) {
    static constexpr std::chrono::seconds kAskTimeout{2};
    auto asked = ask_sessions_on_old_generation(config_.admin->address, kAskTimeout);
    if (const auto* answer = std::get_if<ProxyAnswer>(&asked)) {
      // The same answer tells whether the proxy runs this file at all (h16 #8).
      if (auto other = runs_other_config(answer->reply, migration_)) {
        reporter.event("warn", "backfill_proxy_config_differs", {{"meaning", *other}});
      }
      if (const std::uint64_t count = answer->sessions_on_old_generation; count > 0) {
        reporter.event(
            "warn", "backfill_old_transactions",
            {{"sessions_on_old_generation", std::to_string(count)},
             {"meaning", "the proxy at its [admin] address counts " + std::to_string(count) +
                             " session(s) inside a transaction begun under other "
                             "flags than its running config's; " +
                             consequence}});
      }
      return;
    }
    unasked = "the proxy's [admin] endpoint did not answer (" + std::get<std::string>(asked) + ")";
  }
  std::error_code error;
  const auto saved = std::filesystem::last_write_time(options_.config_path, error);
  if (error) {
    return;
  }
  auto found = transactions_begun_before(connection_, std::chrono::file_clock::to_sys(saved));
  const auto* old = std::get_if<std::vector<OldTransaction>>(&found);
  if (old == nullptr || old->empty()) {
    return;  // advice only: a failed look does not stop the backfill
  }
  reporter.event(
      "warn", "backfill_old_transactions",
      {{"transactions", describe(*old)},
       {"meaning",
        "these transactions began before the config file's mtime, taken as the "
        "time it was saved (" +
            unasked + "; a file copied with its mtime kept hides them), and " + consequence}});
}

std::optional<std::string> explain(PgConnection& connection, const std::string& sql) {
  auto result = connection.exec("EXPLAIN " + sql);
  if (auto* error = std::get_if<DbError>(&result)) {
    return error->message;
  }
  return std::nullopt;
}

int Backfill::run() {
  // Type and syntax errors of the transform show up here, before any row is touched.
  if (auto error = explain(connection_, backfill_update_sql(spec_, {}))) {
    // Placed at the transform's line, as the loader places its errors.
    const std::string key =
        config_.key_of(migration_) + (migration_.to_new.empty() ? "" : ".to_new");
    std::cerr << "switchyard backfill: "
              << config::format_error(
                     config_.error_at(key, "the transform of migration \"" + migration_.name +
                                               "\" does not apply to " + spec_.schema + "." +
                                               spec_.table + ": " + *error))
              << "\n  statement: " << backfill_update_sql(spec_, {}) << "\n";
    return kExitFailed;
  }
  if (options_.dry_run) {
    return dry_run();
  }
  if (auto error = ensure_schema(connection_)) {
    std::cerr << "switchyard backfill: " << *error << "\n";
    return kExitFailed;
  }
  // Two backfills of one migration would walk the same rows twice; the lock is the
  // session's, so a crash releases it with the connection. Right after a crash the old
  // backend may still be finishing its statement, so wait a little before giving up.
  bool have_lock = false;
  for (int attempt = 0; attempt < kLockAttempts && !have_lock; ++attempt) {
    if (attempt > 0 && !pause_for(milliseconds(250))) {
      return kExitInterrupted;
    }
    auto locked = connection_.exec(
        "SELECT pg_try_advisory_lock(hashtext('switchyard backfill'), hashtext($1))",
        {migration_.name});
    if (auto* error = std::get_if<DbError>(&locked)) {
      std::cerr << "switchyard backfill: " << error->message << "\n";
      return kExitFailed;
    }
    have_lock = std::get<PgResult>(locked).text(0, 0) == "t";
  }
  if (!have_lock) {
    // The holder is a server session: after a kill -9 it may outlive its process for a while
    // (a statement waiting on a lock), so name it.
    auto holder = connection_.exec(
        "SELECT string_agg(pid::text, ', ') FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND objsubid = 2 AND classid = (hashtext('switchyard backfill')::bigint & 4294967295)"
        "::oid AND objid = (hashtext($1)::bigint & 4294967295)::oid AND database = (SELECT oid"
        " FROM pg_database WHERE datname = current_database())",
        {migration_.name});
    const auto* rows = std::get_if<PgResult>(&holder);
    const std::string pids = rows && !rows->is_null(0, 0) ? rows->text(0, 0) : "";
    std::cerr << "switchyard backfill: another backfill of migration \"" << migration_.name
              << "\" is running against this database";
    if (!pids.empty()) {
      std::cerr << " (server pid " << pids
                << "; if no backfill runs any more, its statement is still finishing: wait, "
                   "or SELECT pg_terminate_backend(pid))";
    }
    std::cerr << "; wait for it or stop it first\n";
    return kExitFailed;
  }
  const int code = run_locked();
  // Released by hand as well: behind a pooler the server session outlives this process, and a
  // lock left on it would refuse every later backfill of the migration.
  connection_.exec("SELECT pg_advisory_unlock(hashtext('switchyard backfill'), hashtext($1))",
                   {migration_.name});
  return code;
}

int Backfill::run_locked() {
  auto loaded = load_progress(connection_, migration_.name);
  if (auto* error = std::get_if<std::string>(&loaded)) {
    std::cerr << "switchyard backfill: " << *error << "\n";
    return kExitFailed;
  }
  auto& saved = std::get<std::optional<Progress>>(loaded);
  long long walked_before = 0;
  long long updated_before = 0;
  Reporter early("backfill", migration_.name, ProgressStyle::log, options_.log_interval,
                 std::nullopt, 0);
  const bool same = saved && same_work(saved->fingerprint, spec_);
  auto history = load_flag_history(connection_, migration_.name);
  if (auto* error = std::get_if<std::string>(&history)) {
    std::cerr << "switchyard backfill: " << *error << "\n";
    return kExitFailed;
  }
  std::optional<SavedRun> run;
  if (saved) {
    TableSpec back = spec_;
    back.fill = Direction::to_old;
    run = SavedRun{same, same_work(saved->fingerprint, back), saved->state, saved->started_epoch,
                   saved->finished_epoch};
  }
  const FillPlan plan =
      plan_fill(spec_.fill, options_.restart, run, std::get<FlagHistory>(history),
                " --config " + options_.config_path + " --migration " + migration_.name);
  if (plan.start == FillStart::refuse) {
    std::cerr << "switchyard backfill: migration \"" << migration_.name << "\": " << plan.reason
              << "\n";
    return kExitFailed;
  }
  if (plan.start == FillStart::finished) {
    std::cout << "backfill of migration \"" << migration_.name << "\" already finished at "
              << saved->finished_at << " (" << saved->rows_walked << " rows walked, "
              << saved->rows_updated << " updated). Rows written since then through writes = "
              << "\"both\" are kept in step; rows written meanwhile under writes = \"old\" (or "
              << "\"new\", for a to-old walk) are not (verify finds them): --restart walks the "
              << "table again.\n";
    return kExitOk;
  }
  if (plan.start == FillStart::fresh) {
    if (saved && !same && !options_.restart) {
      early.event("warn", "backfill_restart",
                  {{"reason",
                    "table, column, key, transform or direction changed since the saved progress"},
                   {"saved", saved->fingerprint}});
    } else if (!plan.reason.empty()) {
      early.event("warn", "backfill_restart", {{"reason", plan.reason}});
    }
    if (auto error = reset_progress(connection_, migration_.name, spec_)) {
      std::cerr << "switchyard backfill: saving progress failed: " << *error << "\n";
      return kExitFailed;
    }
  } else {
    lower_ = saved->last_key;
    walked_before = saved->rows_walked;
    updated_before = saved->rows_updated;
    if (auto error = mark_running(connection_, migration_.name)) {
      std::cerr << "switchyard backfill: saving progress failed: " << *error << "\n";
      return kExitFailed;
    }
    if (lower_) {
      early.event("info", "backfill_resume",
                  {{"after_key", format_key(spec_, *lower_)},
                   {"rows_walked", std::to_string(walked_before)}});
    }
  }

  Reporter reporter("backfill", migration_.name, options_.progress, options_.log_interval,
                    estimate_rows(connection_, spec_), walked_before);
  warn_of_old_transactions(reporter);
  reporter.event("info", "backfill_start",
                 {{"table", spec_.schema + "." + spec_.table},
                  {"key", key_names(spec_)},
                  {"fills", spec_.fill == Direction::to_old ? spec_.old_column : spec_.new_column},
                  {"batch_size", std::to_string(options_.batch_size)}});
  const long long max_batch = options_.batch_size;
  const long long min_batch = std::min(kMinBatch, max_batch);
  long long size = max_batch;
  long long walked = 0;
  long long updated = 0;
  int retries = 0;
  while (true) {
    if (interrupted()) {
      reporter.event("warn", "backfill_interrupted",
                     {{"rows_walked", std::to_string(walked_before + walked)},
                      {"hint", "progress is saved; rerun the same command to resume"}});
      return kExitInterrupted;
    }
    if (!wait_for_replicas(reporter)) {
      continue;  // interrupted while paused: reported at the top of the loop
    }
    if (auto reason = flags_.check()) {
      if (flags_.writes_new()) {
        record_writes_new_seen(connection_, migration_.name);  // best effort, like the stop
      }
      reporter.event("error", "backfill_stopped",
                     {{"error", *reason},
                      {"rows_walked", std::to_string(walked_before + walked)},
                      {"hint", "progress is saved; rerun once the flags allow this direction"}});
      return kExitFailed;
    }
    const auto started = Clock::now();
    auto outcome = batch(size);
    const auto took = Clock::now() - started;
    if (auto* error = std::get_if<DbError>(&outcome)) {
      rollback();
      if (error->connection_lost()) {
        std::string message = "connection lost: " + error->message;
        reporter.event("error", "backfill_failed",
                       {{"error", message}, {"hint", "rerun the same command to resume"}});
        return kExitFailed;
      }
      if (!error->transient()) {
        return fail_on_row(*error);
      }
      if (++retries > kMaxRetries) {
        std::string message = "gave up after " + std::to_string(kMaxRetries) +
                              " retries of one batch: " + error->message;
        mark_failed(connection_, migration_.name, message);
        reporter.event("error", "backfill_failed", {{"error", message}});
        return kExitFailed;
      }
      // Waiting on a lock or running too long: give the database room, then try smaller.
      size = std::max(min_batch, size / 2);
      const auto backoff = milliseconds(std::min<long long>(5000, 100LL << std::min(retries, 6)));
      reporter.event("warn", "backfill_retry",
                     {{"sqlstate", error->sqlstate},
                      {"error", error->message},
                      {"batch_size", std::to_string(size)},
                      {"pause", ms_text(backoff)}});
      pause_for(backoff);
      continue;
    }
    auto& result = std::get<BatchResult>(outcome);
    if (result.finished) {
      break;
    }
    retries = 0;
    lower_ = result.chunk.last;
    walked += result.chunk.rows;
    updated += result.updated;
    reporter.update(walked, updated, size);

    // Adapt: halve a batch that ran long (and rest as long as it took), grow a quick one.
    const auto target = options_.target_batch_time;
    if (took > 2 * target && size > min_batch) {
      size = std::max(min_batch, size / 2);
      reporter.event("info", "backfill_slow_batch",
                     {{"took", ms_text(took)}, {"batch_size", std::to_string(size)}});
      pause_for(std::chrono::duration_cast<milliseconds>(took));
    } else if (took < target / 2 && size < max_batch) {
      size = std::min(max_batch, size * 2);
    }
    auto rest = options_.sleep;
    if (options_.max_rate) {
      // The batch may take as long as its rows are allowed at the rate; sleep the remainder.
      auto allowed = std::chrono::duration<double>(result.chunk.rows / *options_.max_rate);
      auto owed = std::chrono::duration_cast<milliseconds>(allowed - took);
      rest = std::max(rest, owed);
    }
    if (rest > milliseconds(0)) {
      pause_for(rest);
    }
  }
  if (auto error = mark_done(connection_, migration_.name)) {
    std::cerr << "switchyard backfill: recording completion failed: " << *error << "\n";
    return kExitFailed;
  }
  reporter.event(
      "info", "backfill_done",
      {{"rows_walked", std::to_string(walked_before + walked)},
       {"rows_updated", std::to_string(updated_before + updated)},
       {"this_run_rows_per_s", std::to_string(static_cast<long long>(reporter.rate()))},
       {"next", "switchyard verify --config " + options_.config_path + " --migration " +
                    migration_.name +
                    (options_.key_index.empty() ? "" : " --key-index " + options_.key_index)}});
  return kExitOk;
}

std::variant<BatchResult, DbError> Backfill::batch(long long size) {
  auto begun = connection_.exec(begin_batch_sql(options_.lock_timeout, options_.statement_timeout));
  if (auto* error = std::get_if<DbError>(&begun)) {
    return *error;
  }
  auto found = next_chunk(connection_, spec_, lower_, size);
  if (auto* error = std::get_if<DbError>(&found)) {
    return *error;
  }
  BatchResult result;
  auto& chunk = std::get<std::optional<Chunk>>(found);
  if (!chunk) {
    connection_.exec("COMMIT");
    result.finished = true;
    return result;
  }
  result.chunk = *chunk;
  failed_upper_.reset();
  auto updated = connection_.exec(backfill_update_sql(spec_, shape_of(lower_, chunk->last)),
                                  range_params(lower_, chunk->last));
  if (auto* error = std::get_if<DbError>(&updated)) {
    failed_upper_ = chunk->last;  // fail_on_row searches this range for the row
    return *error;
  }
  result.updated = std::get<PgResult>(updated).affected();
  auto recorded = connection_.exec(record_batch_sql(),
                                   {migration_.name, text_array_literal(chunk->last),
                                    std::to_string(chunk->rows), std::to_string(result.updated)});
  if (auto* error = std::get_if<DbError>(&recorded)) {
    return *error;
  }
  auto committed = connection_.exec("COMMIT");
  if (auto* error = std::get_if<DbError>(&committed)) {
    return *error;
  }
  return result;
}

int Backfill::fail_on_row(const DbError& error) {
  std::string where = lower_ ? "after key " + format_key(spec_, *lower_) : "from the first row";
  std::string message;
  if (failed_upper_) {
    auto attempt = [&](const std::optional<Key>& lower,
                       const Key& upper) -> std::optional<DbError> {
      auto begun =
          connection_.exec(begin_batch_sql(options_.lock_timeout, options_.statement_timeout));
      if (auto* e = std::get_if<DbError>(&begun)) {
        rollback();
        return *e;
      }
      auto tried = connection_.exec(backfill_update_sql(spec_, shape_of(lower, upper)),
                                    range_params(lower, upper));
      rollback();  // only looking: the real batch runs again on the next attempt
      if (auto* e = std::get_if<DbError>(&tried)) {
        return *e;
      }
      return std::nullopt;
    };
    if (auto row = find_failing_row(connection_, spec_, lower_, *failed_upper_, attempt)) {
      message = "row " + format_key(spec_, row->key) + ": " + row->error.message + " (SQLSTATE " +
                row->error.sqlstate + ")";
    }
  }
  if (message.empty()) {
    message = "batch " + where + ": " + error.message +
              (error.sqlstate.empty() ? "" : " (SQLSTATE " + error.sqlstate + ")");
  }
  mark_failed(connection_, migration_.name, message);
  std::cerr << "switchyard backfill: migration \"" << migration_.name << "\" failed on "
            << spec_.schema << "." << spec_.table << ", " << message
            << "\n  Nothing was skipped: the batches before it are committed and recorded. Fix "
               "the row or the transform, then rerun the same command to resume.\n";
  return kExitFailed;
}

bool Backfill::wait_for_replicas(Reporter& reporter) {
  if (options_.max_lag.count() == 0) {
    return true;
  }
  const auto now = Clock::now();
  if (now - last_lag_check_ < std::chrono::seconds(1)) {
    return true;
  }
  last_lag_check_ = now;
  bool paused = false;
  while (true) {
    // Without pg_monitor the lag columns read NULL: nothing to wait for that we can see.
    auto result = connection_.exec(
        "SELECT coalesce(max(extract(epoch FROM greatest(write_lag, flush_lag, replay_lag))),"
        " 0)::float8 FROM pg_catalog.pg_stat_replication");
    if (std::holds_alternative<DbError>(result)) {
      return true;
    }
    const double lag = std::stod(std::get<PgResult>(result).text(0, 0));
    if (lag * 1000.0 <= static_cast<double>(options_.max_lag.count())) {
      if (paused) {
        reporter.event("info", "backfill_resumed", {{"replica_lag_s", std::to_string(lag)}});
      }
      return true;
    }
    if (!paused) {
      reporter.event("warn", "backfill_paused",
                     {{"reason", "replica lag"},
                      {"replica_lag_s", std::to_string(lag)},
                      {"max_lag", config::format_duration(options_.max_lag)}});
      paused = true;
    }
    if (!pause_for(std::chrono::seconds(1))) {
      return false;
    }
  }
}

int Backfill::dry_run() {
  auto estimate = estimate_rows(connection_, spec_);
  std::cout << "dry run of migration \"" << migration_.name << "\": nothing will be written\n"
            << "  table:   " << spec_.schema << "." << spec_.table << " (" << spec_.old_column
            << " -> " << spec_.new_column << ")\n"
            << "  key:     " << key_names(spec_) << "\n"
            << "  rows:    ~" << (estimate ? std::to_string(*estimate) : "unknown") << "\n"
            << "  batch:   " << begin_batch_sql(options_.lock_timeout, options_.statement_timeout)
            << ";\n           " << next_chunk_sql(spec_, true) << ";\n           "
            << backfill_update_sql(spec_, {true, true}) << ";\n           "
            << "(progress row updated in the same transaction); COMMIT\n";
  if (auto exists = schema_exists(connection_);
      std::holds_alternative<bool>(exists) && std::get<bool>(exists)) {
    auto loaded = load_progress(connection_, migration_.name);
    if (auto* saved = std::get_if<std::optional<Progress>>(&loaded); saved && *saved) {
      std::cout << "  saved:   " << (*saved)->state << ", " << (*saved)->rows_walked
                << " rows walked, " << (*saved)->rows_updated << " updated"
                << (same_work((*saved)->fingerprint, spec_)
                        ? ""
                        : " (for a different table/key/transform: a run would start over)")
                << "\n";
    }
  }
  // Count what a run would update; this also evaluates to_new on every row.
  Reporter reporter("backfill", migration_.name, options_.progress, options_.log_interval, estimate,
                    0);
  // A dry run is how a run is rehearsed: it warns of what the run would warn of.
  warn_of_old_transactions(reporter);
  // Session-wide, so that the failing row's search below runs under it too; reset on every
  // path, since behind a pooler the server session goes on to serve other clients.
  connection_.exec("SET statement_timeout = '" +
                   std::to_string(options_.statement_timeout.count()) + "ms'");
  const int code = count_pending(reporter);
  connection_.exec("RESET statement_timeout");
  return code;
}

int Backfill::count_pending(Reporter& reporter) {
  std::optional<Key> lower;
  long long walked = 0;
  long long pending = 0;
  while (!interrupted()) {
    auto found = next_chunk(connection_, spec_, lower, options_.batch_size);
    if (auto* error = std::get_if<DbError>(&found)) {
      std::cerr << "switchyard backfill: " << error->message << "\n";
      return kExitFailed;
    }
    auto& chunk = std::get<std::optional<Chunk>>(found);
    if (!chunk) {
      std::cout << "  pending: " << pending << " of " << walked
                << " rows would be updated (the columns disagree both ways)\n";
      return kExitOk;
    }
    auto counted = connection_.exec(pending_count_sql(spec_, shape_of(lower, chunk->last)),
                                    range_params(lower, chunk->last));
    if (auto* error = std::get_if<DbError>(&counted)) {
      auto attempt = [&](const std::optional<Key>& lo, const Key& up) -> std::optional<DbError> {
        auto r = connection_.exec(pending_count_sql(spec_, shape_of(lo, up)), range_params(lo, up));
        if (auto* e = std::get_if<DbError>(&r)) {
          return *e;
        }
        return std::nullopt;
      };
      auto row = find_failing_row(connection_, spec_, lower, chunk->last, attempt);
      std::cerr << "switchyard backfill: the transform fails on "
                << (row ? "row " + format_key(spec_, row->key) + ": " + row->error.message
                        : "a row after " + (lower ? format_key(spec_, *lower) : "the start") +
                              ": " + error->message)
                << "\n";
      return kExitFailed;
    }
    walked += chunk->rows;
    pending += std::stoll(std::get<PgResult>(counted).text(0, 0));
    lower = chunk->last;
    reporter.update(walked, pending, options_.batch_size);
  }
  return kExitInterrupted;
}

}  // namespace

int run_backfill(const Options& options, const config::Config& config,
                 const config::Migration& migration, PgConnection& connection,
                 const TableSpec& spec) {
  catch_interrupts();
  const FillChoice choice = choose_fill(options.fill, migration.writes, migration.reads);
  if (migration.writes == config::Writes::new_column) {
    // Later runs must know the old column went stale (fill_history.hpp). Best effort: before
    // the first backfill there is no table to note it in, and nothing to protect yet.
    record_writes_new_seen(connection, migration.name);
  }
  if (!choice.error.empty()) {
    std::cerr << "switchyard backfill: migration \"" << migration.name << "\": " << choice.error
              << "\n";
    return kExitFailed;
  }
  if (!choice.warning.empty()) {
    std::cerr << "switchyard backfill: warning: " << choice.warning << "\n";
  }
  TableSpec filled = spec;
  filled.fill = choice.fill;
  Backfill backfill(options, config, migration, connection, filled);
  return backfill.run();
}

}  // namespace switchyard::backfill
