#pragma once

// Backfill progress and verify results, kept in the migration's own database (schema
// "switchyard") so that a crash or Ctrl-C resumes where it stopped, and so that `status`
// sees what happened from any machine.
//
// A batch's progress row is updated in the batch's own transaction: after a crash either
// both the batch and its progress are committed or neither is.

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "backfill/fill_history.hpp"
#include "backfill/pg_connection.hpp"
#include "backfill/sql.hpp"

namespace switchyard::backfill {

/// The schema and its two tables. Idempotent; the error says which privilege is missing.
std::optional<std::string> ensure_schema(PgConnection& connection);

/// Whether the schema's tables exist (status and dry runs never create them).
std::variant<bool, std::string> schema_exists(PgConnection& connection);

/// Identifies the work a progress row describes: when the table, columns (by name, and by
/// attnum once looked up: a column dropped and added again), transform or key change, earlier
/// progress no longer means anything and the walk restarts.
std::string fingerprint(const TableSpec& spec);

/// Whether `saved` (a fingerprint, then `suffix`) describes the work `spec` does. A fingerprint
/// an earlier version saved names no attnums; it still matches, as before.
bool same_work(const std::string& saved, const TableSpec& spec, const std::string& suffix = "");

/// One row of switchyard.backfill_progress.
struct Progress {
  std::string migration;
  std::string fingerprint;
  std::optional<std::vector<std::string>> last_key;  ///< nullopt: nothing done yet.
  long long rows_walked = 0;
  long long rows_updated = 0;
  long long batches = 0;
  std::string state;  ///< "running" | "done" | "failed"
  std::string last_error;
  std::string started_at;
  std::string updated_at;
  std::string finished_at;  ///< "" while not done.
  double finished_epoch = 0;
  double started_epoch = 0;
};

std::variant<std::optional<Progress>, std::string> load_progress(PgConnection& connection,
                                                                 const std::string& migration);

/// Starts over: a fresh "running" row (replacing any earlier one).
std::optional<std::string> reset_progress(PgConnection& connection, const std::string& migration,
                                          const TableSpec& spec);

/// Marks a resumed run as running again (clears a "failed" state).
std::optional<std::string> mark_running(PgConnection& connection, const std::string& migration);

/// The statement that records one batch; parameters: migration, last key (text[] literal),
/// rows walked, rows updated. Run it inside the batch's transaction.
std::string record_batch_sql();

/// Final states.
std::optional<std::string> mark_done(PgConnection& connection, const std::string& migration);
std::optional<std::string> mark_failed(PgConnection& connection, const std::string& migration,
                                       const std::string& error);

/// One row of switchyard.verify_runs.
struct VerifyRecord {
  std::string migration;
  std::string fingerprint;
  std::string direction;  ///< "both" | "to-new" | "to-old"
  long long rows_checked = 0;
  long long to_new_mismatches = 0;
  long long to_old_mismatches = 0;
  /// Rows that disagree either way; -1 when an earlier version ran the verify.
  long long either_mismatches = -1;
  bool agree = false;
  std::string sample_keys;  ///< "; "-separated, for people.
  std::string finished_at;
  double finished_epoch = 0;
  /// The migration's writes flag during the verify; "" when an earlier version ran it.
  std::string writes;
};

std::optional<std::string> record_verify(PgConnection& connection, const VerifyRecord& record);

/// The latest verify of a migration that checked something (not one under writes = "new"), if
/// any.
std::variant<std::optional<VerifyRecord>, std::string> load_last_verify(
    PgConnection& connection, const std::string& migration);

/// Notes that a command saw writes = "new" for the migration now (fill_history.hpp).
std::optional<std::string> record_writes_new_seen(PgConnection& connection,
                                                  const std::string& migration);

/// What the store says of the migration's flags. Needs switchyard.verify_runs; the sightings
/// table may be missing.
std::variant<FlagHistory, std::string> load_flag_history(PgConnection& connection,
                                                         const std::string& migration);

}  // namespace switchyard::backfill
