// Read rule tables (DESIGN §3 "reads"): configuration + SQL in, SQL out, side by side.

#include "rewrite_test_support.hpp"

namespace switchyard::rewrite::test {
namespace {

#define CASE_T "CASE (state) WHEN 1 THEN 'active' WHEN 0 THEN 'inactive' END"

TEST(ReadRuleTest, RenameWithReadsNew) {
  run_table(
      users_migration(Writes::both, Reads::new_column),
      {
          {"SELECT status FROM users", "SELECT state AS status FROM users"},
          {"SELECT u.status FROM users u WHERE u.status = 'a'",
           "SELECT u.state AS status FROM users u WHERE u.state = 'a'"},
          {"SELECT id FROM users WHERE status = $1", "SELECT id FROM users WHERE state = $1"},
          {"SELECT public.users.status FROM public.users",
           "SELECT public.users.state AS status FROM public.users"},
          {"SELECT users.status FROM users", "SELECT users.state AS status FROM users"},
          {"SELECT \"status\" FROM \"users\"", "SELECT state AS status FROM \"users\""},
          {"SELECT status AS s FROM users", "SELECT state AS s FROM users"},
          {"SELECT status s FROM users", "SELECT state s FROM users"},
          {"SELECT lower(status) FROM users", "SELECT lower(state) FROM users"},
          {"SELECT status::text FROM users", "SELECT state::text AS status FROM users"},
          {"SELECT CASE WHEN status = 'a' THEN 1 END FROM users",
           "SELECT CASE WHEN state = 'a' THEN 1 END FROM users"},
          {"SELECT id FROM users ORDER BY status", "SELECT id FROM users ORDER BY state"},
          {"SELECT status, count(*) FROM users GROUP BY status HAVING count(*) > 1 ORDER BY status",
           "SELECT state AS status, count(*) FROM users GROUP BY state HAVING count(*) > 1 ORDER "
           "BY status"},
          {"SELECT DISTINCT ON (status) id FROM users", "SELECT DISTINCT ON (state) id FROM users"},
          {"SELECT id, row_number() OVER (PARTITION BY status ORDER BY id) FROM users",
           "SELECT id, row_number() OVER (PARTITION BY state ORDER BY id) FROM users"},
          {"SELECT id FROM users WHERE status IS DISTINCT FROM 'a'",
           "SELECT id FROM users WHERE state IS DISTINCT FROM 'a'"},
          {"SELECT status IS DISTINCT FROM 'a' FROM users",
           "SELECT state IS DISTINCT FROM 'a' FROM users"},
          {"select Status from USERS", "select state AS status from USERS"},
          {"SELECT status AS from, u.status AS order FROM users u ORDER BY 1",
           "SELECT state AS from, u.state AS order FROM users u ORDER BY 1"},
          {"SELECT u.status, status::text AS select FROM users AS u WHERE u.status = 'a'",
           "SELECT u.state AS status, state::text AS select FROM users AS u WHERE u.state = 'a'"},
      });
}

TEST(ReadRuleTest, OtherTablesAndSchemasAreNotTouched) {
  run_table(users_migration(Writes::both, Reads::new_column),
            {
                {"SELECT status FROM orders", nullptr, kUnchanged},
                {"SELECT status FROM audit.users", nullptr, kUnchanged},
                {"SELECT state FROM users", nullptr, kUnchanged},
                {"SELECT id, name FROM users", nullptr, kUnchanged},
                {"SELECT count(*) FROM users", nullptr, kUnchanged},
                {"SELECT 1", nullptr, kUnchanged},
                {"EXECUTE q('a')", nullptr, kUnchanged},
                {"WITH users AS (SELECT 1 AS id, 'x' AS status) SELECT status FROM users", nullptr,
                 kUnchanged},
            });
}

TEST(ReadRuleTest, ReadsOldChangesNothingButStar) {
  run_table(users_migration(Writes::both, Reads::old_column),
            {
                {"SELECT status FROM users WHERE status = 'a'", nullptr, kUnchanged},
                {"SELECT u.status FROM users u", nullptr, kUnchanged},
                {"SELECT * FROM users", "SELECT users.id, users.status, users.name FROM users"},
                {"SELECT * FROM orders", nullptr, kUnchanged},
            });
}

TEST(ReadRuleTest, JoinsWithAnotherTableHavingTheSameColumn) {
  run_table(
      users_migration(Writes::both, Reads::new_column),
      {
          {"SELECT u.status, o.status FROM users u JOIN orders o ON o.user_id = u.id",
           "SELECT u.state AS status, o.status FROM users u JOIN orders o ON o.user_id = u.id"},
          {"SELECT o.id FROM orders o JOIN users u ON u.id = o.user_id AND u.status = o.status",
           "SELECT o.id FROM orders o JOIN users u ON u.id = o.user_id AND u.state = o.status"},
          {"SELECT status, owner FROM users u JOIN accounts a ON a.id = u.id",
           "SELECT state AS status, owner FROM users u JOIN accounts a ON a.id = u.id"},
          {"SELECT status FROM users u JOIN orders o ON o.user_id = u.id", nullptr, kRejected,
           "cannot resolve column reference \"status\""},
          {"SELECT o.status FROM users, orders o", nullptr, kUnchanged},
      });
}

TEST(ReadRuleTest, SubqueriesCorrelationCtesAndUnions) {
  run_table(
      users_migration(Writes::both, Reads::new_column),
      {
          {"SELECT id FROM orders WHERE user_id IN (SELECT id FROM users WHERE status = 'a')",
           "SELECT id FROM orders WHERE user_id IN (SELECT id FROM users WHERE state = 'a')"},
          {"SELECT id FROM orders o WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = o.user_id "
           "AND status = o.status)",
           "SELECT id FROM orders o WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = o.user_id "
           "AND state = o.status)"},
          {"SELECT id FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.status = "
           "u.status)",
           "SELECT id FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.status = "
           "u.state)"},
          {"SELECT id FROM users WHERE EXISTS (SELECT 1 FROM accounts a WHERE a.owner = status)",
           "SELECT id FROM users WHERE EXISTS (SELECT 1 FROM accounts a WHERE a.owner = "
           "users.state)"},
          {"SELECT id FROM users WHERE EXISTS (SELECT 1 FROM orders WHERE status = 'x')", nullptr,
           kUnchanged},
          {"WITH x AS (SELECT id, status FROM users) SELECT status FROM x",
           "WITH x AS (SELECT id, state AS status FROM users) SELECT status FROM x"},
          {"WITH x AS (SELECT * FROM users) SELECT x.status FROM x",
           "WITH x AS (SELECT users.id, users.state AS status, users.name FROM users) SELECT "
           "x.status FROM x"},
          {"SELECT s.status FROM (SELECT status FROM users) s",
           "SELECT s.status FROM (SELECT state AS status FROM users) s"},
          {"SELECT (SELECT status FROM users WHERE id = 1)",
           "SELECT (SELECT state AS status FROM users WHERE id = 1)"},
          {"SELECT status FROM users UNION SELECT status FROM orders ORDER BY status",
           "SELECT state AS status FROM users UNION SELECT status FROM orders ORDER BY status"},
          {"SELECT u.status FROM users u, LATERAL (SELECT o.id FROM orders o WHERE o.status = "
           "u.status) l",
           "SELECT u.state AS status FROM users u, LATERAL (SELECT o.id FROM orders o WHERE "
           "o.status = u.state) l"},
          // A recursive CTE without a column list has its non-recursive term's columns, so a
          // bare name in the recursive term resolves (Postgres names them the same way).
          {"WITH RECURSIVE r AS (SELECT id, name FROM users WHERE id = 1 UNION ALL SELECT u.id, "
           "u.name FROM users u JOIN r ON u.id = r.id + 1 WHERE status = 'a') SELECT id FROM r",
           "WITH RECURSIVE r AS (SELECT id, name FROM users WHERE id = 1 UNION ALL SELECT u.id, "
           "u.name FROM users u JOIN r ON u.id = r.id + 1 WHERE state = 'a') SELECT id FROM r"},
          {"WITH RECURSIVE r AS (SELECT id AS k FROM users WHERE id = 1 UNION ALL SELECT k + 1 "
           "FROM r, users WHERE k < 5 AND status = 'a') SELECT k FROM r",
           "WITH RECURSIVE r AS (SELECT id AS k FROM users WHERE id = 1 UNION ALL SELECT k + 1 "
           "FROM r, users WHERE k < 5 AND state = 'a') SELECT k FROM r"},
          // Its own column called status: the bare name is ambiguous, as Postgres finds it.
          {"WITH RECURSIVE r AS (SELECT id, status FROM users WHERE id = 1 UNION ALL SELECT "
           "u.id, status FROM users u JOIN r ON u.id = r.id + 1) SELECT status FROM r",
           nullptr, kRejected, "cannot resolve"},
      });
}

// A bare O resolves to T past every other relation; a bare N may not. Where another relation at
// the reference's level or one between it and T's has a column N (places.state), N is written
// qualified by T's reference name; elsewhere it stays bare.
TEST(ReadRuleTest, ABareNewNameAnotherRelationWouldTakeIsQualified) {
  run_table(
      users_migration(Writes::both, Reads::new_column),
      {
          {"SELECT id FROM users WHERE EXISTS (SELECT 1 FROM places WHERE status = 'active' AND "
           "places.user_id = users.id)",
           "SELECT id FROM users WHERE EXISTS (SELECT 1 FROM places WHERE users.state = 'active' "
           "AND places.user_id = users.id)"},
          {"SELECT id, (SELECT count(*) FROM places p WHERE status = 'active') FROM users p2",
           "SELECT id, (SELECT count(*) FROM places p WHERE p2.state = 'active') FROM users p2"},
          {"SELECT u.id, l.n FROM users u, LATERAL (SELECT count(*) AS n FROM places WHERE "
           "status = 'active') l",
           "SELECT u.id, l.n FROM users u, LATERAL (SELECT count(*) AS n FROM places WHERE "
           "u.state = 'active') l"},
          {"SELECT id FROM users WHERE 'NY' IN (SELECT status FROM places)",
           "SELECT id FROM users WHERE 'NY' IN (SELECT users.state AS status FROM places)"},
          {"SELECT id FROM users WHERE EXISTS (SELECT 1 FROM (VALUES ('CA')) v(state) WHERE "
           "v.state = status)",
           "SELECT id FROM users WHERE EXISTS (SELECT 1 FROM (VALUES ('CA')) v(state) WHERE "
           "v.state = users.state)"},
          {"WITH c AS (SELECT 'CA' AS state) SELECT id FROM users WHERE EXISTS (SELECT 1 FROM c "
           "WHERE c.state = status)",
           "WITH c AS (SELECT 'CA' AS state) SELECT id FROM users WHERE EXISTS (SELECT 1 FROM c "
           "WHERE c.state = users.state)"},
          {"SELECT id FROM users u WHERE EXISTS (SELECT 1 FROM generate_series(1, 2) AS g(state) "
           "WHERE status = 'a')",
           "SELECT id FROM users u WHERE EXISTS (SELECT 1 FROM generate_series(1, 2) AS g(state) "
           "WHERE u.state = 'a')"},
          // Two levels down: the level between has the column.
          {"SELECT id FROM users WHERE EXISTS (SELECT 1 FROM places WHERE EXISTS (SELECT 1 FROM "
           "accounts WHERE status = 'a'))",
           "SELECT id FROM users WHERE EXISTS (SELECT 1 FROM places WHERE EXISTS (SELECT 1 FROM "
           "accounts WHERE users.state = 'a'))"},
          // A USING join's merged column takes a bare name, inner or beside T.
          {"SELECT id FROM users WHERE EXISTS (SELECT 1 FROM places JOIN places q USING (state) "
           "WHERE status = 'a')",
           "SELECT id FROM users WHERE EXISTS (SELECT 1 FROM places JOIN places q USING (state) "
           "WHERE users.state = 'a')"},
          // Beside T at its own level a bare N would be ambiguous (42702).
          {"SELECT status FROM users u JOIN places p ON p.user_id = u.id",
           "SELECT u.state AS status FROM users u JOIN places p ON p.user_id = u.id"},
          {"SELECT u.id FROM users u, places p WHERE status = p.state ORDER BY status",
           "SELECT u.id FROM users u, places p WHERE u.state = p.state ORDER BY u.state"},
          {"SELECT status, count(*) FROM users JOIN places ON places.user_id = users.id GROUP BY "
           "status ORDER BY status",
           "SELECT users.state AS status, count(*) FROM users JOIN places ON places.user_id = "
           "users.id GROUP BY users.state ORDER BY status"},
          {"SELECT id FROM public.users WHERE EXISTS (SELECT 1 FROM places WHERE status = 'a')",
           "SELECT id FROM public.users WHERE EXISTS (SELECT 1 FROM places WHERE users.state = "
           "'a')"},
          {"UPDATE users SET name = 'x' FROM places p WHERE p.user_id = users.id AND status = 'a' "
           "RETURNING status",
           "UPDATE users SET name = 'x' FROM places p WHERE p.user_id = users.id AND users.state "
           "= 'a' RETURNING users.state AS status"},
          {"DELETE FROM users u USING places p WHERE p.user_id = u.id AND status = 'a'",
           "DELETE FROM users u USING places p WHERE p.user_id = u.id AND u.state = 'a'"},
      });
}

TEST(ReadRuleTest, ABareNewNameNothingCanTakeStaysBareUnlessCorrelated) {
  run_table(
      users_migration(Writes::both, Reads::new_column),
      {
          // The subquery's relations are not between the reference and T.
          {"SELECT id FROM users WHERE EXISTS (SELECT 1 FROM places p WHERE p.user_id = users.id "
           "AND p.state = 'a') AND status = 'b'",
           "SELECT id FROM users WHERE EXISTS (SELECT 1 FROM places p WHERE p.user_id = users.id "
           "AND p.state = 'a') AND state = 'b'"},
          // Nor is a level outside T's.
          {"SELECT p.id FROM places p WHERE EXISTS (SELECT 1 FROM users WHERE status = 'a' AND "
           "users.id = p.user_id)",
           "SELECT p.id FROM places p WHERE EXISTS (SELECT 1 FROM users WHERE state = 'a' AND "
           "users.id = p.user_id)"},
          // A sibling FROM subquery does not see T's level.
          {"SELECT x.n FROM users, (SELECT count(*) AS n FROM places) x WHERE status = 'a'",
           "SELECT x.n FROM users, (SELECT count(*) AS n FROM places) x WHERE state = 'a'"},
          // Reached from a sub-select, N is written qualified: a relation of the sub-select
          // that gains a column N later (DDL the catalog has not seen, a statement prepared
          // before it) cannot take it then.
          {"SELECT id FROM users WHERE EXISTS (SELECT 1 FROM accounts a WHERE a.owner = status)",
           "SELECT id FROM users WHERE EXISTS (SELECT 1 FROM accounts a WHERE a.owner = "
           "users.state)"},
          {"SELECT status FROM users, accounts", "SELECT state AS status FROM users, accounts"},
          // Already qualified.
          {"SELECT u.status FROM users u JOIN places p ON p.user_id = u.id",
           "SELECT u.state AS status FROM users u JOIN places p ON p.user_id = u.id"},
      });
}

// Qualifying N with a name that reaches another relation first would read that one: refused.
TEST(ReadRuleTest, AQualifierThatNamesAnotherRelationIsRefused) {
  run_table(
      users_migration(Writes::both, Reads::new_column),
      {
          {"SELECT id FROM users WHERE EXISTS (SELECT 1 FROM places users WHERE status = 'a')",
           nullptr, kRejected, "names another relation or is hidden"},
          {"SELECT id FROM users u WHERE EXISTS (SELECT 1 FROM places p JOIN accounts a USING "
           "(id) AS u WHERE status = 'a')",
           nullptr, kRejected, "migration \"users-status\""},
          // Behind a join alias T has no name of its own to qualify by.
          {"SELECT status FROM (users u JOIN places p ON p.user_id = u.id) AS j", nullptr,
           kRejected, "names another relation or is hidden"},
          // Nothing would take a bare N: the shadowing name does not matter.
          {"SELECT id FROM users WHERE EXISTS (SELECT 1 FROM accounts users WHERE status = 'a')",
           "SELECT id FROM users WHERE EXISTS (SELECT 1 FROM accounts users WHERE state = 'a')"},
      });
  run_table(users_migration(Writes::both, Reads::new_column, false, false),
            {
                {"SELECT id FROM users WHERE EXISTS (SELECT 1 FROM places users WHERE status = "
                 "'a')",
                 nullptr, kPassthrough, "names another relation"},
            });
}

TEST(ReadRuleTest, ABareNewNameAnotherRelationWouldTakeIsQualifiedUnderATypeChange) {
  run_table(
      users_migration(Writes::both, Reads::new_column, true),
      {
          {"SELECT id FROM users WHERE EXISTS (SELECT 1 FROM places WHERE status = 'active' AND "
           "places.user_id = users.id)",
           "SELECT id FROM users WHERE EXISTS (SELECT 1 FROM places WHERE (CASE (users.state) WHEN "
           "1 THEN 'active' WHEN 0 THEN 'inactive' END) = 'active' AND places.user_id = "
           "users.id)"},
          {"SELECT status FROM users u JOIN places p ON p.user_id = u.id",
           "SELECT (CASE (u.state) WHEN 1 THEN 'active' WHEN 0 THEN 'inactive' END) AS status FROM "
           "users u JOIN places p ON p.user_id = u.id"},
          {"SELECT id FROM users WHERE status = 'active'",
           "SELECT id FROM users WHERE (" CASE_T ") = 'active'"},
      });
}

// ORDER BY and DISTINCT ON read a bare name as an output column first (GROUP BY as an input
// column first): N written bare there would name an output called N.
TEST(ReadRuleTest, ABareNewNameInOrderByOrDistinctOnIsQualifiedBesideAnOutputOfThatName) {
  run_table(
      users_migration(Writes::both, Reads::new_column),
      {
          {"SELECT id, name AS state FROM users ORDER BY status, id",
           "SELECT id, name AS state FROM users ORDER BY users.state, id"},
          {"SELECT DISTINCT ON (status) id, name AS state FROM users ORDER BY status, id",
           "SELECT DISTINCT ON (users.state) id, name AS state FROM users ORDER BY users.state, "
           "id"},
          {"SELECT u.id, u.name AS state FROM users u ORDER BY status DESC",
           "SELECT u.id, u.name AS state FROM users u ORDER BY u.state DESC"},
          {"SELECT id, state FROM users ORDER BY status",
           "SELECT id, state FROM users ORDER BY users.state"},
          // An expression is read from the input columns, and GROUP BY prefers them.
          {"SELECT id, name AS state FROM users ORDER BY status || 'x'",
           "SELECT id, name AS state FROM users ORDER BY state || 'x'"},
          {"SELECT name AS state, count(*) FROM users GROUP BY status, name",
           "SELECT name AS state, count(*) FROM users GROUP BY state, name"},
          {"SELECT id, name AS s FROM users ORDER BY status",
           "SELECT id, name AS s FROM users ORDER BY state"},
          // A set operation's ORDER BY names its outputs, O among them.
          {"SELECT status FROM users UNION SELECT name FROM users ORDER BY status",
           "SELECT state AS status FROM users UNION SELECT name FROM users ORDER BY status"},
          {"SELECT name AS state, status FROM users UNION ALL SELECT name, status FROM users "
           "ORDER BY status",
           "SELECT name AS state, state AS status FROM users UNION ALL SELECT name, state AS "
           "status FROM users ORDER BY status"},
          {"(SELECT id, name AS state FROM users ORDER BY status) UNION SELECT 1, 'x'",
           "(SELECT id, name AS state FROM users ORDER BY users.state) UNION SELECT 1, 'x'"},
      });
  // A type change reads an expression there, which names no output.
  run_table(users_migration(Writes::both, Reads::new_column, true),
            {
                {"SELECT id, name AS state FROM users ORDER BY status, id",
                 "SELECT id, name AS state FROM users ORDER BY (" CASE_T "), id"},
            });
}

TEST(ReadRuleTest, StarExpansion) {
  run_table(
      users_migration(Writes::both, Reads::new_column),
      {
          {"SELECT * FROM users", "SELECT users.id, users.state AS status, users.name FROM users"},
          {"SELECT u.* FROM users u", "SELECT u.id, u.state AS status, u.name FROM users u"},
          {"SELECT * FROM users u JOIN orders o ON o.user_id = u.id",
           "SELECT u.id, u.state AS status, u.name, o.* FROM users u JOIN orders o ON o.user_id "
           "= u.id"},
          {"SELECT o.*, u.name FROM orders o JOIN users u ON o.user_id = u.id", nullptr,
           kUnchanged},
          // A * touching the words around it: its columns stay apart from them.
          {"select*from users", "select users.id, users.state AS status, users.name from users"},
          {"SELECT u.*from users u", "SELECT u.id, u.state AS status, u.name from users u"},
          // The mapped table after another FROM item, or after another one expanded.
          {"SELECT * FROM orders o JOIN users u ON o.user_id = u.id",
           "SELECT o.*, u.id, u.state AS status, u.name FROM orders o JOIN users u ON o.user_id "
           "= u.id"},
          {"SELECT * FROM users a, users b WHERE b.id = a.id",
           "SELECT a.id, a.state AS status, a.name, b.id, b.state AS status, b.name FROM users a, "
           "users b WHERE b.id = a.id"},
          {"SELECT *, 1 AS one FROM orders, users",
           "SELECT orders.*, users.id, users.state AS status, users.name, 1 AS one FROM orders, "
           "users"},
          // Parenthesised, a star still expands (it is no row constructor): the parentheses go.
          {"SELECT (u.* ), 0 FROM users u",
           "SELECT u.id, u.state AS status, u.name, 0 FROM users u"},
          {"SELECT * FROM users ORDER BY status",
           "SELECT users.id, users.state AS status, users.name FROM users ORDER BY status"},
          // A natural join is written out with USING (NaturalJoinTest), and its * follows.
          {"SELECT * FROM users NATURAL JOIN orders",
           "SELECT id, status, users.name, orders.user_id, orders.total FROM (SELECT users.id, "
           "users.state AS status, users.name, users.state FROM users) AS users JOIN orders "
           "USING (id, status)"},
          // A * over a USING join lists the merged columns once, first, as Postgres does.
          {"SELECT * FROM users JOIN orders USING (id)",
           "SELECT id, users.state AS status, users.name, orders.user_id, orders.status, "
           "orders.total FROM users JOIN orders USING (id)"},
          {"SELECT * FROM orders o RIGHT JOIN users u USING (status, id)",
           "SELECT status, id, o.user_id, o.total, u.name FROM orders o RIGHT JOIN (SELECT u.id, "
           "u.state AS status, u.name, u.state FROM users u) AS u USING (status, id)"},
          // Not rewritten, such a * still names its columns (id, owner, k) for the level above.
          {"SELECT status FROM users, (SELECT * FROM accounts a JOIN (SELECT 1 AS id, 2 AS k) b "
           "USING (id)) s WHERE s.k = 2",
           "SELECT state AS status FROM users, (SELECT * FROM accounts a JOIN (SELECT 1 AS id, 2 "
           "AS k) b USING (id)) s WHERE s.k = 2"},
          // Joins of joins, and other FROM items beside them, follow the same order.
          {"SELECT * FROM users JOIN orders USING (id) JOIN accounts USING (id)",
           "SELECT id, users.state AS status, users.name, orders.user_id, orders.status, "
           "orders.total, accounts.owner FROM users JOIN orders USING (id) JOIN accounts USING "
           "(id)"},
          {"SELECT * FROM users u JOIN orders o USING (id) LEFT JOIN (SELECT 2 AS owner) a ON "
           "a.owner = o.user_id, (SELECT 1 AS k) s",
           "SELECT id, u.state AS status, u.name, o.user_id, o.status, o.total, a.*, s.* FROM "
           "users u JOIN orders o USING (id) LEFT JOIN (SELECT 2 AS owner) a ON a.owner = "
           "o.user_id, (SELECT 1 AS k) s"},
          // An input that keeps all its columns is written `s.*`, which two columns of one name
          // do not make ambiguous.
          {"SELECT * FROM users JOIN orders USING (id), (SELECT 1, 2) s",
           "SELECT id, users.state AS status, users.name, orders.user_id, orders.status, "
           "orders.total, s.* FROM users JOIN orders USING (id), (SELECT 1, 2) s"},
          {"SELECT * FROM accounts a JOIN (users u JOIN orders o USING (id)) USING (id)",
           "SELECT id, a.owner, u.state AS status, u.name, o.user_id, o.status, o.total FROM "
           "accounts a JOIN (users u JOIN orders o USING (id)) USING (id)"},
          // A merged column is written by its bare name, which another item's column of that
          // name makes ambiguous: refused.
          {"SELECT * FROM users JOIN orders USING (id), accounts", nullptr, kRejected,
           "merged column \"id\""},
          {"SELECT * FROM orders o JOIN (users u JOIN accounts a USING (id)) ON o.user_id = u.id",
           nullptr, kRejected, "merged column \"id\""},
          // RETURNING * lists the target too, which is no FROM item.
          {"UPDATE users SET name = 'x' FROM orders o JOIN (SELECT 1 AS k) s ON true JOIN "
           "(SELECT 1 AS k) t USING (k) WHERE o.user_id = users.id RETURNING *",
           nullptr, kRejected, "the target of an UPDATE or DELETE"},
      });
}

// `TABLE t` is `SELECT * FROM t` with no * in the text: the keyword is written out.
TEST(ReadRuleTest, TableCommandListsTheColumnsTheAppSees) {
  run_table(
      users_migration(Writes::both, Reads::new_column),
      {
          {"TABLE users", "SELECT users.id, users.state AS status, users.name FROM users"},
          {"TABLE ONLY public.users ORDER BY id LIMIT 1",
           "SELECT users.id, users.state AS status, users.name FROM ONLY public.users ORDER BY id "
           "LIMIT 1"},
          {"table /* all */ users;",
           "SELECT users.id, users.state AS status, users.name FROM /* all */ users;"},
          {"SELECT t.status FROM (TABLE users) t",
           "SELECT t.status FROM (SELECT users.id, users.state AS status, users.name FROM users) "
           "t"},
          {"TABLE orders", nullptr, kUnchanged},
      });
  // reads = old with N in the catalog: N is left out, as from a *.
  run_table(users_migration(Writes::both, Reads::old_column),
            {
                {"TABLE users", "SELECT users.id, users.status, users.name FROM users"},
            });
}

TEST(ReadRuleTest, TypeChangeReadsNew) {
  run_table(
      users_migration(Writes::both, Reads::new_column, true),
      {
          {"SELECT status FROM users WHERE status = 'active'",
           "SELECT (" CASE_T ") AS status FROM users WHERE (" CASE_T ") = 'active'"},
          {"SELECT u.status FROM users u",
           "SELECT (CASE (u.state) WHEN 1 THEN 'active' WHEN 0 THEN 'inactive' END) AS status "
           "FROM users u"},
          {"SELECT * FROM users",
           "SELECT users.id, CASE (users.state) WHEN 1 THEN 'active' WHEN 0 THEN 'inactive' END "
           "AS status, users.name FROM users"},
          {"SELECT status AS s FROM users", "SELECT (" CASE_T ") AS s FROM users"},
      });
}

// When the columns' types differ, a read that is a whole result column is cast back to the
// old column's type (clients keep the type they were told, binary decoders included). Reads
// elsewhere are cast too where the new type or to_old's value could compute or compare
// otherwise; they stay bare for another width of the integers or text types, so an index on the
// new column still serves WHERE and JOIN.
TEST(ReadRuleTest, ResultColumnsKeepTheOldTypeWhenTheTypesDiffer) {
  Migration widen = users_migration(Writes::both, Reads::new_column);
  widen.old_type = "integer";
  widen.new_type = "bigint";
  Migration typed = users_migration(Writes::both, Reads::new_column, true);
  typed.old_type = "character varying(20)";
  typed.new_type = "smallint";
  Migration same = users_migration(Writes::both, Reads::new_column);
  same.old_type = "text";
  same.new_type = "text";
  run_table(
      widen,
      {
          {"SELECT status FROM users WHERE status = 5",
           "SELECT CAST(state AS integer) AS status FROM users WHERE state = 5"},
          // An expression in a target is computed as O's type, so that its result
          // keeps its type (int4, not int8); the join stays bare, through N's index.
          {"SELECT u.status, u.status + 1 AS next FROM users u JOIN orders o ON o.id = "
           "u.status",
           "SELECT CAST(u.state AS integer) AS status, CAST(u.state AS integer) + 1 AS next "
           "FROM users u JOIN orders o ON o.id = u.state"},
          // sum(int4) is a bigint, sum(int8) a numeric. min() and max() are cast outside,
          // so that N's index still finds them.
          {"SELECT sum(status), max(status), pg_catalog.min(u.status) FROM users u",
           "SELECT sum(CAST(state AS integer)), CAST(max(state) AS integer), "
           "CAST(pg_catalog.min(u.state) AS integer) FROM users u"},
          {"SELECT max(status) FILTER (WHERE id > 1) FROM users",
           "SELECT max(CAST(state AS integer)) FILTER (WHERE id > 1) FROM users"},
          {"SELECT id FROM users WHERE status = (SELECT max(status) FROM users)",
           "SELECT id FROM users WHERE state = (SELECT CAST(max(state) AS integer) FROM "
           "users)"},
          // A grouped select: what groups and what must be grouped is cast as the targets.
          {"SELECT status + 1, count(*) FROM users GROUP BY status + 1 HAVING max(status) "
           "> 2 ORDER BY status + 1",
           "SELECT CAST(state AS integer) + 1, count(*) FROM users GROUP BY CAST(state AS "
           "integer) + 1 HAVING CAST(max(state) AS integer) > 2 ORDER BY CAST(state AS "
           "integer) + 1"},
          {"SELECT DISTINCT status * 2 FROM users WHERE status > 1 ORDER BY status * 2",
           "SELECT DISTINCT CAST(state AS integer) * 2 FROM users WHERE state > 1 ORDER BY "
           "CAST(state AS integer) * 2"},
          {"SELECT id FROM users ORDER BY status + 1", "SELECT id FROM users ORDER BY state + 1"},
          {"SELECT status AS s FROM users ORDER BY status",
           "SELECT CAST(state AS integer) AS s FROM users ORDER BY state"},
          // Under DISTINCT an ORDER BY key must be one of the targets: cast the same.
          {"SELECT DISTINCT u.status FROM users u ORDER BY u.status DESC",
           "SELECT DISTINCT CAST(u.state AS integer) AS status FROM users u ORDER BY "
           "CAST(u.state AS integer) DESC"},
          {"SELECT DISTINCT ON (u.status) u.status FROM users u ORDER BY u.status",
           "SELECT DISTINCT ON (u.state) CAST(u.state AS integer) AS status FROM users u "
           "ORDER BY u.state"},
          {"SELECT * FROM users",
           "SELECT users.id, CAST(users.state AS integer) AS status, users.name FROM users"},
          {"UPDATE users SET name = 'x' RETURNING status",
           "UPDATE users SET name = 'x' RETURNING CAST(state AS integer) AS status"},
      });
  run_table(typed, {
                       {"SELECT status FROM users",
                        "SELECT CAST((" CASE_T ") AS character varying(20)) AS status FROM users"},
                       {"SELECT id FROM users WHERE status = 'active'",
                        "SELECT id FROM users WHERE CAST((" CASE_T
                        ") AS character varying(20)) = 'active'"},
                   });
  Migration numeric = users_migration(Writes::both, Reads::new_column);
  numeric.old_type = "integer";
  numeric.new_type = "numeric(12,2)";
  Migration padded = users_migration(Writes::both, Reads::new_column);
  padded.old_type = "character(5)";
  padded.new_type = "text";
  Migration longer = users_migration(Writes::both, Reads::new_column);
  longer.old_type = "character varying(20)";
  longer.new_type = "text";
  run_table(numeric,
            {
                {"SELECT status / 2 AS half FROM users WHERE status % 2 = 1",
                 "SELECT CAST(state AS integer) / 2 AS half FROM users WHERE CAST(state AS "
                 "integer) % 2 = 1"},
                {"SELECT status, count(*) FROM users GROUP BY status",
                 "SELECT CAST(state AS integer) AS status, count(*) FROM users GROUP BY "
                 "CAST(state AS integer)"},
            });
  run_table(padded, {
                        {"SELECT id FROM users WHERE status = 'ab  '",
                         "SELECT id FROM users WHERE CAST(state AS character(5)) = 'ab  '"},
                    });
  run_table(longer, {
                        {"SELECT id FROM users WHERE status = 'ab'",
                         "SELECT id FROM users WHERE state = 'ab'"},
                        {"SELECT status FROM users",
                         "SELECT CAST(state AS character varying(20)) "
                         "AS status FROM users"},
                    });
  run_table(same, {
                      {"SELECT status FROM users", "SELECT state AS status FROM users"},
                  });
}

// A target without an alias is named as Postgres names it (FigureColnameInternal): a CASE after
// its ELSE result, a cast after its operand unless that names nothing, a subscript after its
// column. Where that name came from a rewritten read of O, the target gets `AS O`.
TEST(ReadRuleTest, ATargetNamedAfterTheOldColumnKeepsItsName) {
  Migration widen = users_migration(Writes::both, Reads::new_column);
  widen.old_type = "integer";
  widen.new_type = "bigint";
  run_table(
      users_migration(Writes::both, Reads::new_column),
      {
          {"SELECT CASE WHEN id > 5 THEN 'x' ELSE status END FROM users",
           "SELECT CASE WHEN id > 5 THEN 'x' ELSE state END AS status FROM users"},
          {"SELECT CASE WHEN id > 5 THEN 'x' ELSE status::text END, id FROM users",
           "SELECT CASE WHEN id > 5 THEN 'x' ELSE state::text END AS status, id FROM users"},
          {"SELECT CASE WHEN id > 5 THEN 'x' ELSE CASE WHEN id > 2 THEN 'y' ELSE u.status END "
           "END FROM users u",
           "SELECT CASE WHEN id > 5 THEN 'x' ELSE CASE WHEN id > 2 THEN 'y' ELSE u.state END "
           "END AS status FROM users u"},
          {"SELECT (status)[1] FROM users", "SELECT (state)[1] AS status FROM users"},
          {"SELECT CASE id WHEN 1 THEN status END COLLATE \"C\" FROM users",
           "SELECT CASE id WHEN 1 THEN state END COLLATE \"C\" FROM users"},
          {"UPDATE users SET name = 'x' RETURNING CASE WHEN id > 1 THEN 'x' ELSE status END",
           "UPDATE users SET name = 'x' RETURNING CASE WHEN id > 1 THEN 'x' ELSE state END AS "
           "status"},
          // A CASE named after O is an output ORDER BY names.
          {"SELECT CASE WHEN id > 5 THEN 'x' ELSE status END FROM users ORDER BY status",
           "SELECT CASE WHEN id > 5 THEN 'x' ELSE state END AS status FROM users ORDER BY status"},
          // Names that do not come from O stay as the server gives them.
          {"SELECT CASE WHEN status = 'a' THEN name ELSE 'x' END FROM users",
           "SELECT CASE WHEN state = 'a' THEN name ELSE 'x' END FROM users"},
          {"SELECT CASE WHEN id > 5 THEN status END FROM users",
           "SELECT CASE WHEN id > 5 THEN state END FROM users"},
          {"SELECT CASE WHEN id > 5 THEN 'x' ELSE status END::text FROM users",
           "SELECT CASE WHEN id > 5 THEN 'x' ELSE state END::text AS status FROM users"},
          {"SELECT CASE WHEN id > 5 THEN 'x' END::text, CASE WHEN id > 5 THEN 'x' END FROM users "
           "ORDER BY status",
           "SELECT CASE WHEN id > 5 THEN 'x' END::text, CASE WHEN id > 5 THEN 'x' END FROM users "
           "ORDER BY state"},
          {"SELECT CASE WHEN id > 5 THEN 'x' ELSE status END AS s FROM users",
           "SELECT CASE WHEN id > 5 THEN 'x' ELSE state END AS s FROM users"},
          {"SELECT coalesce(status, 'x'), nullif(status, 'y') FROM users",
           "SELECT coalesce(state, 'x'), nullif(state, 'y') FROM users"},
      });
  run_table(users_migration(Writes::both, Reads::new_column, true),
            {
                {"SELECT CASE WHEN id > 5 THEN 'x' ELSE status END FROM users",
                 "SELECT CASE WHEN id > 5 THEN 'x' ELSE (" CASE_T ") END AS status FROM users"},
            });
  run_table(widen, {
                       {"SELECT CASE WHEN id > 5 THEN 0 ELSE status END FROM users",
                        "SELECT CASE WHEN id > 5 THEN 0 ELSE CAST(state AS integer) END AS "
                        "status FROM users"},
                       {"SELECT (SELECT CASE WHEN id > 5 THEN 0 ELSE status END FROM users) FROM "
                        "orders",
                        "SELECT (SELECT CASE WHEN id > 5 THEN 0 ELSE CAST(state AS integer) END "
                        "AS status FROM users) FROM orders"},
                   });
}

// N another integer width than O, read bare where an index on N serves it: an untyped parameter
// beside it is given O's type (`n = $1` described $1 as O's type), without narrowing a typed one.
TEST(ReadRuleTest, AParameterBesideABareReadOfAnotherWidthKeepsTheOldType) {
  Migration widen = users_migration(Writes::both, Reads::new_column);
  widen.old_type = "integer";
  widen.new_type = "bigint";
#define P1 "COALESCE($1, NULL::integer)"
#define P2 "COALESCE($2, NULL::integer)"
  run_table(
      widen,
      {
          {"SELECT id FROM users WHERE status = $1", "SELECT id FROM users WHERE state = " P1},
          {"SELECT id FROM users WHERE $1 <= status", "SELECT id FROM users WHERE " P1 " <= state"},
          {"SELECT id FROM users WHERE status > $1 AND status < $2",
           "SELECT id FROM users WHERE state > " P1 " AND state < " P2},
          {"SELECT id FROM users WHERE status IN ($1, $2)",
           "SELECT id FROM users WHERE state IN (" P1 ", " P2 ")"},
          {"SELECT id FROM users WHERE status IN ($1, 7, 'x')",
           "SELECT id FROM users WHERE state IN (" P1 ", 7, 'x')"},
          {"SELECT id FROM users WHERE (status, id) = ($1, $2)",
           "SELECT id FROM users WHERE (state, id) = (" P1 ", $2)"},
          {"SELECT id FROM users WHERE (status, id) IN (($1, $2))",
           "SELECT id FROM users WHERE (state, id) IN ((" P1 ", $2))"},
          {"SELECT id FROM users WHERE status IS DISTINCT FROM $1",
           "SELECT id FROM users WHERE state IS DISTINCT FROM " P1},
          {"SELECT id FROM users WHERE status = any($1)",
           "SELECT id FROM users WHERE state = any(COALESCE($1, NULL::integer[]))"},
          {"SELECT id FROM users WHERE status <> ALL ($1)",
           "SELECT id FROM users WHERE state <> ALL (COALESCE($1, NULL::integer[]))"},
          {"SELECT id FROM users WHERE status BETWEEN $1 AND $2",
           "SELECT id FROM users WHERE state BETWEEN " P1 " AND " P2},
          {"SELECT id FROM users WHERE status + $1 > 3",
           "SELECT id FROM users WHERE state + " P1 " > 3"},
          {"UPDATE users SET name = 'x' WHERE status = $1",
           "UPDATE users SET name = 'x' WHERE state = " P1},
          {"DELETE FROM users WHERE status = $1", "DELETE FROM users WHERE state = " P1},
          {"SELECT o.id FROM orders o WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = o.user_id "
           "AND u.status = $1)",
           "SELECT o.id FROM orders o WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = o.user_id "
           "AND u.state = " P1 ")"},
          {"SELECT id FROM users WHERE coalesce(status, $1) = 3 AND greatest($2, status, 1) > 2",
           "SELECT id FROM users WHERE coalesce(state, " P1 ") = 3 AND greatest(" P2
           ", state, 1) > 2"},
          {"SELECT id FROM users WHERE CASE status WHEN $1 THEN true END",
           "SELECT id FROM users WHERE CASE state WHEN " P1 " THEN true END"},
          {"SELECT id FROM users WHERE CASE WHEN id > 1 THEN status ELSE $1 END = 2",
           "SELECT id FROM users WHERE CASE WHEN id > 1 THEN state ELSE " P1 " END = 2"},
          {"SELECT id FROM users WHERE CASE WHEN id > 1 THEN $1 END < status",
           "SELECT id FROM users WHERE CASE WHEN id > 1 THEN $1 END < state"},
          {"SELECT id FROM users WHERE coalesce(status, id, $1) = 3",
           "SELECT id FROM users WHERE coalesce(state, id, $1) = 3"},
          // A type the server takes from elsewhere in the list, or an operator that does not
          // take the other operand's type, is left to it; so is a typed parameter.
          {"SELECT id FROM users WHERE status IN ($1, 5000000000)",
           "SELECT id FROM users WHERE state IN ($1, 5000000000)"},
          {"SELECT id FROM users WHERE status IN ($1, id, (SELECT max(id) FROM orders))",
           "SELECT id FROM users WHERE state IN ($1, id, (SELECT max(id) FROM orders))"},
          {"SELECT id FROM users WHERE status = $1::bigint",
           "SELECT id FROM users WHERE state = $1::bigint"},
          {"SELECT id FROM users WHERE status << $1", "SELECT id FROM users WHERE state << $1"},
          {"SELECT id FROM users WHERE status = $1 + 1",
           "SELECT id FROM users WHERE state = $1 + 1"},
          {"SELECT id FROM users WHERE status * 2 + 1 = $1 AND -status < $2",
           "SELECT id FROM users WHERE state * 2 + 1 = " P1 " AND -state < " P2},
          {"SELECT id FROM users WHERE (status + $1) * 2 = $2",
           "SELECT id FROM users WHERE (state + " P1 ") * 2 = " P2},
          {"SELECT id FROM users WHERE status + id = $1 OR status + 1.5 = $2 OR (status = 1) = $3",
           "SELECT id FROM users WHERE state + id = $1 OR state + 1.5 = $2 OR (state = 1) = $3"},
          // In a target the read is cast to O's type already.
          {"SELECT status = $1 FROM users", "SELECT CAST(state AS integer) = $1 FROM users"},
      });
#undef P1
#undef P2
  Migration narrow_from_small = users_migration(Writes::both, Reads::new_column);
  narrow_from_small.old_type = "smallint";
  narrow_from_small.new_type = "integer";
  run_table(narrow_from_small,
            {
                {"SELECT id FROM users WHERE status = $1",
                 "SELECT id FROM users WHERE state = COALESCE($1, NULL::smallint)"},
                {"SELECT id FROM users WHERE status + 1 = $1",
                 "SELECT id FROM users WHERE state + 1 = $1"},
                // smallint IN (.., 7) is compared as an integer: the server decides.
                {"SELECT id FROM users WHERE status IN ($1, 7)",
                 "SELECT id FROM users WHERE state IN ($1, 7)"},
            });
  // Another width of the text types: the server takes text for `=` either way.
  Migration longer = users_migration(Writes::both, Reads::new_column);
  longer.old_type = "character varying(20)";
  longer.new_type = "text";
  run_table(longer,
            {
                {"SELECT id FROM users WHERE status = $1", "SELECT id FROM users WHERE state = $1"},
            });
  // A rename: nothing to type.
  run_table(users_migration(Writes::both, Reads::new_column),
            {
                {"SELECT id FROM users WHERE status = $1", "SELECT id FROM users WHERE state = $1"},
            });
}

// A column takes a subscript as it stands; a read that became an expression takes it in
// parentheses (`CAST(x AS integer[])[1]` does not parse).
TEST(ReadRuleTest, ASubscriptedReadIsParenthesisedWhenItBecomesAnExpression) {
  Migration arrays = users_migration(Writes::both, Reads::new_column);
  arrays.old_type = "integer[]";
  arrays.new_type = "bigint[]";
  run_table(arrays, {
                        {"SELECT status[1] FROM users WHERE status[2] = 3",
                         "SELECT (CAST(state AS integer[]))[1] AS status FROM users WHERE "
                         "(CAST(state AS integer[]))[2] = 3"},
                        {"SELECT u.status[1:2] FROM users u",
                         "SELECT (CAST(u.state AS integer[]))[1:2] AS status FROM users u"},
                    });
  run_table(users_migration(Writes::both, Reads::new_column, true),
            {
                {"SELECT status[1] FROM users", "SELECT ((" CASE_T "))[1] AS status FROM users"},
            });
}

#define C_COLLATION "pg_catalog.\"C\""
#define DEFAULT_COLLATION "pg_catalog.\"default\""

// Where N's collation differs from O's, a read served from N is given O's: it sorts and
// compares as O did, in every position. N without a collation of its own (a type change through
// to_old) gives the type's default.
TEST(ReadRuleTest, ReadsServedFromTheNewColumnKeepTheOldCollation) {
  Migration c_to_default = users_migration(Writes::both, Reads::new_column);
  c_to_default.old_type = c_to_default.new_type = "text";
  c_to_default.old_collation = C_COLLATION;
  c_to_default.new_collation = DEFAULT_COLLATION;
  run_table(c_to_default,
            {
                {"SELECT status FROM users ORDER BY status",
                 "SELECT (state COLLATE " C_COLLATION ") AS status FROM users ORDER BY status"},
                {"SELECT id FROM users u WHERE status < 'b' ORDER BY u.status DESC",
                 "SELECT id FROM users u WHERE (state COLLATE " C_COLLATION
                 ") < 'b' ORDER BY (u.state COLLATE " C_COLLATION ") DESC"},
                {"SELECT min(u.status) FROM users u",
                 "SELECT min((u.state COLLATE " C_COLLATION ")) FROM users u"},
                {"SELECT * FROM users", "SELECT users.id, (users.state COLLATE " C_COLLATION
                                        ") AS status, users.name FROM users"},
                {"SELECT u.status[1] FROM users u",
                 "SELECT ((u.state COLLATE " C_COLLATION "))[1] AS status FROM users u"},
            });
  Migration default_to_c = c_to_default;
  std::swap(default_to_c.old_collation, default_to_c.new_collation);
  run_table(default_to_c,
            {
                {"SELECT id FROM users WHERE status > 'a'",
                 "SELECT id FROM users WHERE (state COLLATE " DEFAULT_COLLATION ") > 'a'"},
            });
  Migration same = c_to_default;
  same.new_collation = C_COLLATION;
  run_table(same, {
                      {"SELECT id FROM users WHERE status > 'a'",
                       "SELECT id FROM users WHERE state > 'a'"},
                  });
  Migration longer = c_to_default;
  longer.old_type = "character varying(20)";
  run_table(longer, {
                        {"SELECT id FROM users WHERE status > 'a'",
                         "SELECT id FROM users WHERE (CAST(state AS character varying(20)) "
                         "COLLATE " C_COLLATION ") > 'a'"},
                    });
  Migration typed = users_migration(Writes::both, Reads::new_column, true);
  typed.old_type = "text";
  typed.new_type = "smallint";
  typed.old_collation = C_COLLATION;
  run_table(typed, {
                       {"SELECT id FROM users ORDER BY status",
                        "SELECT id FROM users ORDER BY (CAST((" CASE_T
                        ") AS text) COLLATE " C_COLLATION ")"},
                   });
  typed.old_collation = DEFAULT_COLLATION;
  run_table(typed, {
                       {"SELECT id FROM users ORDER BY status",
                        "SELECT id FROM users ORDER BY CAST((" CASE_T ") AS text)"},
                   });
}

TEST(ReadRuleTest, UnsupportedReadsAreRejectedOrPassedThrough) {
  run_table(
      users_migration(Writes::both, Reads::new_column),
      {
          {"SELECT status FROM users, my_rows() g", nullptr, kRejected, "users-status"},
          {"SELECT status FROM users, unnest($1) g", nullptr, kRejected, "users-status"},
          {"SELECT status FROM users, unnest($1::my_row[]) g", nullptr, kRejected, "users-status"},
          {"SELECT status FROM users, app.generate_series(1, 2) g", nullptr, kRejected,
           "users-status"},
          // ROWS FROM's calls are not looked up in the catalog, but for one alone.
          {"SELECT status FROM users, ROWS FROM (public.prefs(1), public.prefs(2)) g", nullptr,
           kRejected, "users-status"},
          {"SELECT row_to_json(u) FROM users AS u(a, b)", nullptr, kRejected, "whole-row"},
          {"SELECT id FROM users NATURAL JOIN orders NATURAL JOIN accounts", nullptr, kRejected,
           "NATURAL JOIN"},
          {"SELECT u.a FROM users AS u(a, b, c, d)", nullptr, kRejected, "table alias \"u\""},
          // A name over O other than O's, used: refused (hunt 50 h18 #1, #6-#8).
          {"SELECT u.b FROM users AS u(a, b) WHERE b = 'x'", nullptr, kRejected,
           "naming column \"status\" \"b\""},
          {"SELECT u.oo FROM users AS u(a, oo) JOIN orders o USING (oo)", nullptr, kRejected,
           "naming column \"status\" \"oo\""},
      });
  run_table(users_migration(Writes::both, Reads::new_column, false, false),
            {
                {"SELECT ROW(u.*) FROM users AS u (a, b)", nullptr, kPassthrough, "ROW(u.*)"},
            });
}

// ROW(t.*) lists t's columns: as the app sees them, as a * in a target list does.
TEST(ReadRuleTest, RowOfAStarListsTheColumnsTheAppSees) {
  run_table(users_migration(Writes::both, Reads::new_column),
            {
                {"SELECT ROW(u.*) FROM users u", "SELECT ROW(u.id, u.state, u.name) FROM users u"},
                {"SELECT u.id FROM users u WHERE ROW(u.*) IS DISTINCT FROM ROW(1, 'a', 'b')",
                 "SELECT u.id FROM users u WHERE ROW(u.id, u.state, u.name) IS DISTINCT FROM "
                 "ROW(1, 'a', 'b')"},
                {"SELECT (users.*, 1) FROM users",
                 "SELECT (users.id, users.state, users.name, 1) FROM users"},
                // Another table's star is its own.
                {"SELECT ROW(o.*) FROM orders o", nullptr, kUnchanged},
            });
  run_table(users_migration(Writes::both, Reads::new_column, true),
            {
                {"SELECT ROW(u.*) FROM users u",
                 "SELECT ROW(u.id, (CASE (u.state) WHEN 1 THEN 'active' WHEN 0 THEN 'inactive' "
                 "END), u.name) FROM users u"},
            });
  // reads = old with N in the catalog: still the app's columns, N left out.
  run_table(users_migration(Writes::both, Reads::old_column),
            {
                {"SELECT ROW(u.*) FROM users u", "SELECT ROW(u.id, u.status, u.name) FROM users u"},
            });
}

#define ROW_U(r)                                                                                \
  "(CASE WHEN pg_catalog.num_nulls(" r ".*) = 0 THEN ROW(" r ".id, " r ".state, " r ".name, " r \
  ".state)::public.users END)"

// A whole-row reference is built again from the columns, O's field read from N, so the record
// keeps the table's row type and an outer join's missing row stays NULL.
TEST(ReadRuleTest, WholeRowReferencesAreBuiltAgainWithTheOldField) {
  run_table(
      users_migration(Writes::both, Reads::new_column),
      {
          {"SELECT row_to_json(u) FROM users u", "SELECT row_to_json(" ROW_U("u") ") FROM users u"},
          {"SELECT json_agg(u.*) FROM users u", "SELECT json_agg(" ROW_U("u") ") FROM users u"},
          {"SELECT u FROM users u", "SELECT " ROW_U("u") " AS u FROM users u"},
          {"SELECT to_jsonb(users) FROM users", "SELECT to_jsonb(" ROW_U("users") ") FROM users"},
          {"SELECT o.id, row_to_json(u) FROM orders o LEFT JOIN users u ON u.id = o.user_id",
           "SELECT o.id, row_to_json(" ROW_U(
               "u") ") FROM orders o LEFT JOIN users u ON u.id = o.user_id"},
          {"SELECT (u).status FROM users u", "SELECT (" ROW_U("u") ").status FROM users u"},
          {"DELETE FROM users u WHERE id = 1 RETURNING row_to_json(u)",
           "DELETE FROM users u WHERE id = 1 RETURNING row_to_json(" ROW_U("u") ")"},
          {"SELECT row_to_json(o) FROM orders o", nullptr, kUnchanged},
          // The rewrite's own text is not rewritten again: num_nulls(u) reads no field.
          {"SELECT row_to_json(" ROW_U("u") ") FROM users u", nullptr, kUnchanged},
          {"SELECT num_nonnulls(u) FROM users u", nullptr, kUnchanged},
      });
  run_table(users_migration(Writes::both, Reads::old_column),
            {
                {"SELECT row_to_json(u) FROM users u", nullptr, kUnchanged},
            });
  Migration typed = users_migration(Writes::both, Reads::new_column, true);
  typed.old_type = "text";
  typed.new_type = "smallint";
  run_table(typed,
            {
                {"SELECT row_to_json(u) FROM users u",
                 "SELECT row_to_json((CASE WHEN pg_catalog.num_nulls(u.*) = 0 THEN ROW(u.id, "
                 "CAST((CASE (u.state) WHEN 1 THEN 'active' WHEN 0 THEN 'inactive' END) AS "
                 "text), u.name, u.state)::public.users END)) FROM users u"},
            });
  Migration dropped = users_migration(Writes::new_column, Reads::new_column);
  dropped.old_column = "gone";
  run_table(dropped, {
                         {"SELECT row_to_json(u) FROM users u", nullptr, kRejected, "dropped"},
                     });
}

// A function in FROM whose columns are known without the catalog (a column definition list, or
// a built-in returning one scalar column) lets an unqualified O resolve beside it.
TEST(ReadRuleTest, FunctionsInFromWithKnownColumns) {
  run_table(
      users_migration(Writes::both, Reads::new_column),
      {
          {"SELECT status FROM users, generate_series(1, 2) g",
           "SELECT state AS status FROM users, generate_series(1, 2) g"},
          {"SELECT id, status FROM users JOIN unnest($1::int[]) WITH ORDINALITY AS x(uid, ord) "
           "ON x.uid = users.id ORDER BY ord",
           "SELECT id, state AS status FROM users JOIN unnest($1::int[]) WITH ORDINALITY AS "
           "x(uid, ord) ON x.uid = users.id ORDER BY ord"},
          {"SELECT status FROM users, unnest(ARRAY[1, 2], $1::text[]) AS x(a)",
           "SELECT state AS status FROM users, unnest(ARRAY[1, 2], $1::text[]) AS x(a)"},
          {"SELECT status FROM users, json_to_recordset($1) AS x(a int, b text)",
           "SELECT state AS status FROM users, json_to_recordset($1) AS x(a int, b text)"},
          // The function's own column called status: Postgres finds the name ambiguous.
          {"SELECT status FROM users, json_to_recordset($1) AS x(status text)", nullptr, kRejected,
           "cannot resolve"},
          {"SELECT status FROM users, generate_series(1, 2) AS g(status)", nullptr, kRejected,
           "cannot resolve"},
          {"SELECT status FROM users, generate_series(1, 2) AS status", nullptr, kRejected,
           "cannot resolve"},
          {"SELECT x.status, u.status FROM users u, json_to_recordset($1) AS x(status text)",
           "SELECT x.status, u.state AS status FROM users u, json_to_recordset($1) AS x(status "
           "text)"},
          // OUT parameters name the columns whatever the alias: key and value here.
          {"SELECT id, status, e.value FROM users u, jsonb_each(u.name::jsonb) AS e WHERE key = $1",
           "SELECT id, state AS status, e.value FROM users u, jsonb_each(u.name::jsonb) AS e "
           "WHERE key = $1"},
          {"SELECT status FROM users u CROSS JOIN LATERAL jsonb_array_elements_text($1) WITH "
           "ORDINALITY t WHERE value = status ORDER BY ordinality",
           "SELECT state AS status FROM users u CROSS JOIN LATERAL jsonb_array_elements_text($1) "
           "WITH ORDINALITY t WHERE value = state ORDER BY ordinality"},
          {"SELECT status FROM users, jsonb_object_keys($1) AS k WHERE k = name",
           "SELECT state AS status FROM users, jsonb_object_keys($1) AS k WHERE k = name"},
          // Column aliases rename OUT columns too: one called status makes the name ambiguous.
          {"SELECT status FROM users, json_each_text($1) AS e(status)", nullptr, kRejected,
           "cannot resolve"},
          {"SELECT status FROM users, jsonb_each($1) AS e(a, b, c)", nullptr, kRejected,
           "cannot resolve"},
      });
}

// ROWS FROM's columns are its calls' in turn, renamed by the alias list; a scalar call's column
// is named by the alias only when it is the only call.
TEST(ReadRuleTest, RowsFromWithKnownColumns) {
  run_table(
      users_migration(Writes::both, Reads::new_column),
      {
          {"SELECT * FROM ROWS FROM (generate_series(1, 2)) g(id) JOIN users USING (id)",
           "SELECT id, users.state AS status, users.name FROM ROWS FROM (generate_series(1, 2)) "
           "g(id) JOIN users USING (id)"},
          {"SELECT * FROM ROWS FROM (generate_series(1, 2), generate_series(1, 2)) g(id, x) "
           "JOIN users USING (id)",
           "SELECT id, g.x, users.state AS status, users.name FROM ROWS FROM (generate_series(1, "
           "2), generate_series(1, 2)) g(id, x) JOIN users USING (id)"},
          {"SELECT * FROM ROWS FROM (generate_series(1, 2)) WITH ORDINALITY g(id, o) JOIN users "
           "USING (id)",
           "SELECT id, g.o, users.state AS status, users.name FROM ROWS FROM (generate_series(1, "
           "2)) WITH ORDINALITY g(id, o) JOIN users USING (id)"},
          {"SELECT status FROM users, ROWS FROM (generate_series(1, 2)) g",
           "SELECT state AS status FROM users, ROWS FROM (generate_series(1, 2)) g"},
          {"SELECT status FROM users, ROWS FROM (json_to_recordset($1) AS (a int, b text)) x",
           "SELECT state AS status FROM users, ROWS FROM (json_to_recordset($1) AS (a int, b "
           "text)) x"},
          {"SELECT status FROM users, ROWS FROM (generate_series(1, 2), unnest($1::text[])) g",
           "SELECT state AS status FROM users, ROWS FROM (generate_series(1, 2), "
           "unnest($1::text[])) g"},
          {"SELECT status FROM users, ROWS FROM (generate_series(1, 2), generate_series(1, 2)) "
           "AS g(a, status)",
           nullptr, kRejected, "cannot resolve"},
          {"SELECT status FROM users, ROWS FROM (json_to_recordset($1) AS (status text)) x",
           nullptr, kRejected, "cannot resolve"},
      });
}

// Any other function in FROM: its columns as the catalog gives them (rewrite_test_support.hpp),
// when every function of its name agrees; asked for when the catalog has not been.
TEST(ReadRuleTest, FunctionsInFromWithColumnsFromTheCatalog) {
  run_table(
      users_migration(Writes::both, Reads::new_column),
      {
          {"SELECT status, theme FROM users u, public.prefs(u.id) p WHERE lang = $1",
           "SELECT state AS status, theme FROM users u, public.prefs(u.id) p WHERE lang = $1"},
          {"SELECT status FROM users u, score(u.id)",
           "SELECT state AS status FROM users u, score(u.id)"},
          {"SELECT status FROM users u JOIN LATERAL score(u.id) s ON s > 1",
           "SELECT state AS status FROM users u JOIN LATERAL score(u.id) s ON s > 1"},
          {"SELECT status FROM users u, order_rows() AS o(a, b, c, d)",
           "SELECT state AS status FROM users u, order_rows() AS o(a, b, c, d)"},
          {"SELECT status FROM users, ROWS FROM (public.prefs(1)) g",
           "SELECT state AS status FROM users, ROWS FROM (public.prefs(1)) g"},
          {"SELECT status, ordinality FROM users u, public.prefs(u.id) WITH ORDINALITY",
           "SELECT state AS status, ordinality FROM users u, public.prefs(u.id) WITH ORDINALITY"},
          {"INSERT INTO users (id, status) SELECT * FROM public.prefs(1)",
           "INSERT INTO users (id, status, state) SELECT switchyard_rows.*, switchyard_rows.c2 "
           "FROM "
           "(SELECT * FROM public.prefs(1)) AS switchyard_rows (c1, c2)"},
          // A column of the function called status: Postgres finds the bare name ambiguous.
          {"SELECT status FROM users u, order_rows() o", nullptr, kRejected, "cannot resolve"},
          {"SELECT status FROM users u, score(u.id) AS status", nullptr, kRejected,
           "cannot resolve"},
          {"SELECT status FROM users u, last_status(u.id)", nullptr, kRejected, "cannot resolve"},
          {"SELECT status FROM users u, order_rows() AS o(a, b, status)", nullptr, kRejected,
           "cannot resolve"},
          // prefs in two schemas with other columns: the unqualified call could be either.
          {"SELECT status FROM users u, prefs(u.id) p", nullptr, kRejected, "users-status"},
          {"SELECT status FROM users u, app.prefs(u.id) p", nullptr, kRejected, "cannot resolve"},
          {"SELECT status FROM users u, nowhere.prefs(u.id) p", nullptr, kRejected, "users-status"},
          {"SELECT status FROM users u, not_looked_up(u.id) f", nullptr, kNeedsCatalog},
          // Qualified O needs no function columns.
          {"SELECT u.status FROM users u, not_looked_up(u.id) f",
           "SELECT u.state AS status FROM users u, not_looked_up(u.id) f"},
      });
}

// USING compares and merges O as stored: the mapped table becomes a subquery serving O from N
// under the table's name, every other column as it is (using_join.cpp).
#define WRAPPED(r, from) \
  "(SELECT " r ".id, " r ".state AS status, " r ".name, " r ".state FROM " from ") AS " r
// NATURAL JOIN under reads = new is written out as the app meant it: USING the columns both
// inputs have as the app sees them (O, never N), then served as JOIN ... USING.
TEST(ReadRuleTest, NaturalJoinIsWrittenOutWithUsing) {
  const Rewriter rw({users_migration(Writes::both, Reads::new_column)});
  StaticCatalog cat = make_catalog();
  cat.add({"public", "tags"}, {"label"});
  cat.add({"public", "labels"}, {"status", "state", "label"});
  cat.mark_complete("tags");
  cat.mark_complete("labels");
  SessionContext ctx;
  ctx.user = "alice";
  const Case cases[] = {
      {"SELECT u.id, status FROM users u NATURAL LEFT JOIN orders o WHERE status = $1",
       "SELECT u.id, status FROM (SELECT u.id, u.state AS status, u.name, u.state FROM users u) "
       "AS u LEFT JOIN orders o USING (id, status) WHERE status = $1"},
      // O is not common: USING (id) alone, and a bare O is the table's, read from N.
      {"SELECT status FROM users NATURAL JOIN accounts",
       "SELECT state AS status FROM users JOIN accounts USING (id)"},
      // The mapped table on the right: the columns in the left input's order.
      {"SELECT o.total FROM orders o NATURAL JOIN users u",
       "SELECT o.total FROM orders o JOIN (SELECT u.id, u.state AS status, u.name, u.state FROM "
       "users u) AS u USING (id, status)"},
      // No common column: a natural join without one joins every row with every row.
      {"SELECT status FROM users NATURAL JOIN tags",
       "SELECT state AS status FROM users JOIN tags ON TRUE"},
      // The other input has a column named N: the app never meant to join on it.
      {"SELECT label FROM users u NATURAL JOIN labels",
       "SELECT label FROM (SELECT u.id, u.state AS status, u.name, u.state FROM users u) AS u "
       "JOIN labels USING (status)"},
      {"SELECT u.id FROM users u NATURAL JOIN (SELECT 1 AS id) s", nullptr, kRejected,
       "NATURAL JOIN with the mapped table other than"},
      // A column alias list renames the other input's columns: the common ones follow it.
      {"SELECT 1 FROM users u NATURAL JOIN orders AS o (id, status)",
       "SELECT 1 FROM (SELECT u.id, u.state AS status, u.name, u.state FROM users u) AS u JOIN "
       "orders AS o (id, status) USING (id, status)"},
      {"SELECT 1 FROM users u NATURAL JOIN orders AS o (oid)",
       "SELECT 1 FROM (SELECT u.id, u.state AS status, u.name, u.state FROM users u) AS u JOIN "
       "orders AS o (oid) USING (status)"},
      {"SELECT 1 FROM users AS u (a, b) NATURAL JOIN orders", nullptr, kRejected,
       "NATURAL JOIN with the mapped table"},
      {"SELECT 1 FROM (users u NATURAL JOIN orders) AS j", nullptr, kRejected,
       "NATURAL JOIN with the mapped table"},
  };
  for (const Case& c : cases) {
    check_case(rw, c, ctx, cat);
  }
  // reads = old with N in the catalog: written out too (N must not be joined on, nor shown by
  // a *), with O as stored.
  const Rewriter old_reads({users_migration(Writes::both, Reads::old_column)});
  const Case reads_old[] = {
      {"SELECT id FROM users NATURAL JOIN orders",
       "SELECT id FROM users JOIN orders USING (id, status)"},
      {"SELECT label FROM users u NATURAL JOIN labels",
       "SELECT label FROM users u JOIN labels USING (status)"},
      {"SELECT * FROM users NATURAL JOIN orders",
       "SELECT id, status, users.name, orders.user_id, orders.total FROM users JOIN orders USING "
       "(id, status)"},
      // Other shapes stay as written, as before; an inner `a NATURAL JOIN b` is written out.
      {"SELECT 1 FROM (users u NATURAL JOIN orders) AS j", nullptr, kUnchanged},
      {"SELECT id FROM users NATURAL JOIN orders NATURAL JOIN accounts",
       "SELECT id FROM users JOIN orders USING (id, status) NATURAL JOIN accounts"},
  };
  for (const Case& c : reads_old) {
    check_case(old_reads, c, ctx, cat);
  }
  // Nothing to write out while N is not in the catalog.
  StaticCatalog before = make_catalog();
  before.add({"public", "users"}, {"id", "status", "name"});
  check_case(old_reads, {"SELECT id FROM users NATURAL JOIN orders", nullptr, kUnchanged}, ctx,
             before);
}

TEST(ReadRuleTest, JoinUsingTheOldColumnReadsItFromTheNewOne) {
  run_table(
      users_migration(Writes::both, Reads::new_column),
      {
          {"SELECT u.id, status FROM users u JOIN orders o USING (status) WHERE status = 'a' "
           "ORDER BY status",
           "SELECT u.id, status FROM " WRAPPED("u",
                                               "users u") " JOIN orders o USING (status) "
                                                          "WHERE status = 'a' ORDER BY status"},
          {"SELECT U.id FROM users U JOIN orders USING (status)",
           "SELECT U.id FROM "
           "(SELECT u.id, u.state AS status, u.name, u.state FROM users U) AS u"
           " JOIN orders USING (status)"},
          {"SELECT 1 FROM users \"u\" JOIN orders USING (status)",
           "SELECT 1 FROM (SELECT u.id, u.state AS status, u.name, u.state FROM users \"u\") AS "
           "u JOIN orders USING (status)"},
          {"SELECT o.id, users.name FROM orders o LEFT JOIN public.users USING (status)",
           "SELECT o.id, users.name FROM orders o LEFT JOIN " WRAPPED(
               "users", "public.users") " USING (status)"},
          // References through the name read the subquery's columns; t.* is the table's own.
          {"SELECT u.status, u.* FROM users AS u JOIN orders USING (id, status)",
           "SELECT u.state AS status, u.id, u.state AS status, u.name FROM " WRAPPED(
               "u", "users AS u") " JOIN orders USING (id, status)"},
          // Correlated: the subquery's bare status is its own table's.
          {"SELECT u.id FROM users u JOIN orders USING (status) WHERE EXISTS (SELECT 1 FROM "
           "accounts a WHERE a.owner = u.status) FOR UPDATE OF u",
           "SELECT u.id FROM " WRAPPED("u", "users u") " JOIN orders USING (status) WHERE "
                                                       "EXISTS (SELECT 1 FROM accounts a WHERE "
                                                       "a.owner = u.state) FOR UPDATE OF u"},
          // `users*` (with its descendants, the old spelling of the default) stays inside.
          {"SELECT u.id FROM users* u JOIN orders USING (status)",
           "SELECT u.id FROM " WRAPPED("u", "users* u") " JOIN orders USING (status)"},
          {"SELECT id FROM orders NATURAL JOIN users *",
           "SELECT id FROM orders JOIN " WRAPPED("users", "users *") " USING (id, status)"},
          // A USING join that does not name O is left alone.
          {"SELECT u.name FROM users u JOIN orders USING (id)", nullptr, kUnchanged},
          // Refused: what the subquery cannot stand for, or a * that lists merged columns.
          {"SELECT * FROM users JOIN orders USING (status)",
           "SELECT status, users.id, users.name, orders.id, orders.user_id, orders.total "
           "FROM " WRAPPED("users", "users") " JOIN orders USING (status)"},
          {"SELECT u.xmin FROM users u JOIN orders USING (status)", nullptr, kRejected,
           "system column"},
          {"SELECT public.users.name FROM public.users JOIN orders USING (status)", nullptr,
           kRejected, "schema-qualified"},
          {"SELECT 1 FROM ONLY users JOIN orders USING (status)", nullptr, kRejected, "ONLY"},
          {"SELECT 1 FROM users u TABLESAMPLE system (10) JOIN orders USING (status)", nullptr,
           kRejected, "sampled"},
          {"SELECT 1 FROM users AS u(a, b) JOIN orders USING (status)", nullptr, kRejected,
           "USING (status)"},
          {"SELECT j.id FROM (users JOIN orders USING (status)) AS j", nullptr, kRejected,
           "join alias"},
      });
  run_table(users_migration(Writes::both, Reads::old_column),
            {{"SELECT status FROM users JOIN orders USING (status)", nullptr, kUnchanged}});
  // A type change serves O through to_old, in O's type.
  Migration typed = users_migration(Writes::both, Reads::new_column, true);
  typed.old_type = "text";
  typed.new_type = "smallint";
  run_table(typed, {{"SELECT 1 FROM users u JOIN orders USING (status)",
                     "SELECT 1 FROM (SELECT u.id, CAST((CASE (u.state) WHEN 1 THEN 'active' WHEN "
                     "0 THEN 'inactive' END) AS text) AS status, u.name, u.state FROM users u) AS "
                     "u JOIN orders USING (status)"}});
}
#undef WRAPPED

TEST(ReadRuleTest, SearchPathDecidesWhichUsersIsMeant) {
  SessionContext audit_first;
  audit_first.search_path = {"audit", "public"};
  run_table(users_migration(Writes::both, Reads::new_column),
            {
                {"SELECT status FROM users", nullptr, kUnchanged},
                {"SELECT status FROM public.users", "SELECT state AS status FROM public.users"},
            },
            audit_first);
  SessionContext user_audit;
  user_audit.user = "audit";
  run_table(users_migration(Writes::both, Reads::new_column),
            {{"SELECT status FROM users", nullptr, kUnchanged}}, user_audit);
  SessionContext unknown_schema;
  unknown_schema.search_path = {"tenant", "public"};
  run_table(users_migration(Writes::both, Reads::new_column),
            {{"SELECT status FROM users", "SELECT state AS status FROM users"}}, unknown_schema);
  // Without knowing whether tenant.users exists, the engine must ask.
  const Rewriter rw({users_migration(Writes::both, Reads::new_column)});
  StaticCatalog partial;
  partial.add({"public", "users"}, {"id", "status", "name", "state"});
  partial.add_absent({"pg_catalog", "users"});
  const RewriteResult r = rw.rewrite("SELECT status FROM users", unknown_schema, partial);
  ASSERT_EQ(r.outcome, Outcome::needs_catalog);
  ASSERT_EQ(r.missing.size(), 1u);
  EXPECT_EQ(r.missing[0], (QualifiedName{"tenant", "users"}));
}

// A table named like a catalog relation: the server searches pg_catalog first unless the path
// names it, so an unqualified name is the catalog's relation then.
TEST(ReadRuleTest, PgCatalogIsSearchedFirstUnlessThePathNamesIt) {
  Migration m = users_migration(Writes::both, Reads::new_column);
  m.name = "pgs";
  m.table = "pg_settings";
  m.old_column = "setting";
  m.new_column = "setting2";
  const Rewriter rw({m});
  StaticCatalog cat;
  cat.add({"public", "pg_settings"}, {"name", "setting", "setting2"});
  cat.add({"pg_catalog", "pg_settings"}, {"name", "setting", "unit"});
  cat.mark_complete("pg_settings");
  const char* kSelect = "SELECT setting FROM pg_settings WHERE name = 'work_mem'";
  const char* kUpdate = "UPDATE pg_settings SET setting = '8MB' WHERE name = 'work_mem'";
  const char* kSelected = "SELECT setting2 AS setting FROM pg_settings WHERE name = 'work_mem'";
  const char* kUpdated =
      "UPDATE pg_settings SET setting = '8MB', setting2 = '8MB' WHERE name = 'work_mem'";
  struct PathCase {
    std::vector<std::string> search_path;
    std::vector<Case> cases;
  };
  const PathCase tables[] = {
      {{"$user", "public"},
       {{kSelect, nullptr, kUnchanged},
        {kUpdate, nullptr, kUnchanged},
        {"SELECT setting FROM public.pg_settings",
         "SELECT setting2 AS setting FROM public.pg_settings"},
        {"SELECT setting FROM pg_catalog.pg_settings WHERE name = 'work_mem'", nullptr,
         kUnchanged}}},
      {{"public", "pg_catalog"},
       {{kSelect, kSelected},
        {kUpdate, kUpdated},
        {"SELECT setting FROM pg_catalog.pg_settings WHERE name = 'work_mem'", nullptr,
         kUnchanged}}},
      {{"pg_catalog", "public"}, {{kSelect, nullptr, kUnchanged}, {kUpdate, nullptr, kUnchanged}}},
      {{"$user"}, {{kSelect, nullptr, kUnchanged}}},
  };
  for (const PathCase& t : tables) {
    SessionContext ctx;
    ctx.user = "alice";
    ctx.search_path = t.search_path;
    SCOPED_TRACE(t.search_path.front());
    for (const Case& c : t.cases) {
      check_case(rw, c, ctx, cat);
    }
  }
}

TEST(ReadRuleTest, UnknownRelationNeedsTheCatalog) {
  const Rewriter rw({users_migration(Writes::both, Reads::new_column)});
  StaticCatalog cat = make_catalog();
  SessionContext ctx;
  ctx.user = "alice";
  RewriteResult r = rw.rewrite("SELECT status FROM users, widgets", ctx, cat);
  ASSERT_EQ(r.outcome, Outcome::needs_catalog);
  ASSERT_EQ(r.missing.size(), 1u);
  // pg_catalog is searched first, as the path does not name it.
  EXPECT_EQ(r.missing[0], (QualifiedName{"pg_catalog", "widgets"}));
  cat.add({"public", "widgets"}, {"id", "label"});
  cat.mark_complete("widgets");
  r = rw.rewrite("SELECT status FROM users, widgets", ctx, cat);
  EXPECT_EQ(r.outcome, Outcome::rewritten);
  EXPECT_EQ(r.sql, "SELECT state AS status FROM users, widgets");
}

TEST(ReadRuleTest, StatementsAroundAndInside) {
  run_table(
      users_migration(Writes::both, Reads::new_column),
      {
          {"/* trace=1 */ SELECT status FROM users; SELECT 1; -- c\nSELECT status FROM orders",
           "/* trace=1 */ SELECT state AS status FROM users; SELECT 1; -- c\nSELECT status FROM "
           "orders"},
          {"EXPLAIN ANALYZE SELECT status FROM users",
           "EXPLAIN ANALYZE SELECT state AS status FROM users"},
          {"PREPARE q(text) AS SELECT id FROM users WHERE status = $1",
           "PREPARE q(text) AS SELECT id FROM users WHERE state = $1"},
          {"DECLARE c CURSOR FOR SELECT status FROM users",
           "DECLARE c CURSOR FOR SELECT state AS status FROM users"},
          {"CREATE TABLE t AS SELECT status FROM users",
           "CREATE TABLE t AS SELECT state AS status FROM users"},
          {"SELECT status INTO t FROM users", "SELECT state AS status INTO t FROM users"},
          // Stored queries, run again by the server alone, stay as written.
          {"CREATE MATERIALIZED VIEW mv AS SELECT status FROM users", nullptr, kUnchanged},
          {"CREATE VIEW v AS SELECT status FROM users", nullptr, kUnchanged},
          {"DELETE FROM users WHERE status = 'x' RETURNING status",
           "DELETE FROM users WHERE state = 'x' RETURNING state AS status"},
          {"DELETE FROM orders o USING users u WHERE u.id = o.user_id AND u.status = 'x'",
           "DELETE FROM orders o USING users u WHERE u.id = o.user_id AND u.state = 'x'"},
          {"COPY (SELECT status FROM users) TO STDOUT",
           "COPY (SELECT state AS status FROM users) TO STDOUT"},
          {"COPY users TO STDOUT",
           "COPY (SELECT users.id, users.state AS status, users.name FROM users) TO STDOUT"},
          // A listed name that is no column fails as in a column list, not as a whole row.
          {"COPY users (status, users) TO STDOUT",
           "COPY (SELECT users.state AS status, users.users FROM users) TO STDOUT"},
          {"COPY users (id, status) TO STDOUT WITH (FORMAT csv)",
           "COPY (SELECT users.id, users.state AS status FROM users) TO STDOUT WITH (FORMAT csv)"},
          {"COPY users (id, name) TO STDOUT", nullptr, kUnchanged},
      });
  run_table(users_migration(Writes::both, Reads::old_column),
            {{"COPY users TO STDOUT", "COPY users (id, status, name) TO STDOUT"}});
}

TEST(ReadRuleTest, QuotedMixedCaseNames) {
  Migration m;
  m.name = "mixed";
  m.schema = "public";
  m.table = "Mixed Case";
  m.old_column = "Old Col";
  m.new_column = "new col";
  m.writes = Writes::both;
  m.reads = Reads::new_column;
  run_table(m, {
                   {"SELECT \"Old Col\" FROM \"Mixed Case\"",
                    "SELECT \"new col\" AS \"Old Col\" FROM \"Mixed Case\""},
                   {"SELECT old_col FROM \"Mixed Case\"", nullptr, kUnchanged},
                   {"SELECT * FROM \"Mixed Case\" m",
                    "SELECT m.id, m.\"new col\" AS \"Old Col\" FROM \"Mixed Case\" m"},
               });
}

}  // namespace
}  // namespace switchyard::rewrite::test
