#pragma once

// The "what now?" of `switchyard status`: DESIGN section 1's recipe as a function of the
// flags and what the database says. Pure, so the unit tests can walk every step.

#include <string>

#include "config/config.hpp"

namespace switchyard::backfill {

/// What status learned about one migration.
struct MigrationFacts {
  config::Writes writes = config::Writes::old_column;
  config::Reads reads = config::Reads::old_column;
  bool old_column_exists = true;
  bool new_column_exists = true;
  /// "" (never ran), "running" (running or interrupted), "failed", "done".
  std::string backfill_state;
  /// The finished backfill was for the current table/key/transform.
  bool backfill_current = true;
  /// That backfill filled the old column from the new one (--direction to-old: a rollback).
  bool backfill_filled_old = false;
  /// writes = "new" was seen after the old column was last made current (fill_history.hpp).
  bool old_column_stale = false;
  /// "" (never ran), "agree", "disagree".
  std::string verify_result;
  /// The last verify ran after the backfill finished, for the current transforms, while both
  /// columns were written.
  bool verify_current = true;
  /// The last verify's rows disagreeing to-new (new vs to_new(old)), to-old (old vs
  /// to_old(new)), and either way (-1: not recorded, an earlier version ran it).
  long long verify_to_new = 0;
  long long verify_to_old = 0;
  long long verify_either = -1;
  /// The columns' defaults disagree and one ALTER makes them agree (DefaultsVerdict::differ):
  /// every INSERT that names neither column writes drift.
  bool defaults_differ = false;
  /// The database relies on the old column on its own (views, functions, policies, CHECK
  /// constraints) or it is NOT NULL without a default: wrong once writes = "new".
  bool old_column_relied_on = false;
  /// The old column is a partition key (OldColumnUsers::partition_keys): no fix makes
  /// writes = "new" safe, since rows leaving it out are routed by NULL.
  bool old_column_partition_key = false;
  /// The old column's type, when it differs from the new one's and the migration does not
  /// name it (old_type): reads served from the new column keep it only while the column exists.
  std::string old_type_to_keep;
};

struct NextStep {
  /// One or two sentences: the next safe step and, where it matters, how to undo it.
  std::string text;
  /// Something is wrong now, not merely unfinished: a failed backfill, columns a verify found
  /// disagreeing, reads served from the new column without a passing verify, writes to a
  /// new column that is not there, defaults that disagree while both columns are written,
  /// or an old column the database still relies on under writes = "new".
  /// `switchyard status` exits 1 for it.
  bool needs_attention = false;
};

/// `key_index`: the --key-index the backfill walked by, which every command printed must carry.
NextStep next_step(const MigrationFacts& facts, const std::string& migration,
                   const std::string& config_path, const std::string& key_index = "");

}  // namespace switchyard::backfill
