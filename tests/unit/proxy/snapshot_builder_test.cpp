// to_rewrite_migration: config identifiers as written become the names Postgres stores.

#include "proxy/snapshot_builder.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace switchyard::proxy
