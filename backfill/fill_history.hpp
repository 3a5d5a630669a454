#pragma once

// Under writes = "new" the old column is not written, so it goes stale; it is current again only
// once a backfill fills it from the new one (--direction to-old) or a verify under
// writes = "both" finds it agreeing. A walk that fills the new column from a stale old one
// overwrites what apps wrote under writes = "new"; a to-old walk (or verify) of an earlier period
// says nothing about the rows written since. The flags' history is not in the file, so the
// commands record each time they see writes = "new" (switchyard.writes_new_seen, and verify
// runs under it); a writes = "new" period that none of them saw stays unknown.

#include <optional>
#include <string>

#include "backfill/sql.hpp"

namespace switchyard::backfill {

/// What the progress store says about the flags, as epochs (0: never).
struct FlagHistory {
  /// The latest time a command saw writes = "new" for the migration.
  double writes_new_seen = 0;
  /// The latest verify under writes = "both" that found the old column agreeing.
  double old_confirmed = 0;
};

/// The saved progress row, as plan_fill needs it.
struct SavedRun {
  bool same_work = false;   ///< same table, columns, key, transforms and direction
  bool filled_old = false;  ///< it was a --direction to-old walk
  std::string state;        ///< "running" | "done" | "failed"
  double started_epoch = 0;
  double finished_epoch = 0;
};

/// Whether writes = "new" was seen after the old column was last made current.
bool old_column_stale(const FlagHistory& history, const std::optional<SavedRun>& saved);

enum class FillStart { fresh, resume, finished, refuse };

struct FillPlan {
  FillStart start = FillStart::fresh;
  /// Why a walk starts over, or (refuse) why it must not run and what to do instead.
  std::string reason;
};

/// How a backfill in direction `fill` starts, given the saved progress and the history. Pure.
FillPlan plan_fill(Direction fill, bool restart, const std::optional<SavedRun>& saved,
                   const FlagHistory& history, const std::string& args);

}  // namespace switchyard::backfill
