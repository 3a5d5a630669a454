#include <chrono>
#include <iostream>
#include <optional>
#include <utility>

#include "backfill/column_defaults.hpp"
#include "backfill/interrupt.hpp"
#include "backfill/progress_store.hpp"
#include "backfill/reporter.hpp"
#include "backfill/runs.hpp"
#include "backfill/table_info.hpp"
#include "backfill/walker.hpp"

namespace switchyard::backfill {
namespace {

using Clock = std::chrono::steady_clock;

// Retries of one chunk that hit statement_timeout (or a rare lock wait on DDL) before giving up.
constexpr int kMaxVerifyRetries = 5;

struct Totals {
  long long rows = 0;
  long long to_new = 0;
  long long to_old = 0;
  long long either = 0;

  long long counted(Direction direction) const {
    switch (direction) {
      case Direction::to_new:
        return to_new;
      case Direction::to_old:
        return to_old;
      case Direction::both:
        break;
    }
    return either;
  }
};

std::optional<DbError> count_range(PgConnection& connection, const TableSpec& spec,
                                   const std::optional<Key>& lower, const Key& upper,
                                   Totals* totals) {
  auto result =
      connection.exec(verify_count_sql(spec, shape_of(lower, upper)), range_params(lower, upper));
  if (auto* error = std::get_if<DbError>(&result)) {
    return *error;
  }
  if (totals != nullptr) {
    const auto& rows = std::get<PgResult>(result);
    totals->to_new += std::stoll(rows.text(0, 0));
    totals->to_old += std::stoll(rows.text(0, 1));
    totals->either += std::stoll(rows.text(0, 2));
    totals->rows += std::stoll(rows.text(0, 3));
  }
  return std::nullopt;
}

// The chunks' statement_timeout, set for the scope's length: behind a pooler the server session
// goes on to serve other clients, so it is reset however the run ends (a failing transform, an
// interrupt).
class ChunkTimeout {
 public:
  ChunkTimeout(PgConnection& connection, std::chrono::milliseconds timeout)
      : connection_(connection) {
    connection_.exec("SET statement_timeout = '" + std::to_string(timeout.count()) + "ms'");
  }
  ~ChunkTimeout() { connection_.exec("RESET statement_timeout"); }
  ChunkTimeout(const ChunkTimeout&) = delete;
  ChunkTimeout& operator=(const ChunkTimeout&) = delete;

