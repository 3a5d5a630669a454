// to_rewrite_migration: config identifiers as written become the names Postgres stores.
// server_writer_warnings: what the server writes by itself past the rewrite, as warned at load.
// fill_column_types / keep_dropped_old_column: where the old column stood, across its drop.
// flags_generation: which reloads start one (what sessions_on_old_generation counts against).

#include "proxy/snapshot_builder.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "rewrite/rewriter.hpp"

namespace switchyard::proxy {
namespace {

TEST(ToRewriteMigrationTest, QuotedIdentifiersLoseTheirQuotes) {
  config::Migration m;
  m.name = "m";
  m.schema = "\"Sales\"";
  m.table = "orders";
  m.old_column = "\"Order \"\"Status\"\"\"";
  m.new_column = "state";
  m.writes = config::Writes::both;
  m.reads = config::Reads::new_column;
  auto out = to_rewrite_migration(m);
  EXPECT_EQ(out.schema, "Sales");
  EXPECT_EQ(out.table, "orders");
  EXPECT_EQ(out.old_column, "Order \"Status\"");
  EXPECT_EQ(out.new_column, "state");
  EXPECT_EQ(out.writes, rewrite::Writes::both);
  EXPECT_EQ(out.reads, rewrite::Reads::new_column);
}

config::Migration users_migration(config::Writes writes) {
  config::Migration m;
  m.name = "users-status";
  m.schema = "public";
  m.table = "users";
  m.old_column = "status";
  m.new_column = "state";
  m.writes = writes;
  return m;
}

std::shared_ptr<const Snapshot> build_after(std::shared_ptr<const Snapshot> previous,
                                            const std::string& text, std::uint64_t generation) {
  auto loaded = config::parse_config(text);
  EXPECT_TRUE(loaded.ok());
  auto built = build_snapshot(std::move(*loaded.config), generation,
                              BuildOptions{.use_catalog = false,
                                           .unreachable_hint = {},
                                           .previous = std::move(previous),
                                           .unreachable = nullptr});
  return std::get<std::shared_ptr<const Snapshot>>(built);
}

// A transaction open across a reload that changes no migration's flags writes as the running
// config does: it must not count as on an old generation (runbook steps 3 and 6).
TEST(FlagsGenerationTest, OnlyAReloadChangingAMigrationStartsOne) {
  const std::string base =
      "[listen]\naddress = \"127.0.0.1:0\"\n[upstream]\naddress = \"127.0.0.1:1\"\n"
      "tls = \"disable\"\nuser = \"u\"\ndatabase = \"app\"\n";
  auto migration = [](const std::string& writes, const std::string& extra) {
    return "[[migration]]\nname = \"m\"\ntable = \"public.users\"\nold_column = \"status\"\n"
           "new_column = \"state\"\nreads = \"old\"\nwrites = \"" +
           writes + "\"\n" + extra;
  };
  const struct {
    std::string text;
    std::uint64_t flags_generation;
  } steps[] = {
      {base + migration("old", ""), 1},
      {base + migration("old", ""), 1},                      // a SIGHUP, a catalog change
      {"# a comment\n\n" + base + migration("old", ""), 1},  // lines moved
      {base + "[admin]\naddress = \"127.0.0.1:0\"\n" + migration("old", ""), 1},
      {base + migration("both", ""), 5},  // the flip
      {base + migration("both", "on_unsupported = \"passthrough\"\n"), 6},
      {base + migration("both", "on_unsupported = \"passthrough\"\n"), 6},
      {base + migration("both",
                        "to_new = \"upper({value})\"\nto_old = \"lower({value})\"\n"
                        "on_unsupported = \"passthrough\"\n"),
       8},
      {base, 9},  // the migration removed
  };
  std::shared_ptr<const Snapshot> running;
  std::uint64_t generation = 0;
  for (const auto& step : steps) {
    SCOPED_TRACE(generation + 1);
    running = build_after(running, step.text, ++generation);
    ASSERT_TRUE(running);
    EXPECT_EQ(running->generation, generation);
    EXPECT_EQ(running->flags_generation, step.flags_generation);
  }
}

TEST(ServerWriterWarningsTest, EachWriterPastTheRewriteIsNamedWithWhatToDo) {
  using W = config::Writes;
  const ServerWriter cascade_old{0, "foreign key", "old", "users_status_fkey", "statuses", "ca"};
  const ServerWriter cascade_new{0, "foreign key", "new", "users_state_fkey", "statuses", "ca"};
  const ServerWriter set_null_new{0, "foreign key", "new", "users_state_fkey", "statuses", "an"};
  const ServerWriter trigger{0, "trigger", "before", "users_norm", "INSERT OR UPDATE", ""};
  const ServerWriter after{0, "trigger", "after", "users_audit", "UPDATE", ""};
  const ServerWriter generated{0, "generated", "old", "status_length", "", ""};
  const ServerWriter check{0, "check", "old", "users_status_check", "", ""};
  const ServerWriter old_default{0, "default", "old", "", "'active'::text", ""};
  struct Case {
    const char* what;
    W writes;
    std::vector<ServerWriter> writers;
    std::vector<std::string> expected;  // a part of each warning, in order
  };
  const std::vector<Case> cases = {
      {"nothing", W::both, {}, {}},
      {"a default is the defaults warning's, not this one's", W::both, {old_default}, {}},
      {"ON UPDATE CASCADE on the old column",
       W::both,
       {cascade_old},
       {"foreign key users_status_fkey on public.users.status references statuses ON UPDATE "
        "CASCADE: the server then changes status alone, past the rewrite; give state the same "
        "foreign key"}},
      {"the same foreign key on both columns keeps them alike",
       W::both,
       {cascade_new, cascade_old},
       {}},
      {"another action on the new column does not mirror it",
       W::both,
       {set_null_new, cascade_old},
       {"users_state_fkey on public.users.state references statuses ON DELETE SET NULL: the "
        "server then changes state alone",
        "users_status_fkey on public.users.status"}},
      {"a BEFORE ROW trigger",
       W::both,
       {trigger},
       {"BEFORE ROW trigger users_norm (INSERT OR UPDATE) on public.users runs after the "
        "rewrite: if it assigns NEW.status or NEW.state alone"}},
      {"an AFTER ROW trigger",
       W::both,
       {after},
       {"AFTER ROW trigger users_audit (UPDATE) on public.users: a write of status or state its "
        "function makes by a statement of its own runs in the server, past the rewrite"}},
      {"a generated column from the old column, ahead of writes = new",
       W::both,
       {generated},
       {"generated column status_length of public.users is computed from status: once writes = "
        "\"new\" status is not written"}},
      {"a CHECK constraint on the old column under writes = new",
       W::new_column,
       {check},
       {"CHECK constraint users_status_check of public.users uses status: under writes = "
        "\"new\" status is not written, so it no longer checks"}},
      {"nothing while writes = old", W::old_column, {cascade_old, trigger, generated, check}, {}},
  };
  for (const auto& c : cases) {
    const auto warnings = server_writer_warnings(users_migration(c.writes), c.writers);
    ASSERT_EQ(warnings.size(), c.expected.size()) << c.what;
    for (std::size_t i = 0; i < warnings.size(); ++i) {
      EXPECT_EQ(warnings[i].migration, "users-status") << c.what;
      EXPECT_NE(warnings[i].message.find(c.expected[i]), std::string::npos)
          << c.what << ": " << warnings[i].message;
    }
  }
}

// The rules built while O exists remember its attnum; the rules built after it is dropped (a
// catalog check, a reload) carry it over, generation after generation, and with it O's type.
TEST(KeepDroppedOldColumnTest, TheOldColumnsSlotOutlivesTheDrop) {
  const config::Migration m = users_migration(config::Writes::new_column);
  RelationColumns before;
  before.name = {"public", "users"};
  before.columns = {"id", "status", "name", "state"};
  before.types = {"integer", "text", "text", "text"};
  before.generated = {false, false, false, false};
  before.collations = {"", "pg_catalog.\"default\"", "", ""};
  before.attnums = {1, 2, 3, 4};
  before.oid = 16384;
  RelationColumns after = before;
  after.columns = {"id", "name", "state"};
  after.types = {"integer", "text", "text"};
  after.generated = {false, false, false};
  after.collations = {"", "", ""};
  after.attnums = {1, 3, 4};
  after.dropped = {2};

  std::vector<rewrite::Migration> rules = {to_rewrite_migration(m)};
  fill_column_types(rules[0], {before});
  EXPECT_EQ(rules[0].old_attnum, 2);

  DatabaseRewrite running;
  for (int generation = 0; generation < 2; ++generation) {
    running.rewriter = std::make_shared<const rewrite::Rewriter>(rules);
    rules = {to_rewrite_migration(m)};
    fill_column_types(rules[0], {after});
    EXPECT_EQ(rules[0].old_attnum, 0);
    keep_dropped_old_column(m, rules, &running, {after});
    EXPECT_EQ(rules[0].old_attnum, 2) << generation;
    EXPECT_EQ(rules[0].old_relid, 16384u) << generation;
    EXPECT_EQ(rules[0].old_type, "text") << generation;
  }
}

// The table renamed after the drop (the rules follow it by OID): the slot and the type go with
// the relation, not with the name, even with two dropped slots to choose from.
TEST(KeepDroppedOldColumnTest, TheSlotFollowsTheRelationRenamed) {
  config::Migration m = users_migration(config::Writes::new_column);
  RelationColumns renamed;
  renamed.name = {"archive", "users_old"};
  renamed.columns = {"id", "state"};
  renamed.types = {"integer", "text"};
  renamed.generated = {false, false};
  renamed.collations = {"", ""};
  renamed.attnums = {1, 4};
  renamed.dropped = {2, 3};
  renamed.oid = 16384;

  rewrite::Migration was = to_rewrite_migration(m);
  was.old_attnum = 2;
  was.old_relid = 16384;
  was.old_type = "text";
  DatabaseRewrite running;
  running.rewriter = std::make_shared<const rewrite::Rewriter>(std::vector{was});

  m.schema = "archive";
  m.table = "users_old";
  std::vector<rewrite::Migration> rules = {to_rewrite_migration(m)};
  fill_column_types(rules[0], {renamed});
  keep_dropped_old_column(m, rules, &running, {renamed});
  EXPECT_EQ(rules[0].old_attnum, 2);
  EXPECT_EQ(rules[0].old_relid, 16384u);
  EXPECT_EQ(rules[0].old_type, "text");

  // Another relation under the name: nothing carried over.
  renamed.oid = 20000;
  rules = {to_rewrite_migration(m)};
  keep_dropped_old_column(m, rules, &running, {renamed});
  EXPECT_EQ(rules[0].old_attnum, 0);
}

// A proxy started after the drop takes the table's only dropped slot as O's, and keeps it when
// another column is dropped later (two slots to choose from then).
TEST(KeepDroppedOldColumnTest, TheOnlyDroppedSlotIsKeptOnceTaken) {
  const config::Migration m = users_migration(config::Writes::new_column);
  RelationColumns dropped;
  dropped.name = {"public", "users"};
  dropped.columns = {"id", "extra", "name", "state"};
  dropped.types = {"integer", "integer", "text", "text"};
  dropped.generated = {false, false, false, false};
  dropped.collations = {"", "", "", ""};
  dropped.attnums = {1, 3, 4, 5};
  dropped.dropped = {2};
  dropped.oid = 16384;
  RelationColumns another_dropped = dropped;
  another_dropped.columns = {"id", "name", "state"};
  another_dropped.types = {"integer", "text", "text"};
  another_dropped.generated = {false, false, false};
  another_dropped.collations = {"", "", ""};
  another_dropped.attnums = {1, 4, 5};
  another_dropped.dropped = {2, 3};

  std::vector<rewrite::Migration> rules = {to_rewrite_migration(m)};
  fill_column_types(rules[0], {dropped});
  keep_dropped_old_column(m, rules, nullptr, {dropped});
  EXPECT_EQ(rules[0].old_attnum, 2);
  EXPECT_EQ(rules[0].old_relid, 16384u);

  DatabaseRewrite running;
  running.rewriter = std::make_shared<const rewrite::Rewriter>(rules);
  rules = {to_rewrite_migration(m)};
  fill_column_types(rules[0], {another_dropped});
  keep_dropped_old_column(m, rules, &running, {another_dropped});
  EXPECT_EQ(rules[0].old_attnum, 2);
  EXPECT_EQ(rules[0].old_relid, 16384u);

  // Two dropped slots and nothing remembered: not known (the rewrite refuses the order).
  rules = {to_rewrite_migration(m)};
  fill_column_types(rules[0], {another_dropped});
  keep_dropped_old_column(m, rules, nullptr, {another_dropped});
  EXPECT_EQ(rules[0].old_attnum, 0);
}

}  // namespace
}  // namespace switchyard::proxy
