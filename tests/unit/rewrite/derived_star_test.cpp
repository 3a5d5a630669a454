// A derived table or CTE that takes `*` from a table without a migration: its columns come from
// the catalog whichever FROM item comes first, so that a bare old column beside it resolves as
// Postgres resolves it (DESIGN §3: "unqualified names when T is the only relation in scope with
// that column").

#include "rewrite_test_support.hpp"

namespace switchyard::rewrite::test {
namespace {

TEST(DerivedStarTest, ColumnsOfAStarOverAnUnmappedTableAreKnownInEitherOrder) {
  run_table(
      users_migration(Writes::both, Reads::new_column),
      {
          {"SELECT status FROM (SELECT * FROM accounts) s2, users WHERE s2.id = 1",
           "SELECT state AS status FROM (SELECT * FROM accounts) s2, users WHERE s2.id = 1"},
          {"SELECT status FROM users, (SELECT * FROM accounts) s2 WHERE s2.id = 1",
           "SELECT state AS status FROM users, (SELECT * FROM accounts) s2 WHERE s2.id = 1"},
          {"SELECT status FROM (SELECT a.* FROM accounts a) s2, users",
           "SELECT state AS status FROM (SELECT a.* FROM accounts a) s2, users"},
          {"SELECT status FROM (SELECT *, 1 AS x FROM accounts) s2 JOIN users ON s2.x = users.id",
           "SELECT state AS status FROM (SELECT *, 1 AS x FROM accounts) s2 JOIN users ON s2.x = "
           "users.id"},
          {"SELECT status FROM (SELECT * FROM accounts) s2 CROSS JOIN users",
           "SELECT state AS status FROM (SELECT * FROM accounts) s2 CROSS JOIN users"},
          {"WITH c AS (SELECT * FROM accounts) SELECT status FROM c, users",
           "WITH c AS (SELECT * FROM accounts) SELECT state AS status FROM c, users"},
          {"SELECT status FROM (SELECT * FROM (SELECT * FROM accounts) i) s2, users",
           "SELECT state AS status FROM (SELECT * FROM (SELECT * FROM accounts) i) s2, users"},
          // A table that has the name too: Postgres answers 42702, the rewrite refuses, in
          // either order.
          {"SELECT status FROM (SELECT * FROM orders) s2, users", nullptr, kRejected,
           "with certainty"},
          {"SELECT status FROM users, (SELECT * FROM orders) s2", nullptr, kRejected,
           "with certainty"},
          // Columns no catalog tells (a function returning record) stay a doubt.
          {"SELECT status FROM (SELECT * FROM my_rows() AS r) s2, users", nullptr, kRejected,
           "with certainty"},
      });
}

TEST(DerivedStarTest, ATypeChangeResolvesTheSameWay) {
  Migration m = users_migration(Writes::both, Reads::new_column, true);
  run_table(m, {
                   {"SELECT status FROM (SELECT * FROM accounts) s2, users",
                    "SELECT (CASE (state) WHEN 1 THEN 'active' WHEN 0 THEN 'inactive' END) AS "
                    "status FROM (SELECT * FROM accounts) s2, users"},
               });
}

}  // namespace
}  // namespace switchyard::rewrite::test
