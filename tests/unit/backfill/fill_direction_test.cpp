#include "backfill/fill_direction.hpp"

#include <gtest/gtest.h>

namespace switchyard::backfill {
namespace {

// Which column backfill fills for each phase and --direction: never a guess while reads =
// "new", and under writes = "new" there is nothing safe to copy.
TEST(FillDirectionTest, TheColumnAppsReadIsTheTruth) {
  using config::Reads;
  using config::Writes;
  constexpr auto kNone = std::nullopt;
  struct Case {
    const char* what;
    std::optional<Direction> asked;
    Writes writes;
    Reads reads;
    Direction fill;
    const char* error;    // "" = runs
    const char* warning;  // "" = none
  };
  const Case cases[] = {
      {"step 3", kNone, Writes::both, Reads::old_column, Direction::to_new, "", ""},
      {"before dual writes", kNone, Writes::old_column, Reads::old_column, Direction::to_new,
       "Set writes = \"both\", reload every instance", ""},
      {"before dual writes, to-old", Direction::to_old, Writes::old_column, Reads::old_column,
       Direction::to_old, "apps write the old column alone", ""},
      {"reads = new, no direction", kNone, Writes::both, Reads::new_column, Direction::to_new,
       "say which column to fill", ""},
      {"rollback from step 6, writes back to both", Direction::to_old, Writes::both,
       Reads::new_column, Direction::to_old, "", ""},
      {"writes = new, default", kNone, Writes::new_column, Reads::new_column, Direction::to_new,
       "overwrite it with the old column's stale values", ""},
      {"writes = new, to-old", Direction::to_old, Writes::new_column, Reads::new_column,
       Direction::to_old, "the old column is not written", ""},
      {"writes = new, forced to-new", Direction::to_new, Writes::new_column, Reads::new_column,
       Direction::to_new, "overwrite it with the old column's stale values", ""},
      {"to-new while reads = new", Direction::to_new, Writes::both, Reads::new_column,
       Direction::to_new, "", "overwrites the column apps read with to_new(old)"},
      {"to-old while reads = old", Direction::to_old, Writes::both, Reads::old_column,
       Direction::to_old, "set reads = \"new\" and reload now", ""},
      {"to-new while reads = old, asked", Direction::to_new, Writes::both, Reads::old_column,
       Direction::to_new, "", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    const auto choice = choose_fill(c.asked, c.writes, c.reads);
    EXPECT_EQ(choice.fill, c.fill);
    EXPECT_EQ(choice.error.empty(), std::string(c.error).empty()) << choice.error;
    EXPECT_NE(choice.error.find(c.error), std::string::npos) << choice.error;
    EXPECT_EQ(choice.warning.empty(), std::string(c.warning).empty()) << choice.warning;
    EXPECT_NE(choice.warning.find(c.warning), std::string::npos) << choice.warning;
  }
}

}  // namespace
}  // namespace switchyard::backfill
