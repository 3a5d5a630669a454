// What the proxy says when the server has no database of a name the config gives: the keys
// that name it, so that the operator knows which line to correct.

#include "proxy/catalog_client.hpp"

#include <gtest/gtest.h>

namespace switchyard::proxy {
namespace {

config::Migration migration(std::string name, std::string database) {
  config::Migration m;
  m.name = std::move(name);
  m.schema = "public";
  m.table = "users";
  m.old_column = "status";
  m.new_column = "state";
  m.database = std::move(database);
  return m;
}

TEST(MissingDatabaseTest, NamesTheKeysThatGiveTheDatabase) {
  config::Config c;
  c.source = "switchyard.toml";
  c.upstream.address = {"127.0.0.1", 5432};
  c.upstream.database = "app";
  c.migrations = {migration("a", ""), migration("b", "tenant"), migration("c", "app"),
                  migration("d", "tenant")};
  struct Row {
    std::string database;
    std::string keys;
  };
  const std::vector<Row> rows = {
      // Through the default and through a migration's own key alike.
      {"app", "[upstream] database, migration[2].database (\"c\")"},
      {"tenant", "migration[1].database (\"b\"), migration[3].database (\"d\")"},
      // Named by nothing the config says (backfill's own choice): the default.
      {"other", "[upstream] database"},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(keys_naming_database(c, row.database), row.keys) << row.database;
  }
  EXPECT_EQ(missing_database_message(c, "tenant"),
            "database \"tenant\" does not exist on upstream 127.0.0.1:5432 (3D000); it is named "
            "by migration[1].database (\"b\"), migration[3].database (\"d\") in "
            "switchyard.toml: create the database, or correct the key");
}

}  // namespace
}  // namespace switchyard::proxy
