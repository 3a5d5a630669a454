#include "backfill/fill_history.hpp"

#include <gtest/gtest.h>

namespace switchyard::backfill {
namespace {

constexpr const char* kArgs = " --config c.toml --migration m";

// Times as small epochs: 10 the walk began, 20 it finished (when done), others as named.
TEST(FillHistoryTest, NoWalkFillsFromAStaleColumnNorCountsAnEarlierPeriod) {
  struct Case {
    const char* what;
    Direction fill;
    bool restart;
    std::optional<SavedRun> saved;
    FlagHistory history;
    FillStart start;
    const char* reason;  // "" = none
  };
  const SavedRun to_new_running{true, false, "running", 10, 0};
  const SavedRun to_new_done{true, false, "done", 10, 20};
  const SavedRun to_old_running{true, true, "running", 10, 0};
  const SavedRun to_old_done{true, true, "done", 10, 20};
  const SavedRun other_work{false, false, "running", 10, 0};
  const Case cases[] = {
      {"first run", Direction::to_new, false, std::nullopt, {}, FillStart::fresh, ""},
      {"resume, writes = new never seen",
       Direction::to_new,
       false,
       to_new_running,
       {},
       FillStart::resume,
       ""},
      {"finished, writes = new never seen",
       Direction::to_new,
       false,
       to_new_done,
       {},
       FillStart::finished,
       ""},
      {"h16 #5: resume after writes = new stopped it",
       Direction::to_new,
       false,
       to_new_running,
       {15, 0},
       FillStart::refuse,
       "--direction to-old --config c.toml --migration m"},
      {"h16 #5: --restart is no way out",
       Direction::to_new,
       true,
       to_new_running,
       {15, 0},
       FillStart::refuse,
       "would overwrite those writes"},
      {"writes = new before any backfill",
       Direction::to_new,
       false,
       std::nullopt,
       {5, 0},
       FillStart::refuse,
       "the old column is stale"},
      {"to-new after a to-old walk that finished after writes = new",
       Direction::to_new,
       true,
       to_old_done,
       {15, 0},
       FillStart::fresh,
       ""},
      {"to-new after a verify agreed under writes = both",
       Direction::to_new,
       false,
       to_new_running,
       {15, 16},
       FillStart::resume,
       ""},
      {"to-new when a later writes = new outdates the rollback",
       Direction::to_new,
       true,
       to_old_done,
       {25, 16},
       FillStart::refuse,
       "stale"},
      {"another table or transform starts over",
       Direction::to_new,
       false,
       other_work,
       {},
       FillStart::fresh,
       ""},
      {"h16 #9: to-old finished before a second writes = new",
       Direction::to_old,
       false,
       to_old_done,
       {25, 0},
       FillStart::fresh,
       "finished"},
      {"to-old finished after the last writes = new",
       Direction::to_old,
       false,
       to_old_done,
       {15, 0},
       FillStart::finished,
       ""},
      {"to-old interrupted, then writes = new again",
       Direction::to_old,
       false,
       to_old_running,
       {15, 0},
       FillStart::fresh,
       "began"},
      {"to-old interrupted, writes = new before it began",
       Direction::to_old,
       false,
       to_old_running,
       {5, 0},
       FillStart::resume,
       ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    const FillPlan plan = plan_fill(c.fill, c.restart, c.saved, c.history, kArgs);
    EXPECT_EQ(plan.start, c.start) << plan.reason;
    EXPECT_EQ(plan.reason.empty(), std::string(c.reason).empty()) << plan.reason;
    EXPECT_NE(plan.reason.find(c.reason), std::string::npos) << plan.reason;
  }
}

}  // namespace
}  // namespace switchyard::backfill
