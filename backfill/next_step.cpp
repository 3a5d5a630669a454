#include "backfill/next_step.hpp"

#include <optional>

#include "config/json_string.hpp"

namespace switchyard::backfill {
namespace {

// Rows that disagree one way only are not drift: one column is what a transform makes of the
// other, so no writer missed a column and the backfill (which fills only rows that disagree
// both ways) leaves them alone. Advising writers and `backfill --restart` there loops forever.
std::optional<NextStep> one_way_disagreement(const MigrationFacts& f, const std::string& args) {
  const bool reading_new = f.reads == config::Reads::new_column;
  const bool one_way = f.verify_either >= 0 ? f.verify_to_new + f.verify_to_old == f.verify_either
                                            : f.verify_to_new == 0 || f.verify_to_old == 0;
  if (!one_way) {
    return std::nullopt;
  }
  if (f.verify_to_old > 0) {
    const std::string what =
        "the transforms are not inverses for some values: on the rows verify counted to-old, "
        "to_old(to_new(old)) is not the old value, so reads = \"new\" ";
    const std::string fix =
        "Neither the writers nor a backfill can fix that (backfill leaves these rows alone): "
        "change to_new/to_old so that to_old gives every old value back, reload, then "
        "switchyard verify" +
        args + " again";
    if (reading_new) {
      return NextStep{what +
                          "serves apps other values than before. Set reads = \"old\" and reload "
                          "now (the old column holds what apps wrote). " +
                          fix,
                      true};
    }
    return NextStep{"step 4: " + what + "would change what apps see; do not switch reads. " + fix,
                    true};
  }
  if (f.verify_to_new > 0) {
    return NextStep{
        std::string(reading_new ? "" : "step 4: ") +
            "the columns disagree one way only: on the sample keys the new column holds a value "
            "to_new does not make from the old one, while to_old(new) is the old value (an app "
            "wrote the new column by its name, and to_old maps several new values to one). "
            "reads = \"new\" serves what apps read before, and a backfill leaves these rows "
            "alone. If those values are right, switchyard verify --direction to-old" +
            args + " checks what reads = \"new\" needs; if not, fix the writer and the rows",
        true};
  }
  return std::nullopt;
}

}  // namespace

NextStep next_step(const MigrationFacts& f, const std::string& migration,
                   const std::string& config_path, const std::string& key_index) {
  using config::Reads;
  using config::Writes;
  const std::string args = " --config " + config_path + " --migration " + migration +
                           (key_index.empty() ? "" : " --key-index " + key_index);
  if (!f.new_column_exists && f.writes != Writes::new_column) {
    return {
        "step 1: add the new column, nullable (ALTER TABLE ... ADD COLUMN ...); then set "
        "writes = \"both\" and reload",
        f.writes == Writes::both};
  }
  if (f.defaults_differ && f.old_column_exists) {
    if (f.writes == Writes::old_column) {
      return {
          "step 2, after one fix: make the defaults agree (the ALTER under defaults above), "
          "then set writes = \"both\" and reload"};
    }
    return {
        "the defaults disagree, so every INSERT that names neither column writes drift: run "
        "the ALTER under defaults above, then switchyard backfill --restart" +
            args + " and verify again",
        true};
  }
  if (f.writes == Writes::old_column) {
    return {
        "step 2: set writes = \"both\" and reload, so every write fills both columns; then "
        "backfill"};
  }
  const std::string to_old_fill = "switchyard backfill --direction to-old" + args;
  if (f.writes == Writes::both && f.old_column_stale) {
    // Whatever a backfill or verify said before that period holds no more for the old column.
    return {std::string(f.reads == Reads::old_column
                            ? "reads = \"old\" serves the old column, which went stale under "
                              "writes = \"new\": set reads = \"new\" and reload now, then "
                            : "writes = \"new\" was in force since the old column was last "
                              "made current: keep reads = \"new\", run ") +
                to_old_fill + " (it starts over), then switchyard verify" + args +
                ", and set reads = \"old\" only once it agrees",
            true};
  }
  if (f.writes == Writes::both && f.reads == Reads::old_column) {
    if (f.backfill_state != "done" || !f.backfill_current) {
      if (f.backfill_state == "failed") {
        return {
            "step 3: the last backfill failed (see its error above); fix the cause, then "
            "rerun switchyard backfill" +
                args + " (it resumes)",
            true};
      }
      if (f.backfill_state == "running") {
        return {"step 3: the backfill is running or was interrupted; rerun switchyard backfill" +
                args + " to resume it"};
      }
      return {"step 3: switchyard backfill" + args};
    }
    if (f.verify_result.empty() || !f.verify_current) {
      return {"step 4: switchyard verify" + args};
    }
    if (f.verify_result == "disagree") {
      if (auto step = one_way_disagreement(f, args)) {
        return *step;
      }
      return {
          "step 4: the columns disagree; do not switch reads. Look at the sample keys, "
          "fix what wrote one column only (writes = \"both\" must be on for every writer), "
          "rerun switchyard backfill --restart" +
              args + ", then verify again",
          true};
    }
    return {
        "step 5: set reads = \"new\" and reload (undo: reads = \"old\", instant because both "
        "columns are still written)"};
  }
  if (f.writes == Writes::both && f.reads == Reads::new_column) {
    // Which column is right is not known here: after a period of writes = "new" only the new
    // one is current, so the advice never sends reads back to the old one unverified.
    if (f.verify_result != "agree" || !f.verify_current) {
      if (f.backfill_state != "done" || !f.backfill_current) {
        return {
            "reads are served from the new column, but no backfill has finished: rows written "
            "before dual writes began may read as NULL there. Set reads = \"old\" and reload now, "
            "then switchyard backfill" +
                args + " and verify",
            true};
      }
      if (f.verify_result == "disagree" && f.verify_current) {
        if (auto step = one_way_disagreement(f, args)) {
          return *step;
        }
        return {
            "the columns disagree while apps read the new one: keep reads = \"new\". If "
            "writes = \"new\" was on, the old column is stale: " +
                to_old_fill +
                // A finished to-old walk of an earlier rollback would only say so.
                (f.backfill_filled_old && f.backfill_state == "done" ? " --restart" : "") +
                " fills it from the new one (not where the new column is NULL and the old one "
                "is not: rows never filled, which --direction to-new fills, or set to NULL "
                "under writes = \"new\"; the sample keys show which), then verify again "
                "before reads = \"old\"",
            true};
      }
      return {
          "reads are served from the new column without a passing verify since the last "
          "backfill: run switchyard verify" +
              args + " now, and keep reads = \"new\" until it agrees",
          true};
    }
    if (f.backfill_filled_old) {
      return {
          "rolling back: the old column was filled from the new one and verify agrees, so "
          "reads = \"old\" is safe now (or go on with step 6: writes = \"new\")"};
    }
    if (f.old_column_partition_key) {
      return {
          "stay at writes = \"both\": the old column is a partition key (see depends above), "
          "and writes = \"new\" would route new rows by NULL; a partition key column cannot be "
          "migrated past this step"};
    }
    if (f.old_column_relied_on) {
      return {
          "step 6, after one fix: make nothing in the database rely on the old column (see "
          "depends above), then set writes = \"new\" and reload (undo: writes = \"both\")"};
    }
    return {
        "step 6: when reads from the new column look right, set writes = \"new\" and reload "
        "(undo: writes = \"both\")"};
  }
  // Skipping steps 3-5 leaves rows written before dual writes began with their only value in
  // the old column, and the drop of step 7 loses them. A plain backfill is no way back here: it
  // would also overwrite what apps wrote to the new column alone under writes = "new".
  const bool backfilled = f.backfill_state == "done" && f.backfill_current;
  if (f.old_column_exists && (!backfilled || f.verify_result != "agree" || !f.verify_current)) {
    return {std::string("do not drop the old column: ") +
                (backfilled ? "no verify has agreed since the last backfill"
                            : "no backfill has finished") +
                ", so rows written before dual writes began may still hold their only value "
                "there (reads = \"new\" serves NULL for them). Nothing tells them from rows "
                "apps set to NULL under writes = \"new\", so no command fills them: set "
                "writes = \"both\" and reload, look at the rows where the new column is NULL and "
                "the old one is not, fill by hand those never written under writes = \"new\", "
                "then run switchyard backfill --direction to-old" +
                args + " (the old column went stale; it leaves those rows alone) and verify",
            true};
  }
  if (f.old_column_exists && f.old_column_partition_key) {
    return {
        "the old column is a partition key and no longer written: new rows are routed by NULL "
        "(see depends above), and a partition key column cannot be migrated this way. Set "
        "writes = \"both\" and reload",
        true};
  }
  if (f.old_column_exists && f.old_column_relied_on) {
    return {
        "the old column is no longer written, but the database still relies on it (see "
        "depends above): fix that, or set writes = \"both\" and reload",
        true};
  }
  if (f.old_column_exists) {
    std::string text =
        "step 7: once no rollback is wanted any more (typically weeks), drop the old column "
        "(ALTER TABLE ... DROP COLUMN ...); until then writes = \"both\" is the way back";
    if (!f.old_type_to_keep.empty()) {
      // A TOML basic string is a JSON string: a quoted type name ("My Schema".t) escaped.
      text += ". Before the drop, add old_type = " + config::json_string(f.old_type_to_keep) +
              " to the migration and reload: once the column is gone only the config names "
              "its type, and reads served from the new column keep the type apps were told";
    }
    return {text};
  }
  return {
      "step 8: deploy apps that use the new column name, then remove this migration from "
      "the config and reload"};
}

}  // namespace switchyard::backfill
