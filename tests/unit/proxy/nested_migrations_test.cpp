// nested_migration_errors: a migration declared on a partition or inheritance child of another
// migration's table, over a column the other rewrites too, is refused.

#include "proxy/nested_migrations.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchyard::proxy {
namespace {

config::Migration migration(std::string name, std::string table, std::string old_column,
                            std::string new_column) {
  config::Migration m;
  m.name = std::move(name);
  m.schema = "public";
  m.table = std::move(table);
  m.old_column = std::move(old_column);
  m.new_column = std::move(new_column);
  return m;
}

struct NestedCase {
  const char* what;
  config::Migration nested;
  std::vector<Descendant> descendants;
  std::string expected;  // a part of the one error; "" for none
};

TEST(NestedMigrationErrorsTest, ASharedColumnOfADescendantIsRefused) {
  const config::Migration root = migration("root", "q", "o", "n");
  const std::vector<Descendant> q1_of_q = {{{"public", "q"}, {"public", "q1"}}};
  const std::vector<NestedCase> cases = {
      {"same old and new column", migration("leaf", "q1", "o", "n"), q1_of_q,
       "migration \"leaf\" on public.q1 and migration \"root\" on public.q both rewrite column "
       "o: public.q1 is a partition or inheritance child of public.q, which \"root\" covers too"},
      {"the new column only", migration("leaf", "q1", "x", "n"), q1_of_q, "both rewrite column n"},
      {"its old column is the root's new one", migration("leaf", "q1", "n", "y"), q1_of_q,
       "both rewrite column n"},
      {"a quoted name is the same column", migration("leaf", "q1", "\"o\"", "m"), q1_of_q,
       "keep \"root\" on public.q and remove \"leaf\""},
      {"a grandchild",
       migration("leaf", "q11", "o", "m"),
       {{{"public", "q"}, {"public", "q1"}}, {{"public", "q"}, {"public", "q11"}}},
       "public.q11 is a partition or inheritance child of public.q"},
      {"other columns of the descendant", migration("leaf", "q1", "a", "b"), q1_of_q, ""},
      {"a table outside the tree", migration("other", "r", "o", "n"), q1_of_q, ""},
      {"no descendants", migration("leaf", "q1", "o", "n"), {}, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    const auto errors = nested_migration_errors({&root, &c.nested}, c.descendants);
    if (c.expected.empty()) {
      EXPECT_TRUE(errors.empty()) << errors.front().message;
      continue;
    }
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors.front().nested, &c.nested);
    EXPECT_NE(errors.front().message.find(c.expected), std::string::npos) << errors.front().message;
  }
}

}  // namespace
}  // namespace switchyard::proxy
