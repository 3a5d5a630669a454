#include "proxy/catalog_watch.hpp"

#include <gtest/gtest.h>

namespace switchyard::proxy {
namespace {

RelationColumns relation(std::string schema, std::string table, std::vector<std::string> columns,
                         std::vector<std::string> types) {
  RelationColumns r;
  r.name = {std::move(schema), std::move(table)};
  r.columns = std::move(columns);
  r.types = std::move(types);
  r.generated.assign(r.columns.size(), false);
  r.collations.assign(r.columns.size(), "");
  return r;
}

const RelationColumns kUsers =
    relation("public", "users", {"id", "status", "state"}, {"integer", "text", "smallint"});
const RelationColumns kOrders =
    relation("public", "orders", {"id", "user_id"}, {"bigint", "integer"});
const Descendant kUsersOld{{"public", "users"}, {"public", "users_old"}};
CatalogFunction function(const char* schema, const char* name, char volatility,
                         rewrite::FunctionOutput output = {}) {
  return CatalogFunction{{schema, name}, {volatility, std::move(output)}};
}
const CatalogFunction kSlug =
    function("public", "slug", 's', {rewrite::FunctionOutput::Kind::columns, {"id", "slug"}, {}});

// The database as the last build left it: users is the migration's table (with one
// inheritance child), orders a relation a join looked up, audit a name looked up and absent.
DatabaseRewrite built() {
  DatabaseRewrite database;
  database.database = "app";
  database.catalog = std::make_shared<CatalogCache>();
  database.catalog->add({kUsers, kOrders}, {"users", "orders", "audit"});
  database.catalog->add_functions({kSlug}, {"slug"});
  database.mapped_tables = {"users"};
  database.migration_tables = {{"public", "users"}};
  database.descendants = {kUsersOld};
  database.mapped_relations = {kUsers};
  return database;
}

RelationColumns with_email(RelationColumns r) {
  r.columns.push_back("email");
  r.types.push_back("text");
  r.generated.push_back(false);
  r.collations.push_back("");
  return r;
}

struct Case {
  const char* what;
  std::vector<RelationColumns> relations;  // the catalog now
  std::vector<Descendant> descendants;
  std::vector<CatalogFunction> functions;
  std::vector<std::string> changed;
  std::vector<std::string> changed_functions;
  bool rebuild;
};

TEST(CatalogWatchTest, FindsWhatDdlOnAnotherConnectionChanged) {
  const RelationColumns users_wider = with_email(kUsers);
  RelationColumns users_retyped = kUsers;
  users_retyped.types[2] = "integer";
  RelationColumns orders_narrower = kOrders;
  orders_narrower.columns.pop_back();
  orders_narrower.types.pop_back();
  orders_narrower.generated.pop_back();
  orders_narrower.collations.pop_back();
  const RelationColumns audit = relation("public", "audit", {"id"}, {"integer"});
  const RelationColumns orders_elsewhere = relation("sales", "orders", {"id"}, {"integer"});
  const Descendant users_new{{"public", "users"}, {"public", "users_new"}};
  RelationColumns users_moved = kUsers;
  users_moved.attnums = {1, 2, 4};
  users_moved.dropped = {3};
  RelationColumns users_rebuilt = kUsers;
  users_rebuilt.oid = 16500;

  CatalogFunction slug_volatile = kSlug;
  slug_volatile.facts.volatility = 'v';
  const CatalogFunction slug_elsewhere = function("util", "slug", 'i');
  CatalogFunction slug_wider = kSlug;
  slug_wider.facts.output.columns.push_back("email");

  const std::vector<Case> cases = {
      {"nothing changed", {kOrders, kUsers}, {kUsersOld}, {kSlug}, {}, {}, false},
      {"a column added to the migration's table",
       {kOrders, users_wider},
       {kUsersOld},
       {kSlug},
       {"users"},
       {},
       true},
      {"a column of the migration's table retyped",
       {kOrders, users_retyped},
       {kUsersOld},
       {kSlug},
       {"users"},
       {},
       true},
      {"a column dropped from a joined table",
       {orders_narrower, kUsers},
       {kUsersOld},
       {kSlug},
       {"orders"},
       {},
       false},
      {"a table of a looked-up name created",
       {audit, kOrders, kUsers},
       {kUsersOld},
       {kSlug},
       {"audit"},
       {},
       false},
      {"a table of the same name in another schema",
       {kOrders, orders_elsewhere, kUsers},
       {kUsersOld},
       {kSlug},
       {"orders"},
       {},
       false},
      {"a joined table dropped", {kUsers}, {kUsersOld}, {kSlug}, {"orders"}, {}, false},
      {"the migration's last column dropped and added again: only its attnum moved",
       {kOrders, users_moved},
       {kUsersOld},
       {kSlug},
       {"users"},
       {},
       false},
      {"the migration's table rebuilt under its name: same columns, another relation",
       {kOrders, users_rebuilt},
       {kUsersOld},
       {kSlug},
       {"users"},
       {},
       true},
      {"a partition created", {kOrders, kUsers}, {kUsersOld, users_new}, {kSlug}, {}, {}, true},
      {"a child detached", {kOrders, kUsers}, {}, {kSlug}, {}, {}, true},
      {"a function made VOLATILE",
       {kOrders, kUsers},
       {kUsersOld},
       {slug_volatile},
       {},
       {"slug"},
       false},
      {"a function of the same name in another schema",
       {kOrders, kUsers},
       {kUsersOld},
       {kSlug, slug_elsewhere},
       {},
       {"slug"},
       false},
      {"a function's columns in FROM changed (its row type gained one)",
       {kOrders, kUsers},
       {kUsersOld},
       {slug_wider},
       {},
       {"slug"},
       false},
      {"a function dropped", {kOrders, kUsers}, {kUsersOld}, {}, {}, {"slug"}, false},
  };
  for (const Case& c : cases) {
    const DatabaseRewrite database = built();
    CatalogNow now;
    now.tables = database.catalog->known_tables();
    now.relations = c.relations;
    now.function_names = database.catalog->known_functions();
    now.functions = c.functions;
    now.descendants = c.descendants;
    const CatalogDrift drift = find_drift(database, now);
    EXPECT_EQ(drift.changed_tables, c.changed) << c.what;
    EXPECT_EQ(drift.changed_functions, c.changed_functions) << c.what;
    EXPECT_EQ(drift.rebuild, c.rebuild) << c.what;
  }
}

TEST(CatalogWatchTest, ANameForgottenSinceIsNotTakenForAChange) {
  // DDL through the proxy forgot orders and slug while the check read the catalog: the next
  // rewrite reads them again, so the check leaves them alone.
  const DatabaseRewrite database = built();
  CatalogNow now;
  now.tables = database.catalog->known_tables();
  now.function_names = database.catalog->known_functions();
  database.catalog->invalidate({"orders"});
  database.catalog->invalidate_functions({"slug"});
  now.relations = {with_email(kOrders), kUsers};
  now.functions = {function("public", "slug", 'v')};
  now.descendants = {kUsersOld};
  const CatalogDrift drift = find_drift(database, now);
  EXPECT_TRUE(drift.changed_tables.empty());
  EXPECT_TRUE(drift.changed_functions.empty());
  EXPECT_FALSE(drift.rebuild);
}

TEST(CatalogWatchTest, DdlThroughTheProxyOnTheMigrationsTableBuildsTheRulesAgain) {
  // The cache forgot users at once (the session's own DDL), but the rules keep the types they
  // were built with until the check compares the table with what they were built from.
  const DatabaseRewrite database = built();
  database.catalog->invalidate({"users"});
  RelationColumns users_retyped = kUsers;
  users_retyped.types[2] = "integer";
  CatalogNow now;
  now.tables = {"orders", "audit", "users"};
  now.relations = {kOrders, users_retyped};
  now.descendants = {kUsersOld};
  const CatalogDrift drift = find_drift(database, now);
  EXPECT_TRUE(drift.changed_tables.empty()) << "nothing cached to forget";
  EXPECT_TRUE(drift.rebuild);
}

TEST(CatalogWatchTest, WhatTheServerWritesByItselfChangingBuildsTheWarningsAgain) {
  const ServerWriter old_default{0, "default", "old", "", "'active'::text", ""};
  const ServerWriter trigger{0, "trigger", "", "users_norm", "INSERT OR UPDATE", ""};
  struct WritersCase {
    const char* what;
    std::vector<ServerWriter> built;
    std::vector<ServerWriter> now;
    bool rebuild;
  };
  const std::vector<WritersCase> cases = {
      {"nothing changed", {old_default}, {old_default}, false},
      {"a default set on the old column", {}, {old_default}, true},
      {"a default changed",
       {old_default},
       {{0, "default", "old", "", "'inactive'::text", ""}},
       true},
      {"a default dropped", {old_default}, {}, true},
      {"a trigger created", {old_default}, {old_default, trigger}, true},
  };
  for (const auto& c : cases) {
    DatabaseRewrite database = built();
    database.server_writers = c.built;
    CatalogNow now;
    now.tables = database.catalog->known_tables();
    now.relations = {kOrders, kUsers};
    now.function_names = database.catalog->known_functions();
    now.functions = {kSlug};
    now.descendants = {kUsersOld};
    now.server_writers = c.now;
    const CatalogDrift drift = find_drift(database, now);
    EXPECT_TRUE(drift.changed_tables.empty()) << c.what;
    EXPECT_EQ(drift.rebuild, c.rebuild) << c.what;
    EXPECT_EQ(drift.server_writers, c.rebuild) << c.what;
  }
}

TEST(CatalogWatchTest, AStartedCheckShowsOnBeforeItsFirstPass) {
  // /config reads "off" from on = false: a check that is on but has not run yet is "none".
  for (const auto interval : {std::chrono::milliseconds(60000), std::chrono::milliseconds(0)}) {
    auto state = std::make_shared<ProxyState>();
    auto config = std::make_shared<config::Config>();
    config->upstream.catalog_check_interval = interval;
    auto snapshot = std::make_shared<Snapshot>();
    snapshot->generation = 1;
    snapshot->config = config;
    state->publish(snapshot);
    CatalogWatch watch(state);
    watch.start();
    EXPECT_EQ(state->catalog_check().on, interval.count() > 0) << interval.count();
    EXPECT_EQ(state->catalog_check().time.time_since_epoch().count(), 0);
    watch.stop();
  }
}

}  // namespace
}  // namespace switchyard::proxy

