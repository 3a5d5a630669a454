#include "backfill/fill_history.hpp"

#include <algorithm>

namespace switchyard::backfill {

bool old_column_stale(const FlagHistory& history, const std::optional<SavedRun>& saved) {
  double current_since = history.old_confirmed;
  if (saved && saved->filled_old && saved->state == "done") {
    current_since = std::max(current_since, saved->finished_epoch);
  }
  return history.writes_new_seen > 0 && history.writes_new_seen > current_since;
}

FillPlan plan_fill(Direction fill, bool restart, const std::optional<SavedRun>& saved,
                   const FlagHistory& history, const std::string& args) {
  if (fill == Direction::to_new && old_column_stale(history, saved)) {
    // --restart would overwrite the same rows: no way through in this direction.
    return {FillStart::refuse,
            "writes = \"new\" was in force after the old column was last made current (no "
            "to-old backfill or agreeing verify since), so the old column is stale wherever apps "
            "wrote under it, and filling the new column from it would overwrite those writes. "
            "Keep writes = \"both\", set reads = \"new\" and reload, then run switchyard "
            "backfill --direction to-old" +
                args + " and verify; reads = \"old\" is safe once it agrees"};
  }
  if (!saved || restart || !saved->same_work) {
    return {FillStart::fresh, ""};
  }
  const double since = saved->state == "done" ? saved->finished_epoch : saved->started_epoch;
  if (fill == Direction::to_old && history.writes_new_seen > since) {
    // The rows it walked (or all of them) went stale again under writes = "new".
    return {FillStart::fresh, "writes = \"new\" was in force after the saved to-old walk " +
                                  std::string(saved->state == "done" ? "finished" : "began") +
                                  ": the old column went stale again, so the walk starts over"};
  }
  return {saved->state == "done" ? FillStart::finished : FillStart::resume, ""};
}

}  // namespace switchyard::backfill
