#include "backfill/progress_store.hpp"

namespace switchyard::backfill {
namespace {

// CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the schema exists, so the
// schema and each table are created only when missing: a user that owns them, made by a DBA,
// needs no more.
constexpr const char* kCreateSchema = "CREATE SCHEMA IF NOT EXISTS switchyard";
constexpr const char* kProgressTable =
    "CREATE TABLE IF NOT EXISTS switchyard.backfill_progress ("
    "  migration text PRIMARY KEY,"
    "  fingerprint text NOT NULL,"
    "  last_key text[],"
    "  rows_walked bigint NOT NULL DEFAULT 0,"
    "  rows_updated bigint NOT NULL DEFAULT 0,"
    "  batches bigint NOT NULL DEFAULT 0,"
    "  state text NOT NULL DEFAULT 'running',"
    "  last_error text,"
    "  started_at timestamptz NOT NULL DEFAULT now(),"
    "  updated_at timestamptz NOT NULL DEFAULT now(),"
    "  finished_at timestamptz)";
constexpr const char* kVerifyTable =
    "CREATE TABLE IF NOT EXISTS switchyard.verify_runs ("
    "  id bigserial PRIMARY KEY,"
    "  migration text NOT NULL,"
    "  fingerprint text NOT NULL,"
    "  direction text NOT NULL,"
    "  rows_checked bigint NOT NULL,"
    "  to_new_mismatches bigint NOT NULL,"
    "  to_old_mismatches bigint NOT NULL,"
    "  agree boolean NOT NULL,"
    "  sample_keys text,"
    "  finished_at timestamptz NOT NULL DEFAULT now())";
constexpr const char* kWritesNewTable =
    "CREATE TABLE IF NOT EXISTS switchyard.writes_new_seen ("
    "  migration text PRIMARY KEY,"
    "  last_seen timestamptz NOT NULL DEFAULT now())";

// The statements that create what is missing, or why the look-up failed.
std::variant<std::string, DbError> create_missing(PgConnection& connection) {
  auto found = connection.exec(
      "SELECT to_regnamespace('switchyard') IS NULL,"
      " to_regclass('switchyard.backfill_progress') IS NULL,"
      " to_regclass('switchyard.verify_runs') IS NULL,"
      " to_regclass('switchyard.writes_new_seen') IS NULL");
  if (auto* failed = std::get_if<DbError>(&found)) {
    return *failed;
  }
  const auto& rows = std::get<PgResult>(found);
  std::string sql;
  const char* statements[] = {kCreateSchema, kProgressTable, kVerifyTable, kWritesNewTable};
  for (int i = 0; i < 4; ++i) {
    if (rows.text(0, i) == "t") {
      sql += std::string(statements[i]) + "; ";
    }
  }
  return sql;
}

// Columns added since the first version, for tables it created. Only when missing: ALTER TABLE
// would otherwise wait for an exclusive lock on every run.
constexpr const char* kUpgrade =
    "DO $$ BEGIN"
    " IF NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = "
    "'switchyard.verify_runs'::regclass AND attname = 'writes' AND NOT attisdropped) THEN"
    " ALTER TABLE switchyard.verify_runs ADD COLUMN IF NOT EXISTS writes text,"
    " ADD COLUMN IF NOT EXISTS either_mismatches bigint; END IF;"
    " END $$";

std::optional<std::string> run(PgConnection& connection, const std::string& sql,
                               const std::vector<Param>& params) {
  auto result = connection.exec(sql, params);
  if (auto* error = std::get_if<DbError>(&result)) {
    return error->message;
  }
  return std::nullopt;
}

std::string timestamp(const PgResult& rows, int row, int column) {
  return rows.is_null(row, column) ? "" : rows.text(row, column);
}

}  // namespace

std::optional<std::string> ensure_schema(PgConnection& connection) {
  const auto attempt = [&]() -> std::variant<PgResult, DbError> {
    auto missing = create_missing(connection);
    if (auto* error = std::get_if<DbError>(&missing)) {
      return *error;
    }
    return connection.exec(std::get<std::string>(missing) + kUpgrade);
  };
  auto result = attempt();
  if (auto* error = std::get_if<DbError>(&result)) {
    // Two runs creating the schema at the same moment: the loser sees a duplicate; the
    // tables exist by now, so one retry settles it.
    if (error->sqlstate == "23505" || error->sqlstate == "42P07" || error->sqlstate == "42P06") {
      result = attempt();
      if (!std::holds_alternative<DbError>(result)) {
        return std::nullopt;
      }
      error = std::get_if<DbError>(&result);
    }
    std::string hint = error->sqlstate == "42501"
                           ? " (the [upstream] user needs CREATE on the database once, or a DBA "
                             "creates schema \"switchyard\" and its tables owned by it: "
                             "a backfill run once as the DBA, then ALTER ... OWNER TO the user)"
                           : "";
    return "cannot create the progress tables in schema \"switchyard\": " + error->message + hint;
  }
  return std::nullopt;
}

std::variant<bool, std::string> schema_exists(PgConnection& connection) {
  auto result = connection.exec(
      "SELECT to_regclass('switchyard.backfill_progress') IS NOT NULL "
      "AND to_regclass('switchyard.verify_runs') IS NOT NULL");
  if (auto* error = std::get_if<DbError>(&result)) {
    return error->message;
  }
  return std::get<PgResult>(result).text(0, 0) == "t";
}

std::string fingerprint(const TableSpec& spec) {
  std::string out = qualified_name(spec) + " " + quote_ident(spec.old_column) + " -> " +
                    quote_ident(spec.new_column) + " key (" + key_list(spec) + ")";
  if (!spec.to_new.empty()) {
    out += " to_new " + spec.to_new;
  }
  if (spec.fill == Direction::to_old) {
    // A run the other way is another walk: it neither resumes nor counts as this one.
    out += " fills the old column, to_old " + spec.to_old;
  }
  if (spec.old_attnum != 0 || spec.new_attnum != 0) {
    out += " attnums " + std::to_string(spec.old_attnum) + "," + std::to_string(spec.new_attnum);
  }
  return out;
}

bool same_work(const std::string& saved, const TableSpec& spec, const std::string& suffix) {
  TableSpec unnumbered = spec;
  unnumbered.old_attnum = 0;
  unnumbered.new_attnum = 0;
  return saved == fingerprint(spec) + suffix || saved == fingerprint(unnumbered) + suffix;
}

std::variant<std::optional<Progress>, std::string> load_progress(PgConnection& connection,
                                                                 const std::string& migration) {
  auto result = connection.exec(
      "SELECT fingerprint, rows_walked, rows_updated, batches, state, coalesce(last_error, ''),"
      " started_at, updated_at, finished_at, coalesce(extract(epoch FROM finished_at), 0),"
      " last_key IS NULL, extract(epoch FROM started_at)"
      " FROM switchyard.backfill_progress WHERE migration = $1",
      {migration});
  if (auto* error = std::get_if<DbError>(&result)) {
    return "reading backfill progress failed: " + error->message;
  }
  const auto& rows = std::get<PgResult>(result);
  if (rows.rows() == 0) {
    return std::optional<Progress>{};
  }
  Progress p;
  p.migration = migration;
  p.fingerprint = rows.text(0, 0);
  p.rows_walked = std::stoll(rows.text(0, 1));
  p.rows_updated = std::stoll(rows.text(0, 2));
  p.batches = std::stoll(rows.text(0, 3));
  p.state = rows.text(0, 4);
  p.last_error = rows.text(0, 5);
  p.started_at = timestamp(rows, 0, 6);
  p.updated_at = timestamp(rows, 0, 7);
  p.finished_at = timestamp(rows, 0, 8);
  p.finished_epoch = std::stod(rows.text(0, 9));
  p.started_epoch = std::stod(rows.text(0, 11));
  if (rows.text(0, 10) != "t") {
    // One row per element keeps libpq's array text format out of the picture.
    auto keys = connection.exec(
        "SELECT k FROM switchyard.backfill_progress, unnest(last_key) WITH ORDINALITY AS u(k, n) "
        "WHERE migration = $1 ORDER BY n",
        {migration});
    if (auto* error = std::get_if<DbError>(&keys)) {
      return "reading backfill progress failed: " + error->message;
    }
    const auto& key_rows = std::get<PgResult>(keys);
    std::vector<std::string> key;
    for (int r = 0; r < key_rows.rows(); ++r) {
      key.push_back(key_rows.text(r, 0));
    }
    p.last_key = std::move(key);
  }
  return std::optional<Progress>(std::move(p));
}

std::optional<std::string> reset_progress(PgConnection& connection, const std::string& migration,
                                          const TableSpec& spec) {
  return run(connection,
             "INSERT INTO switchyard.backfill_progress AS p (migration, fingerprint) "
             "VALUES ($1, $2) ON CONFLICT (migration) DO UPDATE SET fingerprint = $2,"
             " last_key = NULL, rows_walked = 0, rows_updated = 0, batches = 0,"
             " state = 'running', last_error = NULL, started_at = now(), updated_at = now(),"
             " finished_at = NULL",
             {migration, fingerprint(spec)});
}

std::optional<std::string> mark_running(PgConnection& connection, const std::string& migration) {
  return run(connection,
             "UPDATE switchyard.backfill_progress SET state = 'running', last_error = NULL,"
             " updated_at = now() WHERE migration = $1",
             {migration});
}

std::string record_batch_sql() {
  return "UPDATE switchyard.backfill_progress SET last_key = $2::text[],"
         " rows_walked = rows_walked + $3::bigint, rows_updated = rows_updated + $4::bigint,"
         " batches = batches + 1, updated_at = now() WHERE migration = $1";
}

std::optional<std::string> mark_done(PgConnection& connection, const std::string& migration) {
  return run(connection,
             "UPDATE switchyard.backfill_progress SET state = 'done', finished_at = now(),"
             " updated_at = now() WHERE migration = $1",
             {migration});
}

std::optional<std::string> mark_failed(PgConnection& connection, const std::string& migration,
                                       const std::string& error) {
  return run(connection,
             "UPDATE switchyard.backfill_progress SET state = 'failed', last_error = $2,"
             " updated_at = now() WHERE migration = $1",
             {migration, error});
}

std::optional<std::string> record_verify(PgConnection& connection, const VerifyRecord& record) {
  return run(connection,
             "INSERT INTO switchyard.verify_runs (migration, fingerprint, direction,"
             " rows_checked, to_new_mismatches, to_old_mismatches, agree, sample_keys, writes,"
             " either_mismatches) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
             {record.migration, record.fingerprint, record.direction,
              std::to_string(record.rows_checked), std::to_string(record.to_new_mismatches),
              std::to_string(record.to_old_mismatches), record.agree ? "true" : "false",
              record.sample_keys, record.writes, std::to_string(record.either_mismatches)});
}

std::variant<std::optional<VerifyRecord>, std::string> load_last_verify(
    PgConnection& connection, const std::string& migration) {
  auto result = connection.exec(
      "SELECT fingerprint, direction, rows_checked, to_new_mismatches, to_old_mismatches, agree,"
      " coalesce(sample_keys, ''), finished_at, extract(epoch FROM finished_at),"
      // status creates nothing, so the table may still be an earlier version's: to_jsonb reads
      // a column it lacks as NULL.
      " coalesce(to_jsonb(v) ->> 'writes', ''),"
      " coalesce(to_jsonb(v) ->> 'either_mismatches', '-1')"
      // Under writes = "new" the old column is stale by design: such a run checks nothing.
      " FROM switchyard.verify_runs v WHERE migration = $1"
      " AND coalesce(to_jsonb(v) ->> 'writes', '') <> 'new' ORDER BY id DESC LIMIT 1",
      {migration});
  if (auto* error = std::get_if<DbError>(&result)) {
    return "reading verify results failed: " + error->message;
  }
  const auto& rows = std::get<PgResult>(result);
  if (rows.rows() == 0) {
    return std::optional<VerifyRecord>{};
  }
  VerifyRecord v;
  v.migration = migration;
  v.fingerprint = rows.text(0, 0);
  v.direction = rows.text(0, 1);
  v.rows_checked = std::stoll(rows.text(0, 2));
  v.to_new_mismatches = std::stoll(rows.text(0, 3));
  v.to_old_mismatches = std::stoll(rows.text(0, 4));
  v.agree = rows.text(0, 5) == "t";
  v.sample_keys = rows.text(0, 6);
  v.finished_at = rows.text(0, 7);
  v.finished_epoch = std::stod(rows.text(0, 8));
  v.writes = rows.text(0, 9);
  v.either_mismatches = std::stoll(rows.text(0, 10));
  return std::optional<VerifyRecord>(std::move(v));
}

std::optional<std::string> record_writes_new_seen(PgConnection& connection,
                                                  const std::string& migration) {
  return run(connection,
             "INSERT INTO switchyard.writes_new_seen AS s (migration) VALUES ($1)"
             " ON CONFLICT (migration) DO UPDATE SET last_seen = now()",
             {migration});
}

std::variant<FlagHistory, std::string> load_flag_history(PgConnection& connection,
                                                         const std::string& migration) {
  // status creates nothing, so the sightings table may be missing and verify_runs an earlier
  // version's (no writes column: to_jsonb reads it as NULL).
  auto found = connection.exec("SELECT to_regclass('switchyard.writes_new_seen') IS NOT NULL");
  if (auto* error = std::get_if<DbError>(&found)) {
    return "reading the flags' history failed: " + error->message;
  }
  const std::string seen =
      std::get<PgResult>(found).text(0, 0) == "t"
          ? "(SELECT max(last_seen) FROM switchyard.writes_new_seen WHERE migration = $1)"
          : "NULL::timestamptz";
  auto result = connection.exec(
      "SELECT coalesce(extract(epoch FROM greatest(" + seen +
          ", (SELECT max(finished_at) FROM switchyard.verify_runs v WHERE migration = $1"
          " AND to_jsonb(v) ->> 'writes' = 'new'))), 0),"
          " coalesce((SELECT extract(epoch FROM max(finished_at)) FROM switchyard.verify_runs v"
          " WHERE migration = $1 AND agree AND to_old_mismatches = 0"
          " AND to_jsonb(v) ->> 'writes' = 'both'), 0)",
      {migration});
  if (auto* error = std::get_if<DbError>(&result)) {
    return "reading the flags' history failed: " + error->message;
  }
  const auto& rows = std::get<PgResult>(result);
  return FlagHistory{std::stod(rows.text(0, 0)), std::stod(rows.text(0, 1))};
}

}  // namespace switchyard::backfill
