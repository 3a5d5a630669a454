#include "backfill/old_column_users.hpp"

#include <gtest/gtest.h>

namespace switchyard::backfill {
namespace {

TableSpec users_table() {
  TableSpec spec;
  spec.schema = "public";
  spec.table = "users";
  spec.old_column = "status";
  spec.new_column = "state";
  return spec;
}

// What status says about the database relying on the old column, by phase: the words the text
// must hold, and the words it must not.
TEST(OldColumnUsersTest, ExplainsEachFindingForThePhase) {
  using config::Writes;
  struct Case {
    const char* what;
    OldColumnUsers users;
    Writes writes;
    std::vector<std::string> says;
    std::vector<std::string> never;
  };
  const OldColumnUsers views{
      {"view active_users", "function n_active()"}, false, {}, {}, {}, {}, {}};
  const OldColumnUsers one_view{{"view active_users"}, false, {}, {}, {}, {}, {}};
  const OldColumnUsers not_null{{}, true, {}, {}, {}, {}, {}};
  const OldColumnUsers both{{"policy p on table users"}, true, {}, {}, {}, {}, {}};
  const OldColumnUsers guessed{
      {}, false, {"set_status(integer,text)", "touch() (trigger t)"}, {}, {}, {}, {}};
  const OldColumnUsers writable{
      {"view active_users", "view user_statuses"}, false, {}, {"view user_statuses"}, {}, {}, {}};
  const OldColumnUsers unique{{}, false, {}, {}, {"users_status_key", "users_org_status_idx"},
                              {}, {}};
  const OldColumnUsers foreign{{}, false, {}, {}, {}, {"users_org_fkey on users", "t_fk on t"}, {}};
  const OldColumnUsers partitioned{{}, false, {}, {}, {}, {}, {"users", "users_2026"}};
  const std::string drop_not_null =
      "ALTER TABLE \"public\".\"users\" ALTER COLUMN \"status\" DROP NOT NULL";
  const std::vector<Case> cases = {
      {"nothing", OldColumnUsers{}, Writes::new_column, {}, {"status"}},
      {"views while both are written",
       views,
       Writes::both,
       {"view active_users, function n_active() use status.", "rewrites none of them",
        "before writes = \"new\""},
       {"stale values now"}},
      {"one view while both are written",
       one_view,
       Writes::both,
       {"view active_users uses status."},
       {}},
      {"views under writes = new",
       views,
       Writes::new_column,
       {"status is no longer written: they read stale values now",
        "or go back to writes = \"both\""},
       {"before writes = \"new\""}},
      {"NOT NULL before writes = new",
       not_null,
       Writes::both,
       {"status is NOT NULL without a default: writes = \"new\" would make every INSERT",
        "Before that step: " + drop_not_null},
       {"rewrites none"}},
      {"NOT NULL under writes = new",
       not_null,
       Writes::new_column,
       {"under writes = \"new\" every INSERT leaves it out and fails. " + drop_not_null},
       {}},
      {"a policy and NOT NULL",
       both,
       Writes::new_column,
       {"policy p on table users uses status.",
        "go back to writes = \"both\".\nstatus is NOT NULL"},
       {}},
      {"functions that name the column, while both are written",
       guessed,
       Writes::both,
       {"functions whose source names status: set_status(integer,text), touch() (trigger t).",
        "they write it alone", "they will read stale values once writes = \"new\"."},
       {}},
      {"an updatable view that shows the column, while both are written",
       writable,
       Writes::both,
       {"view active_users, view user_statuses use status.",
        "An INSERT or UPDATE through view user_statuses that sets status is not rewritten",
        "it sets status alone, and state drifts for those rows (switchyard verify counts them)",
        "Send those writes to the table"},
       {"through view active_users", "never see it"}},
      {"an updatable view that shows the column, under writes = new",
       writable,
       Writes::new_column,
       {"it sets status alone, and reads, which come from state, never see it. Recreate the "
        "view on state, or send those writes to the table.",
        "they read stale values now"},
       {"drifts"}},
      {"an updatable view that shows the column, while only the old one is written",
       writable,
       Writes::old_column,
       {"view active_users, view user_statuses use status."},
       {"not rewritten"}},
      {"unique indexes without a counterpart while both are written",
       unique,
       Writes::both,
       {"unique index users_status_key, users_org_status_idx over status has no counterpart over "
        "state: once writes = \"new\" leaves status out, nothing would keep state unique. "
        "Before that step: CREATE UNIQUE INDEX CONCURRENTLY"},
       {"unique now"}},
      {"unique indexes without a counterpart under writes = new",
       unique,
       Writes::new_column,
       {"under writes = \"new\" rows leave status out, and nothing keeps state unique now"},
       {"Before that step"}},
      {"foreign keys without a counterpart while both are written",
       foreign,
       Writes::both,
       {"foreign key users_org_fkey on users, t_fk on t over status has no counterpart over "
        "state: once writes = \"new\" leaves status out, the server would check no reference "
        "of the rows written. Before that step: recreate it on state: ADD FOREIGN KEY ... NOT "
        "VALID, then VALIDATE CONSTRAINT."},
       {"checks no reference of theirs now"}},
      {"foreign keys without a counterpart under writes = new",
       foreign,
       Writes::new_column,
       {"under writes = \"new\" rows leave status out, and the server checks no reference of "
        "theirs now",
        "recreate it on state: ADD FOREIGN KEY ... NOT VALID, then VALIDATE CONSTRAINT."},
       {"Before that step"}},
      {"a partition key while both are written",
       partitioned,
       Writes::both,
       {"users, users_2026 are partitioned by status: a partition key column cannot be migrated "
        "with writes = \"new\" (nor dropped): keep writes = \"both\"."},
       {"routes them by NULL"}},
      {"a partition key under writes = new",
       partitioned,
       Writes::new_column,
       {"under writes = \"new\" rows leave status out, so the server routes them by NULL (to "
        "the default partition, or refuses them); a partition key column cannot be migrated"},
       {}},
      {"functions that name the column, under writes = new",
       guessed,
       Writes::new_column,
       {"they read stale values now."},
       {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    const std::string text = explain_old_column_users(users_table(), c.users, c.writes);
    EXPECT_EQ(text.empty(), !c.users.any() && c.users.functions.empty()) << text;
    for (const auto& words : c.says) {
      EXPECT_NE(text.find(words), std::string::npos) << text;
    }
    for (const auto& words : c.never) {
      EXPECT_EQ(text.find(words), std::string::npos) << text;
    }
  }
}

TEST(OldColumnUsersTest, WritableViewsAloneAreWhatTheBothPhaseWarnsOf) {
  const OldColumnUsers only_read{{"view active_users"}, false, {}, {}, {}, {}, {}};
  EXPECT_EQ(explain_writable_views(users_table(), only_read, config::Writes::both), "");
  const OldColumnUsers writable{{"view a", "view b"}, false, {}, {"view a", "view b"}, {}, {}, {}};
  EXPECT_EQ(explain_writable_views(users_table(), writable, config::Writes::both),
            "An INSERT or UPDATE through view a, view b that sets status is not rewritten (it "
            "names the view, not the table): it sets status alone, and state drifts for those "
            "rows (switchyard verify counts them). Send those writes to the table while both "
            "columns are written.");
  EXPECT_EQ(explain_writable_views(users_table(), writable, config::Writes::old_column), "");
}

TEST(OldColumnUsersTest, GuessesAreLeftOutOnRequest) {
  const OldColumnUsers guessed{{}, false, {"set_status(integer,text)"}, {}, {}, {}, {}};
  EXPECT_EQ(explain_old_column_users(users_table(), guessed, config::Writes::new_column, false),
            "");
}

TEST(OldColumnUsersTest, WordPatternEscapesRegexCharacters) {
  EXPECT_EQ(word_pattern("status"), "\\mstatus\\M");
  EXPECT_EQ(word_pattern("a.b$c(d)"), "\\ma\\.b\\$c\\(d\\)\\M");
}

}  // namespace
}  // namespace switchyard::backfill
