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

// The database as the last build left it: users is the migration's table (with one
// inheritance child), orders a relation a join looked up, audit a name looked up and absent.
DatabaseRewrite built() {
  DatabaseRewrite database;
  database.database = "app";
  database.catalog = std::make_shared<CatalogCache>();
  database.catalog->add({kUsers, kOrders}, {"users", "orders", "audit"});
  database.mapped_tables = {"users"};
  database.migration_tables = {{"public", "users"}};
  database.descendants = {kUsersOld};
  return database;
}

struct Case {
  const char* what;
  std::vector<RelationColumns> relations;  // the catalog now
  std::vector<Descendant> descendants;
  std::vector<std::string> changed;
  bool rebuild;
};

TEST(CatalogWatchTest, FindsWhatDdlOnAnotherConnectionChanged) {
  RelationColumns users_wider = kUsers;
  users_wider.columns.push_back("email");
  users_wider.types.push_back("text");
  users_wider.generated.push_back(false);
  users_wider.collations.push_back("");
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

  const std::vector<Case> cases = {
      {"nothing changed", {kOrders, kUsers}, {kUsersOld}, {}, false},
      {"a column added to the migration's table",
       {kOrders, users_wider},
       {kUsersOld},
       {"users"},
       true},
      {"a column of the migration's table retyped",
       {kOrders, users_retyped},
       {kUsersOld},
       {"users"},
       true},
      {"a column dropped from a joined table",
       {orders_narrower, kUsers},
       {kUsersOld},
       {"orders"},
       false},
      {"a table of a looked-up name created",
       {audit, kOrders, kUsers},
       {kUsersOld},
       {"audit"},
       false},
      {"a table of the same name in another schema",
       {kOrders, orders_elsewhere, kUsers},
       {kUsersOld},
       {"orders"},
       false},
      {"a joined table dropped", {kUsers}, {kUsersOld}, {"orders"}, false},
      {"a partition created", {kOrders, kUsers}, {kUsersOld, users_new}, {}, true},
      {"a child detached", {kOrders, kUsers}, {}, {}, true},
  };
  for (const Case& c : cases) {
    const DatabaseRewrite database = built();
    const CatalogDrift drift =
        find_drift(database, database.catalog->known_tables(), c.relations, c.descendants);
    EXPECT_EQ(drift.changed_tables, c.changed) << c.what;
    EXPECT_EQ(drift.rebuild, c.rebuild) << c.what;
  }
}

TEST(CatalogWatchTest, ANameForgottenSinceIsNotTakenForAChange) {
  // DDL through the proxy forgot users while the check read the catalog: the next rewrite
  // reads it again, so the check leaves it alone.
  const DatabaseRewrite database = built();
  const std::vector<std::string> tables = database.catalog->known_tables();
  database.catalog->invalidate({"users"});
  RelationColumns users_wider = kUsers;
  users_wider.columns.push_back("email");
  users_wider.types.push_back("text");
  users_wider.generated.push_back(false);
  users_wider.collations.push_back("");
  const CatalogDrift drift = find_drift(database, tables, {kOrders, users_wider}, {kUsersOld});
  EXPECT_TRUE(drift.changed_tables.empty());
  EXPECT_FALSE(drift.rebuild);
}

}  // namespace
}  // namespace switchyard::proxy