 private:
  PgConnection& connection_;
};

}  // namespace

int run_verify(const Options& options, const config::Config& config,
               const config::Migration& migration, PgConnection& connection,
               const TableSpec& spec) {
  catch_interrupts();
  if (auto explained = connection.exec("EXPLAIN " + verify_count_sql(spec, {}));
      std::holds_alternative<DbError>(explained)) {
    std::cerr << "switchyard verify: "
              << config::format_error(config.error_at(
                     config.key_of(migration), "the transforms of migration \"" + migration.name +
                                                   "\" do not apply to " + spec.schema + "." +
                                                   spec.table + ": " +
                                                   std::get<DbError>(explained).message))
              << "\n";
    return kExitFailed;
  }
  // Each chunk is one short autocommit statement: only ACCESS SHARE locks, held briefly.
  std::optional<ChunkTimeout> timeout(std::in_place, connection, options.statement_timeout);
  Reporter reporter("verify", migration.name, options.progress, options.log_interval,
                    estimate_rows(connection, spec), 0);
  Totals totals;
  std::vector<std::string> samples;
  std::optional<Key> lower;
  int retries = 0;
  while (true) {
    if (interrupted()) {
      reporter.event("warn", "verify_interrupted", {{"rows_checked", std::to_string(totals.rows)}});
      return kExitInterrupted;
    }
    const auto started = Clock::now();
    auto found = next_chunk(connection, spec, lower, options.chunk_size);
    if (auto* error = std::get_if<DbError>(&found)) {
      if (error->transient() && ++retries <= kMaxVerifyRetries) {
        continue;
      }
      std::cerr << "switchyard verify: " << error->message << "\n";
      return kExitFailed;
    }
    auto& chunk = std::get<std::optional<Chunk>>(found);
    if (!chunk) {
      break;
    }
    Totals before = totals;
    if (auto error = count_range(connection, spec, lower, chunk->last, &totals)) {
      if (error->transient() && ++retries <= kMaxVerifyRetries) {
        continue;
      }
      auto attempt = [&](const std::optional<Key>& lo, const Key& up) {
        return count_range(connection, spec, lo, up, nullptr);
      };
      auto row = find_failing_row(connection, spec, lower, chunk->last, attempt);
      std::cerr << "switchyard verify: migration \"" << migration.name << "\": "
                << (row ? "a transform fails on row " + format_key(spec, row->key) + ": " +
                              row->error.message + " (SQLSTATE " + row->error.sqlstate + ")"
                        : "the check failed after " +
                              (lower ? format_key(spec, *lower) : std::string("the start")) + ": " +
                              error->message)
                << "\n";
      return kExitFailed;
    }
    retries = 0;
    const long long found_here =
        totals.counted(options.direction) - before.counted(options.direction);
    if (found_here > 0 && static_cast<long long>(samples.size()) < options.samples) {
      auto limit = std::to_string(options.samples - static_cast<long long>(samples.size()));
      auto sampled =
          connection.exec(verify_sample_sql(spec, shape_of(lower, chunk->last), options.direction),
                          range_params(lower, chunk->last, {limit}));
      if (auto* rows = std::get_if<PgResult>(&sampled)) {
        const int k = static_cast<int>(spec.key.size());
        for (int r = 0; r < rows->rows(); ++r) {
          Key key;
          for (int c = 0; c < k; ++c) {
            key.push_back(rows->text(r, c));
          }
          samples.push_back(format_key(spec, key) + ": " + spec.old_column + "=" +
                            quote_nullable(rows->value(r, k)) + " " + spec.new_column + "=" +
                            quote_nullable(rows->value(r, k + 1)) +
                            " (to_new(old)=" + quote_nullable(rows->value(r, k + 2)) +
                            ", to_old(new)=" + quote_nullable(rows->value(r, k + 3)) + ")");
        }
      }
    }
    lower = chunk->last;
    reporter.update(totals.rows, totals.counted(options.direction), options.chunk_size);
    if (options.max_rate) {
      auto allowed = std::chrono::duration<double>(chunk->rows / *options.max_rate);
      auto owed =
          std::chrono::duration_cast<std::chrono::milliseconds>(allowed - (Clock::now() - started));
      pause_for(owed);
    }
  }

  const long long disagree = totals.counted(options.direction);
  const bool agree = disagree == 0;
  std::cout << "verify " << migration.name << " (" << spec.schema << "." << spec.table << ": "
            << spec.old_column << " -> " << spec.new_column << "): " << totals.rows
            << " rows checked, " << disagree << " disagree (direction "
            << to_string(options.direction) << ": to-new " << totals.to_new << ", to-old "
            << totals.to_old << ")\n";
  std::string sample_text;
  for (const auto& sample : samples) {
    std::cout << "  " << sample << "\n";
    sample_text += (sample_text.empty() ? "" : "; ") + sample;
  }
  std::cout << (agree ? "OK: the columns agree\n"
                      : "DISAGREE: do not switch reads; see switchyard verify --help\n");
  if (agree && totals.to_old > 0) {
    std::cout << "warning: " << totals.to_old
              << " rows disagree to-old, which this verify did not count: reads = \"new\" would "
                 "serve other values there, so switchyard status does not count it for reads\n";
  }
  if (migration.writes == config::Writes::old_column) {
    std::cout << "note: writes = \"old\": apps write the old column alone, so this result stops "
                 "holding with their next write, and switchyard status does not count it. Verify "
                 "again once every instance writes both and the backfill has run.\n";
  } else if (migration.writes == config::Writes::new_column) {
    std::cout << "note: writes = \"new\": the old column is no longer written, so it is stale "
                 "by design and disagreement here is expected; switchyard status does not count "
                 "this result (it keeps the last verify under writes = \"both\"), and no "
                 "backfill may fill the new column from the old one any more.\n";
  }
  if (!agree) {
    // A cause verify can name: INSERTs that leave each column at its own default.
    auto defaults = check_defaults(connection, spec);
    if (auto* finding = std::get_if<DefaultsFinding>(&defaults);
        finding && (finding->verdict == DefaultsVerdict::differ ||
                    finding->verdict == DefaultsVerdict::unmatched)) {
      std::cout << "likely cause, the defaults: " << indent_lines(finding->text, 2) << "\n";
    }
  }

  VerifyRecord record;
  record.migration = migration.name;
  record.fingerprint = fingerprint(spec) + " to_old " + spec.to_old;
  record.direction = std::string(to_string(options.direction));
  record.rows_checked = totals.rows;
  record.to_new_mismatches = totals.to_new;
  record.to_old_mismatches = totals.to_old;
  record.either_mismatches = totals.either;
  record.agree = agree;
  record.sample_keys = sample_text;
  record.writes = std::string(config::to_string(migration.writes));
  timeout.reset();
  if (auto error = ensure_schema(connection)) {
    std::cerr << "switchyard verify: result not recorded: " << *error << "\n";
  } else if (auto failed = record_verify(connection, record)) {
    std::cerr << "switchyard verify: result not recorded: " << *failed << "\n";
  }
  return agree ? kExitOk : kExitFailed;
}

}  // namespace switchyard::backfill