namespace switchyard::proxy {
namespace {

// A rebuild (the catalog check's) reads the catalog while a session's DDL commits, and is
// published after the session forgot the changed table in its own snapshot: the sessions that
// adopt it would take the columns from before. The DDL makes the latest snapshot forget the
// table too, and a snapshot published after DDL since its build forgets every table it knows.
TEST(CatalogWatchTest, DdlThroughASessionReachesTheLatestSnapshotsCatalog) {
  ProxyState state;
  auto first = std::make_shared<Snapshot>();
  first->generation = 1;
  first->databases.push_back(built());
  state.publish(first);
  const rewrite::QualifiedName users{"public", "users"};
  const rewrite::QualifiedName orders{"public", "orders"};
  const std::uint64_t epoch = state.ddl_epoch();

  auto rebuilt = std::make_shared<Snapshot>();  // built while the DDL runs
  rebuilt->generation = 2;
  rebuilt->databases.push_back(built());
  state.ddl_committed({"users"}, false, nullptr);
  EXPECT_FALSE(first->databases[0].catalog->columns(users).has_value());
  EXPECT_TRUE(first->databases[0].catalog->columns(orders).has_value());

  state.publish(rebuilt);
  ASSERT_TRUE(rebuilt->databases[0].catalog->columns(users).has_value());
  state.forget_if_ddl_since(epoch, *rebuilt);
  EXPECT_FALSE(rebuilt->databases[0].catalog->columns(users).has_value());
  EXPECT_FALSE(rebuilt->databases[0].catalog->columns(orders).has_value());

  // Built and published with no DDL in between: kept.
  auto quiet = std::make_shared<Snapshot>();
  quiet->generation = 3;
  quiet->databases.push_back(built());
  const std::uint64_t now = state.ddl_epoch();
  state.publish(quiet);
  state.forget_if_ddl_since(now, *quiet);
  EXPECT_TRUE(quiet->databases[0].catalog->columns(users).has_value());
}

}  // namespace
}  // namespace switchyard::proxy
