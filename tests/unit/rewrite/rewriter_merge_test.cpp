// MERGE (DESIGN §3): each action follows the rule of the statement it stands for (UPDATE SET,
// INSERT VALUES); the join condition, WHEN conditions and values follow the read rule.

#include "rewrite_test_support.hpp"

namespace switchyard::rewrite::test {
namespace {

#define TO_NEW(v) "(CASE (" v ") WHEN 'active' THEN 1 WHEN 'inactive' THEN 0 END)"

TEST(MergeRuleTest, WritesBothRename) {
  run_table(
      users_migration(Writes::both, Reads::old_column),
      {
          {"MERGE INTO users u USING orders o ON o.user_id = u.id WHEN MATCHED THEN UPDATE "
           "SET status = o.status",
           "MERGE INTO users u USING orders o ON o.user_id = u.id WHEN MATCHED THEN UPDATE "
           "SET status = o.status, state = o.status"},
          {"MERGE INTO users u USING orders o ON o.user_id = u.id "
           "WHEN MATCHED AND o.total > 0 THEN UPDATE SET status = CASE WHEN o.total > 9 THEN 'a' "
           "ELSE 'b' END, name = 'n' "
           "WHEN MATCHED THEN DELETE "
           "WHEN NOT MATCHED THEN INSERT (id, status) VALUES (o.user_id, o.status)",
           "MERGE INTO users u USING orders o ON o.user_id = u.id "
           "WHEN MATCHED AND o.total > 0 THEN UPDATE SET status = CASE WHEN o.total > 9 THEN 'a' "
           "ELSE 'b' END, state = CASE WHEN o.total > 9 THEN 'a' ELSE 'b' END, name = 'n' "
           "WHEN MATCHED THEN DELETE "
           "WHEN NOT MATCHED THEN INSERT (id, status, state) VALUES (o.user_id, o.status, "
           "o.status)"},
          {"MERGE INTO users u USING orders o ON o.user_id = u.id WHEN MATCHED THEN UPDATE "
           "SET name = 'n', status = $1 WHEN NOT MATCHED THEN INSERT VALUES (o.user_id, $1)",
           "MERGE INTO users u USING orders o ON o.user_id = u.id WHEN MATCHED THEN UPDATE "
           "SET name = 'n', status = $1, state = $1 WHEN NOT MATCHED THEN INSERT (id, status, "
           "state) VALUES (o.user_id, $1, $1)"},
          {"MERGE INTO users USING (SELECT 7 AS k, 'x' AS s) v ON users.id = v.k "
           "WHEN NOT MATCHED THEN INSERT (status, id) OVERRIDING USER VALUE VALUES (v.s, v.k)",
           "MERGE INTO users USING (SELECT 7 AS k, 'x' AS s) v ON users.id = v.k "
           "WHEN NOT MATCHED THEN INSERT (status, id, state) OVERRIDING USER VALUE VALUES (v.s, "
           "v.k, v.s)"},
          {"MERGE INTO users u USING orders o ON o.user_id = u.id WHEN MATCHED THEN UPDATE "
           "SET state = 'x'",
           "MERGE INTO users u USING orders o ON o.user_id = u.id WHEN MATCHED THEN UPDATE "
           "SET state = 'x', status = 'x'"},
          {"MERGE INTO users u USING orders o ON o.user_id = u.id WHEN MATCHED THEN UPDATE "
           "SET (name, status) = ('n', o.status)",
           "MERGE INTO users u USING orders o ON o.user_id = u.id WHEN MATCHED THEN UPDATE "
           "SET (name, status) = ('n', o.status), state = o.status"},
          {"MERGE INTO users u USING orders o ON o.user_id = u.id WHEN MATCHED THEN UPDATE "
           "SET name = 'n' WHEN NOT MATCHED THEN INSERT (id) VALUES (o.user_id)",
           nullptr, kUnchanged},
          {"MERGE INTO users u USING orders o ON o.user_id = u.id WHEN NOT MATCHED THEN INSERT "
           "DEFAULT VALUES",
           nullptr, kUnchanged},
          {"MERGE INTO users u USING orders o ON o.user_id = u.id WHEN MATCHED THEN DO NOTHING",
           nullptr, kUnchanged},
          {"MERGE INTO orders o USING users u ON o.user_id = u.id WHEN MATCHED THEN UPDATE SET "
           "status = u.status",
           nullptr, kUnchanged},
          {"WITH src AS (SELECT 1 AS id, 'a' AS s) MERGE INTO users u USING src ON src.id = u.id "
           "WHEN NOT MATCHED THEN INSERT (id, status) VALUES (src.id, src.s);",
           "WITH src AS (SELECT 1 AS id, 'a' AS s) MERGE INTO users u USING src ON src.id = u.id "
           "WHEN NOT MATCHED THEN INSERT (id, status, state) VALUES (src.id, src.s, src.s);"},
      });
}

TEST(MergeRuleTest, ReadsNewAndWritesNew) {
  run_table(
      users_migration(Writes::both, Reads::new_column),
      {
          // WHEN NOT MATCHED does not see the target: `status` there is the source's. (In WHEN
          // MATCHED it would be ambiguous, for Postgres as for the rewrite.)
          {"MERGE INTO users u USING orders o ON o.user_id = u.id WHEN MATCHED AND status = 'a' "
           "THEN DELETE",
           nullptr, kRejected, "with certainty"},
          {"MERGE INTO users u USING orders o ON o.user_id = u.id AND u.status = 'a' "
           "WHEN MATCHED AND u.status <> o.status THEN UPDATE SET status = o.status "
           "WHEN NOT MATCHED AND total > 0 THEN INSERT (id, status) VALUES (o.user_id, status)",
           "MERGE INTO users u USING orders o ON o.user_id = u.id AND u.state = 'a' "
           "WHEN MATCHED AND u.state <> o.status THEN UPDATE SET status = o.status, "
           "state = o.status "
           "WHEN NOT MATCHED AND total > 0 THEN INSERT (id, status, state) VALUES (o.user_id, "
           "status, status)"},
          {"MERGE INTO orders o USING users u ON o.user_id = u.id WHEN MATCHED THEN UPDATE SET "
           "status = u.status",
           "MERGE INTO orders o USING users u ON o.user_id = u.id WHEN MATCHED THEN UPDATE SET "
           "status = u.state"},
      });
  run_table(users_migration(Writes::new_column, Reads::new_column),
            {
                // A row expanded in the VALUES of an INSERT without a list: which columns it
                // fills is not known from the text.
                {"MERGE INTO users u USING accounts a ON a.id = u.id WHEN NOT MATCHED THEN "
                 "INSERT VALUES (a.*)",
                 nullptr, kRejected, "expand a row"},
                {"MERGE INTO users u USING accounts a ON a.id = u.id WHEN NOT MATCHED THEN "
                 "INSERT VALUES ((a).*)",
                 nullptr, kRejected, "expand a row"},
                {"MERGE INTO users u USING orders o ON o.user_id = u.id WHEN MATCHED THEN UPDATE "
                 "SET status = o.status WHEN NOT MATCHED THEN INSERT VALUES (o.user_id, o.status)",
                 "MERGE INTO users u USING orders o ON o.user_id = u.id WHEN MATCHED THEN UPDATE "
                 "SET state = o.status WHEN NOT MATCHED THEN INSERT (id, state) VALUES (o.user_id, "
                 "o.status)"},
            });
  run_table(users_migration(Writes::both, Reads::old_column, true),
            {
                {"MERGE INTO users u USING orders o ON o.user_id = u.id WHEN NOT MATCHED THEN "
                 "INSERT (id, status) VALUES (o.user_id, $1)",
                 "MERGE INTO users u USING orders o ON o.user_id = u.id WHEN NOT MATCHED THEN "
                 "INSERT (id, status, state) VALUES (o.user_id, $1, " TO_NEW("$1") ")"},
            });
}

// A DEFAULT for one column beside a value for the other writes that value alone, in either
// action, as it does in UPDATE and INSERT.
TEST(MergeRuleTest, ADefaultBesideAValueForTheOtherColumnWritesTheValueAlone) {
  run_table(users_migration(Writes::both, Reads::old_column, true),
            {
                {"MERGE INTO users u USING orders o ON o.user_id = u.id WHEN MATCHED THEN UPDATE "
                 "SET status = o.status, state = DEFAULT WHEN NOT MATCHED THEN INSERT (id, "
                 "status, state) VALUES (o.user_id, o.status, DEFAULT)",
                 "MERGE INTO users u USING orders o ON o.user_id = u.id WHEN MATCHED THEN UPDATE "
                 "SET status = o.status, state = " TO_NEW(
                     "o.status") " WHEN NOT MATCHED THEN INSERT (id, status, state) VALUES "
                                 "(o.user_id, o.status, " TO_NEW("o.status") ")"},
                {"MERGE INTO users u USING orders o ON o.user_id = u.id WHEN NOT MATCHED THEN "
                 "INSERT VALUES (o.user_id, DEFAULT, 'n', 1)",
                 "MERGE INTO users u USING orders o ON o.user_id = u.id WHEN NOT MATCHED THEN "
                 "INSERT VALUES (o.user_id, (CASE (1) WHEN 1 THEN 'active' WHEN 0 THEN "
                 "'inactive' END), 'n', 1)"},
                {"MERGE INTO users u USING orders o ON o.user_id = u.id WHEN NOT MATCHED THEN "
                 "INSERT (id, status, state) VALUES (o.user_id, DEFAULT, DEFAULT)",
                 nullptr, kUnchanged},
                {"MERGE INTO users u USING orders o ON o.user_id = u.id WHEN NOT MATCHED THEN "
                 "INSERT (id, status, state) VALUES (o.user_id, random()::text, DEFAULT)",
                 nullptr, kRejected, "random()"},
            });
  run_table(users_migration(Writes::new_column, Reads::new_column, true),
            {
                {"MERGE INTO users u USING orders o ON o.user_id = u.id WHEN MATCHED THEN UPDATE "
                 "SET state = DEFAULT, status = o.status WHEN NOT MATCHED THEN INSERT (id, "
                 "status, state) VALUES (o.user_id, o.status, DEFAULT)",
                 "MERGE INTO users u USING orders o ON o.user_id = u.id WHEN MATCHED THEN UPDATE "
                 "SET state = " TO_NEW("o.status") " WHEN NOT MATCHED THEN INSERT (id, state) "
                                                   "VALUES (o.user_id, " TO_NEW("o.status") ")"},
            });
}

TEST(MergeRuleTest, VolatileValuesInActions) {
  run_table(
      users_migration(Writes::both, Reads::old_column),
      {
          {"MERGE INTO users u USING orders o ON o.user_id = u.id WHEN MATCHED THEN UPDATE "
           "SET status = random()::text",
           "MERGE INTO users u USING orders o ON o.user_id = u.id WHEN MATCHED THEN UPDATE SET "
           "(status, state) = (SELECT switchyard_value.v, switchyard_value.v FROM (SELECT "
           "random()::text) AS switchyard_value (v) WHERE pg_catalog.num_nulls(u.*) = 0)"},
          {"MERGE INTO users u USING orders o ON o.user_id = u.id WHEN NOT MATCHED THEN INSERT "
           "(id, status) VALUES (o.user_id, gen_random_uuid()::text)",
           nullptr, kRejected, "gen_random_uuid()"},
      });
  // Every flag at "old": nothing to rewrite, nothing refused.
  run_table(users_migration(Writes::old_column, Reads::old_column),
            {
                {"MERGE INTO users u USING orders o ON o.user_id = u.id WHEN MATCHED THEN UPDATE "
                 "SET status = random()::text",
                 nullptr, kUnchanged},
            });
}

TEST(MergeRuleTest, CaseEndNestsInSetListsOnly) {
  run_table(
      users_migration(Writes::both, Reads::old_column),
      {
          {"UPDATE users SET status = CASE WHEN id > 1 THEN 'a' END, name = 'x' WHERE id = 2",
           "UPDATE users SET status = CASE WHEN id > 1 THEN 'a' END, state = CASE WHEN id > 1 "
           "THEN 'a' END, name = 'x' WHERE id = 2"},
          {"MERGE INTO users u USING orders o ON o.user_id = u.id WHEN MATCHED THEN UPDATE "
           "SET status = CASE o.status WHEN 'x' THEN (CASE WHEN o.total > 1 THEN 'y' END) "
           "END WHEN NOT MATCHED THEN DO NOTHING",
           "MERGE INTO users u USING orders o ON o.user_id = u.id WHEN MATCHED THEN UPDATE "
           "SET status = CASE o.status WHEN 'x' THEN (CASE WHEN o.total > 1 THEN 'y' END) "
           "END, state = CASE o.status WHEN 'x' THEN (CASE WHEN o.total > 1 THEN 'y' END) "
           "END WHEN NOT MATCHED THEN DO NOTHING"},
      });
  // Elsewhere `case` and `end` may be column labels: they do not nest there.
  run_table(users_migration(Writes::both, Reads::new_column),
            {
                {"SELECT 1 AS case, status, 2 end FROM users",
                 "SELECT 1 AS case, state AS status, 2 end FROM users"},
            });
}

}  // namespace
}  // namespace switchyard::rewrite::test
