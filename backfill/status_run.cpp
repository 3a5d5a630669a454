#include <iostream>
#include <map>

#include "backfill/ancestors.hpp"
#include "backfill/column_defaults.hpp"
#include "backfill/next_step.hpp"
#include "backfill/old_column_users.hpp"
#include "backfill/progress_store.hpp"
#include "backfill/reporter.hpp"
#include "backfill/runs.hpp"
#include "backfill/table_info.hpp"
#include "config/identifier.hpp"

namespace switchyard::backfill {
namespace {

// Everything status prints for one migration; an error leaves the rest unknown. Failed when
// the state could not be read or needs attention (NextStep::needs_attention).
int report(const config::Migration& m, PgConnection& connection, const std::string& config_path) {
  MigrationFacts facts;
  facts.writes = m.writes;
  facts.reads = m.reads;
  const TableSpec spec = columns_spec(m);
  auto old_exists = column_exists(connection, spec, spec.old_column);
  auto new_exists = column_exists(connection, spec, spec.new_column);
  if (auto* error = std::get_if<std::string>(&old_exists)) {
    std::cout << "  error:    " << *error << "\n";
    return kExitFailed;
  }
  facts.old_column_exists = std::get<bool>(old_exists);
  facts.new_column_exists = std::holds_alternative<bool>(new_exists) && std::get<bool>(new_exists);
  if (facts.old_column_exists && facts.new_column_exists && m.old_type.empty()) {
    auto old_type = column_type(connection, spec, spec.old_column);
    auto new_type = column_type(connection, spec, spec.new_column);
    if (std::holds_alternative<std::string>(old_type) &&
        std::holds_alternative<std::string>(new_type) &&
        std::get<std::string>(old_type) != std::get<std::string>(new_type)) {
      facts.old_type_to_keep = std::get<std::string>(old_type);
    }
  }
  std::cout << "  columns:  " << spec.old_column
            << (facts.old_column_exists ? "" : " (dropped or missing)") << ", " << spec.new_column
            << (facts.new_column_exists ? "" : " (missing)") << "\n";

  if (facts.old_column_exists && facts.new_column_exists) {
    auto defaults = check_defaults(connection, spec);
    if (auto* error = std::get_if<std::string>(&defaults)) {
      std::cout << "  defaults: " << *error << "\n";
    } else if (const auto& finding = std::get<DefaultsFinding>(defaults); !finding.text.empty()) {
      std::cout << "  defaults: " << indent_lines(finding.text, 12) << "\n";
      facts.defaults_differ = finding.verdict == DefaultsVerdict::differ;
    }
  }
  if (facts.old_column_exists) {
    auto users = find_old_column_users(connection, spec);
    if (auto* error = std::get_if<std::string>(&users)) {
      std::cout << "  depends:  " << *error << "\n";
    } else if (const auto& found = std::get<OldColumnUsers>(users);
               found.any() || !found.functions.empty()) {
      std::cout << "  depends:  "
                << indent_lines(explain_old_column_users(spec, found, m.writes), 12) << "\n";
      facts.old_column_relied_on = found.any();
      facts.old_column_partition_key = !found.partition_keys.empty();
    }
  }
  // Writes through a parent the migration does not cover drift whatever the step.
  bool written_past = false;
  if (m.writes != config::Writes::old_column) {
    auto ancestors = find_uncovered_ancestors(connection, spec);
    if (auto* error = std::get_if<std::string>(&ancestors)) {
      std::cout << "  inherits: " << *error << "\n";
    } else {
      for (const auto& line :
           explain_uncovered_ancestors(spec, std::get<std::vector<UncoveredAncestor>>(ancestors))) {
        std::cout << "  inherits: " << line << "\n";
        written_past = true;
      }
    }
  }

  // The fingerprint needs the key, which only a full description gives.
  std::optional<TableSpec> current;
  std::optional<TableSpec> back;  // a backfill that filled the old column (a rollback)
  if (facts.old_column_exists && facts.new_column_exists) {
    auto described = describe_table(connection, m, "");
    if (auto* full = std::get_if<TableSpec>(&described)) {
      current = *full;
      back = *full;
      back->fill = Direction::to_old;
    }
  }
  auto exists = schema_exists(connection);
  if (auto* error = std::get_if<std::string>(&exists)) {
    std::cout << "  error:    " << *error << "\n";
    return kExitFailed;
  }
  std::optional<Progress> progress;
  std::optional<VerifyRecord> verify;
  FlagHistory history;
  if (std::get<bool>(exists)) {
    if (m.writes == config::Writes::new_column) {
      // Later backfills and statuses must know the old column went stale (fill_history.hpp).
      // Best effort: a read-only status user changes nothing.
      record_writes_new_seen(connection, m.name);
    }
    auto flags = load_flag_history(connection, m.name);
    if (auto* h = std::get_if<FlagHistory>(&flags)) {
      history = *h;
    }
    auto loaded = load_progress(connection, m.name);
    if (auto* p = std::get_if<std::optional<Progress>>(&loaded)) {
      progress = *p;
    }
    auto last = load_last_verify(connection, m.name);
    if (auto* v = std::get_if<std::optional<VerifyRecord>>(&last)) {
      verify = *v;
    }
  }
  std::optional<SavedRun> run;
  // No primary key: the backfill walked by --key-index; the index whose key matches its
  // progress is the one the advice must name, or the commands it prints fail (h16 #3).
  std::string key_index;
  if (!current && progress && facts.old_column_exists && facts.new_column_exists) {
    for (const auto& name : walking_indexes(connection, columns_spec(m))) {
      auto described = describe_table(connection, m, name);
      auto* full = std::get_if<TableSpec>(&described);
      if (full == nullptr) {
        continue;
      }
      TableSpec to_old = *full;
      to_old.fill = Direction::to_old;
      if (same_work(progress->fingerprint, *full) || same_work(progress->fingerprint, to_old)) {
        current = *full;
        back = to_old;
        key_index = name;
        break;
      }
    }
  }
  if (!progress) {
    std::cout << "  backfill: not started\n";
  } else {
    facts.backfill_state = progress->state;
    facts.backfill_filled_old = back && same_work(progress->fingerprint, *back);
    facts.backfill_current =
        !current || same_work(progress->fingerprint, *current) || facts.backfill_filled_old;
    run =
        SavedRun{!current || same_work(progress->fingerprint, *current), facts.backfill_filled_old,
                 progress->state, progress->started_epoch, progress->finished_epoch};
    std::cout << "  backfill: " << progress->state << ", " << progress->rows_walked
              << " rows walked, " << progress->rows_updated << " updated, " << progress->batches
              << " batches (started " << progress->started_at << ", "
              << (progress->state == "done" ? "finished " + progress->finished_at
                                            : "last batch " + progress->updated_at)
              << ")" << (facts.backfill_current ? "" : " [for an older table/column/key/transform]")
              << "\n";
    if (!progress->last_error.empty()) {
      std::cout << "            last error: " << progress->last_error << "\n";
    }
  }
  if (!verify) {
    std::cout << "  verify:   never run\n";
  } else {
    // A verify narrowed to to-new still counted to-old, which is what reads = "new" serves.
    facts.verify_result = verify->agree && verify->to_old_mismatches == 0 ? "agree" : "disagree";
    facts.verify_to_new = verify->to_new_mismatches;
    facts.verify_to_old = verify->to_old_mismatches;
    facts.verify_either = verify->either_mismatches;
    // Under writes = "old" the next write of the old column makes the result untrue.
    const bool before_dual_writes = verify->writes == config::to_string(config::Writes::old_column);
    facts.verify_current =
        (!current || same_work(verify->fingerprint, *current, " to_old " + m.to_old)) &&
        (!progress || progress->state != "done" ||
         verify->finished_epoch >= progress->finished_epoch) &&
        !before_dual_writes;
    std::cout << "  verify:   " << facts.verify_result << " at " << verify->finished_at << ", "
              << verify->rows_checked << " rows checked (direction " << verify->direction
              << ": to-new " << verify->to_new_mismatches << ", to-old "
              << verify->to_old_mismatches << " disagree)"
              << (before_dual_writes     ? " [under writes = \"old\": verify again under \"both\"]"
                  : facts.verify_current ? ""
                                         : " [before the last backfill or for older transforms]")
              << "\n";
    if (!verify->sample_keys.empty()) {
      std::cout << "            e.g. " << verify->sample_keys << "\n";
    }
  }
  // Under writes = "new" the old column is stale by design; the question is for a way back.
  facts.old_column_stale = m.writes == config::Writes::both && old_column_stale(history, run);
  if (facts.old_column_stale) {
    std::cout << "  history:  writes = \"new\" was seen after the old column was last made "
                 "current\n";
  }
  const NextStep step = next_step(facts, m.name, config_path, key_index);
  std::cout << "  next:     " << step.text << "\n";
  return step.needs_attention || written_past ? kExitFailed : kExitOk;
}

}  // namespace

int run_status(const Options& options, const config::Config& config) {
  int status = kExitOk;
  std::map<std::string, PgConnection> connections;  // one per database
  std::map<std::string, std::string> failures;
  if (config.migrations.empty()) {
    std::cout << "no migrations declared in " << options.config_path << "\n";
  }
  for (const auto& m : config.migrations) {
    if (!options.migration.empty() && m.name != options.migration) {
      continue;
    }
    const std::string database = config.effective_database(m);
    std::cout << "migration " << m.name << ": " << m.schema << "." << m.table << " " << m.old_column
              << " -> " << m.new_column << " (database " << database << ")\n"
              << "  flags:    writes = \"" << config::to_string(m.writes) << "\", reads = \""
              << config::to_string(m.reads) << "\"\n";
    if (!connections.contains(database) && !failures.contains(database)) {
      auto connected = PgConnection::connect(config, database, "status", "switchyard-status");
      if (auto* error = std::get_if<DbError>(&connected)) {
        failures[database] = error->message;
      } else {
        connections.emplace(database, std::move(std::get<PgConnection>(connected)));
      }
    }
    if (auto failed = failures.find(database); failed != failures.end()) {
      std::cout << "  error:    " << failed->second << "\n";
      status = kExitFailed;
      continue;
    }
    if (report(m, connections.at(database), options.config_path) != kExitOk) {
      status = kExitFailed;
    }
  }
  return status;
}

}  // namespace switchyard::backfill
