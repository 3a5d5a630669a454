#include "backfill/next_step.hpp"

#include <gtest/gtest.h>

namespace switchyard::backfill {
namespace {

using config::Reads;
using config::Writes;

MigrationFacts facts(Writes w, Reads r) {
  MigrationFacts f;
  f.writes = w;
  f.reads = r;
  return f;
}

// The recipe of DESIGN section 1, one row per situation: what status must say next, and
// whether the situation is wrong now (status exits 1), not merely unfinished.
TEST(NextStepTest, WalksTheRecipe) {
  struct Case {
    const char* what;
    MigrationFacts f;
    const char* expected;
    bool needs_attention = false;
  };
  std::vector<Case> cases;
  auto f = facts(Writes::old_column, Reads::old_column);
  f.new_column_exists = false;
  cases.push_back({"no new column", f, "step 1:"});
  cases.push_back({"declared", facts(Writes::old_column, Reads::old_column), "step 2:"});
  f = facts(Writes::both, Reads::old_column);
  f.new_column_exists = false;
  cases.push_back({"dual writes to a missing column", f, "step 1:", true});
  f.new_column_exists = true;
  cases.push_back({"dual writes, no backfill", f, "step 3: switchyard backfill"});
  f.backfill_state = "running";
  cases.push_back({"interrupted backfill", f, "to resume it"});
  f.backfill_state = "failed";
  cases.push_back({"failed backfill", f, "the last backfill failed", true});
  f.backfill_state = "done";
  f.backfill_current = false;
  cases.push_back({"backfill for an old transform", f, "step 3:"});
  f.backfill_current = true;
  cases.push_back({"backfilled, never verified", f, "step 4: switchyard verify"});
  f.verify_result = "agree";
  f.verify_current = false;
  cases.push_back({"verified before the backfill", f, "step 4: switchyard verify"});
  f.verify_current = true;
  f.verify_result = "disagree";
  cases.push_back({"verify disagrees", f, "do not switch reads", true});
  f.verify_result = "agree";
  cases.push_back({"verified", f, "step 5: set reads = \"new\""});
  f.reads = Reads::new_column;
  cases.push_back({"reads flipped", f, "step 6: "});
  f.verify_result = "";
  cases.push_back({"reads flipped without verify", f, "run switchyard verify", true});
  f.verify_result = "disagree";
  cases.push_back({"reads new, columns disagree", f, "backfill --direction to-old", true});
  f.verify_result = "agree";
  f.verify_current = false;
  f.backfill_filled_old = true;
  cases.push_back(
      {"rolled back: filled the old column, verify not yet", f, "run switchyard verify", true});
  f.verify_current = true;
  cases.push_back({"rolled back and verified", f, "reads = \"old\" is safe now"});
  f.old_column_stale = true;
  cases.push_back({"h16 #11: writes = new again after the rollback was verified", f,
                   "keep reads = \"new\", run switchyard backfill --direction to-old", true});
  f.reads = Reads::old_column;
  cases.push_back({"h16 #5: reads = old in the same save as writes = both", f,
                   "set reads = \"new\" and reload now", true});
  f = facts(Writes::both, Reads::new_column);
  f.backfill_state = "done";
  f.backfill_filled_old = true;
  f.verify_result = "disagree";
  cases.push_back({"h16 #9: an earlier rollback's to-old walk finished", f,
                   "--migration m --restart fills it", true});
  f = facts(Writes::both, Reads::new_column);
  cases.push_back(
      {"reads flipped before any backfill", f, "Set reads = \"old\" and reload now", true});
  f = facts(Writes::new_column, Reads::new_column);
  cases.push_back({"writes new, never backfilled", f, "no backfill has finished", true});
  f.old_column_exists = false;
  cases.push_back({"writes new, never backfilled, the old column gone", f, "step 8: "});
  f.old_column_exists = true;
  f.backfill_state = "done";
  cases.push_back({"writes new, backfilled, never verified", f, "no verify has agreed", true});
  f.verify_result = "disagree";
  cases.push_back({"writes new, verify disagrees", f, "do not drop the old column", true});
  f.verify_result = "agree";
  f.verify_current = false;
  cases.push_back({"writes new, verified before the backfill", f, "no verify has agreed", true});
  f.verify_current = true;
  cases.push_back({"writes new", f, "step 7: "});
  f.old_type_to_keep = "integer";
  cases.push_back({"writes new, the old column of another type", f,
                   "Before the drop, add old_type = \"integer\" to the migration"});
  f.old_type_to_keep = "\"My Schema\".\"Pos Int\"";
  cases.push_back({"writes new, the old column of a quoted user type (valid TOML to paste)", f,
                   "add old_type = \"\\\"My Schema\\\".\\\"Pos Int\\\"\" to the migration"});
  f.old_type_to_keep.clear();
  f.old_column_exists = false;
  cases.push_back({"old column dropped", f, "step 8: "});
  f.new_column_exists = true;
  f = facts(Writes::old_column, Reads::old_column);
  f.defaults_differ = true;
  cases.push_back({"defaults differ before dual writes", f, "step 2, after one fix"});
  f.writes = Writes::both;
  f.backfill_state = "done";
  f.verify_result = "agree";
  cases.push_back({"defaults differ under dual writes", f, "backfill --restart", true});
  f.writes = Writes::new_column;
  f.reads = Reads::new_column;
  cases.push_back(
      {"defaults differ while writing the new column", f, "the defaults disagree", true});
  f.old_column_exists = false;
  cases.push_back({"defaults differ after the old column is dropped", f, "step 8: "});
  f = facts(Writes::both, Reads::new_column);
  f.backfill_state = "done";
  f.verify_result = "agree";
  f.old_column_relied_on = true;
  cases.push_back({"views on the old column before writes = new", f, "step 6, after one fix"});
  f.old_column_partition_key = true;
  cases.push_back({"a partition key over the old column while both are written", f,
                   "stay at writes = \"both\": the old column is a partition key"});
  f.old_column_partition_key = false;
  f.writes = Writes::new_column;
  cases.push_back({"views on the old column under writes = new", f, "no longer written", true});
  f.old_column_partition_key = true;
  cases.push_back({"a partition key over the old column under writes = new", f,
                   "the old column is a partition key and no longer written", true});
  f.old_column_partition_key = false;
  f.old_column_exists = false;
  cases.push_back({"the old column is gone", f, "step 8: "});
  for (const auto& c : cases) {
    auto step = next_step(c.f, "m", "c.toml");
    EXPECT_NE(step.text.find(c.expected), std::string::npos) << c.what << ": " << step.text;
    EXPECT_EQ(step.needs_attention, c.needs_attention) << c.what;
  }
}

// A verify's counts per direction decide the advice: rows that disagree both ways were written
// to one column only (writers, then backfill --restart), rows that disagree one way are where
// the transforms are not inverses, which no writer or backfill changes.
TEST(NextStepTest, OneWayDisagreementNamesTheTransforms) {
  struct Case {
    const char* what;
    Reads reads;
    long long to_new, to_old, either;
    const char* expected;
    const char* not_expected;
  };
  const Case cases[] = {
      {"both ways: a writer missed a column", Reads::old_column, 3, 3, 3, "backfill --restart",
       "not inverses"},
      {"to-old only (lower/initcap)", Reads::old_column, 0, 2, 2, "the transforms are not inverses",
       "backfill --restart"},
      {"to-old only, counted by an earlier version", Reads::old_column, 0, 2, -1,
       "the transforms are not inverses", "backfill --restart"},
      {"to-old only and to-new only rows, none both ways", Reads::old_column, 1, 2, 3,
       "would change what apps see", "backfill --restart"},
      {"one row both ways among one-way rows", Reads::old_column, 1, 2, 2, "backfill --restart",
       "not inverses"},
      {"mixed, counted by an earlier version", Reads::old_column, 1, 2, -1, "backfill --restart",
       "not inverses"},
      {"to-new only: an app wrote the new column", Reads::old_column, 2, 0, 2,
       "verify --direction to-old", "backfill --restart"},
      {"to-old only while reads = new", Reads::new_column, 0, 2, 2,
       "Set reads = \"old\" and reload now", "--direction to-old"},
      {"both ways while reads = new", Reads::new_column, 2, 2, 2, "backfill --direction to-old",
       "not inverses"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto f = facts(Writes::both, c.reads);
    f.backfill_state = "done";
    f.verify_result = "disagree";
    f.verify_to_new = c.to_new;
    f.verify_to_old = c.to_old;
    f.verify_either = c.either;
    const auto step = next_step(f, "m", "c.toml");
    EXPECT_NE(step.text.find(c.expected), std::string::npos) << step.text;
    EXPECT_EQ(step.text.find(c.not_expected), std::string::npos) << step.text;
    EXPECT_TRUE(step.needs_attention);
  }
}

TEST(NextStepTest, CommandsCarryTheConfigAndMigration) {
  auto step = next_step(facts(Writes::both, Reads::old_column), "users-x", "/etc/s.toml");
  EXPECT_NE(step.text.find("--config /etc/s.toml --migration users-x"), std::string::npos)
      << step.text;
  // A table walked by --key-index: the printed commands fail without it (h16 #3).
  auto f = facts(Writes::both, Reads::old_column);
  f.backfill_state = "done";
  step = next_step(f, "nopk", "c.toml", "nopk_a");
  EXPECT_NE(step.text.find("switchyard verify --config c.toml --migration nopk --key-index nopk_a"),
            std::string::npos)
      << step.text;
}

}  // namespace
}  // namespace switchyard::backfill
