// Write rule tables (DESIGN §3 "writes"): configuration + SQL in, SQL out, side by side.

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rewrite_test_support.hpp"

namespace switchyard::rewrite::test {
namespace {

#define TO_NEW(v) "(CASE (" v ") WHEN 'active' THEN 1 WHEN 'inactive' THEN 0 END)"
#define TO_OLD(v) "(CASE (" v ") WHEN 1 THEN 'active' WHEN 0 THEN 'inactive' END)"

TEST(InsertRuleTest, WritesBothRename) {
  run_table(
      users_migration(Writes::both, Reads::old_column),
      {
          {"INSERT INTO users (id, status) VALUES (1, 'a')",
           "INSERT INTO users (id, status, state) VALUES (1, 'a', 'a')"},
          {"INSERT INTO users (id, status) VALUES (1, 'a'), (2, $1)",
           "INSERT INTO users (id, status, state) VALUES (1, 'a', 'a'), (2, $1, $1)"},
          {"INSERT INTO users (status, id) VALUES (lower('A') || 'b', 1)",
           "INSERT INTO users (status, id, state) VALUES (lower('A') || 'b', 1, lower('A') || "
           "'b')"},
          {"INSERT INTO users (id, state) VALUES (1, 'a')",
           "INSERT INTO users (id, state, status) VALUES (1, 'a', 'a')"},
          {"INSERT INTO users (id, status, state) VALUES (1, 'a', 'a')", nullptr, kUnchanged},
          {"INSERT INTO users (id, name) VALUES (1, 'x')", nullptr, kUnchanged},
          {"INSERT INTO users VALUES (1, 'a', 'bob')",
           "INSERT INTO users (id, status, name, state) VALUES (1, 'a', 'bob', 'a')"},
          {"INSERT INTO users VALUES (1, 'a')",
           "INSERT INTO users (id, status, state) VALUES (1, 'a', 'a')"},
          {"INSERT INTO users VALUES (1)", nullptr, kUnchanged},
          {"INSERT INTO users DEFAULT VALUES", nullptr, kUnchanged},
          {"INSERT INTO users (id, status) VALUES (1, DEFAULT)",
           "INSERT INTO users (id, status, state) VALUES (1, DEFAULT, DEFAULT)"},
          {"INSERT INTO public.users (id, status) VALUES (1, 'a')",
           "INSERT INTO public.users (id, status, state) VALUES (1, 'a', 'a')"},
          {"INSERT INTO audit.users (id, status) VALUES (1, 'a')", nullptr, kUnchanged},
          {"INSERT INTO orders (id, status) VALUES (1, 'a')", nullptr, kUnchanged},
          {"INSERT INTO users (id, \"status\") VALUES (1, 'a')",
           "INSERT INTO users (id, \"status\", state) VALUES (1, 'a', 'a')"},
          {"/* tag */ INSERT INTO users (id, status) VALUES (1, 'a') -- x\n",
           "/* tag */ INSERT INTO users (id, status, state) VALUES (1, 'a', 'a') -- x\n"},
          {"INSERT INTO users (id, status) SELECT id, status FROM orders",
           "INSERT INTO users (id, status, state) SELECT id, status, status FROM orders"},
          {"INSERT INTO users (id, status) SELECT o.id, upper(o.status) AS st FROM orders o "
           "WHERE o.total > 0",
           "INSERT INTO users (id, status, state) SELECT o.id, upper(o.status) AS st, "
           "upper(o.status) FROM orders o WHERE o.total > 0"},
          // A reserved word after AS or '.' is a name, not the FROM that ends the list.
          {"INSERT INTO users (id, status) SELECT o.id, o.status AS from FROM orders o",
           "INSERT INTO users (id, status, state) SELECT o.id, o.status AS from, o.status FROM "
           "orders o"},
          {"INSERT INTO users (id, status) SELECT o.id, o.from FROM orders o",
           "INSERT INTO users (id, status, state) SELECT o.id, o.from, o.from FROM orders o"},
          {"INSERT INTO users (id, status) VALUES (1, 'a') RETURNING id",
           "INSERT INTO users (id, status, state) VALUES (1, 'a', 'a') RETURNING id"},
          {"INSERT INTO users (id, status) VALUES (1, 'a') RETURNING *",
           "INSERT INTO users (id, status, state) VALUES (1, 'a', 'a') RETURNING users.id, "
           "users.status, users.name"},
      });
}

TEST(InsertRuleTest, UnsupportedInsertsAreRefused) {
  run_table(users_migration(Writes::both, Reads::old_column),
            {
                {"INSERT INTO users SELECT * FROM my_rows()", nullptr, kRejected,
                 "SELECT * whose columns are not known"},
            });
  run_table(users_migration(Writes::both, Reads::old_column, false, false),
            {{"INSERT INTO users SELECT * FROM my_rows()", nullptr, kPassthrough, "users-status"}});
}

// A volatile value in a VALUES row is computed once, in a MATERIALIZED CTE of its own per row,
// which both columns read; the row's other items stay where their columns type them.
TEST(InsertRuleTest, AVolatileValueInAValuesRowIsComputedOnce) {
#define SV(n) "(SELECT switchyard_value" #n ".v FROM switchyard_value" #n ")"
  run_table(
      users_migration(Writes::both, Reads::old_column),
      {
          {"INSERT INTO users (id, status) VALUES (1, random()::text)",
           "WITH switchyard_value1 AS MATERIALIZED (SELECT random()::text AS v) INSERT INTO users "
           "(id, status, state) VALUES (1, " SV(1) ", " SV(1) ")"},
          {"/* tag */ INSERT INTO users (id, status) VALUES ($1, md5($2 || random()::text)), "
           "($3, 'x'), (nextval('s'), (SELECT gen_random_uuid()::text)) RETURNING id",
           "/* tag */ WITH switchyard_value1 AS MATERIALIZED (SELECT md5($2 || random()::text) AS "
           "v), switchyard_value3 AS MATERIALIZED (SELECT (SELECT gen_random_uuid()::text) AS v) "
           "INSERT INTO users (id, status, state) VALUES ($1, " SV(1) ", " SV(
               1) "), ($3, 'x', "
                  "'x'), (nextval('s'), " SV(3) ", " SV(3) ") RETURNING id"},
          {"WITH a AS (SELECT 1 AS x) INSERT INTO users (status, id) VALUES (random()::text, "
           "(SELECT x FROM a))",
           "WITH a AS (SELECT 1 AS x) , switchyard_value1 AS MATERIALIZED (SELECT random()::text "
           "AS v) INSERT INTO users (status, id, state) VALUES (" SV(1) ", (SELECT x FROM a), " SV(
               1) ")"},
          {"WITH w AS (INSERT INTO users (id, status) VALUES (1, random()::text) RETURNING id) "
           "SELECT * FROM w",
           "WITH w AS (WITH switchyard_value1 AS MATERIALIZED (SELECT random()::text AS v) INSERT "
           "INTO users (id, status, state) VALUES (1, " SV(1) ", " SV(1) ") RETURNING id) SELECT "
                                                                         "* FROM w"},
      });
  run_table(users_migration(Writes::both, Reads::old_column, true),
            {
                {"INSERT INTO users (id, state) VALUES (1, (random() * 2)::int)",
                 "WITH switchyard_value1 AS MATERIALIZED (SELECT (random() * 2)::int AS v) INSERT "
                 "INTO users (id, state, status) VALUES (1, " SV(1) ", (SELECT " TO_OLD(
                     "switchyard_value1.v") " FROM switchyard_value1))"},
            });
#undef SV
}

// An error inside a value moved into the CTE is told where the client wrote the value: a
// table of text, the marked token (its first occurrence in each text) and where it stands.
TEST(InsertRuleTest, AnErrorInAMovedValueIsToldWhereTheClientWroteIt) {
  const Rewriter rw({users_migration(Writes::both, Reads::old_column)});
  const StaticCatalog cat = make_catalog();
  SessionContext ctx;
  ctx.user = "alice";
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"INSERT INTO users (id, status) VALUES (1, random()::text || nosuch())", "nosuch"},
      {"/* é */ INSERT INTO users (id, status) VALUES (1, 'x'), (2, 'é' || random() || nosuch())",
       "nosuch"},
      {"INSERT INTO users (id, status) VALUES (1, random()::text), (2, random() || nosuch())",
       "nosuch"},
  };
  for (const auto& [text, token] : rows) {
    SCOPED_TRACE(text);
    const RewriteResult r = rw.rewrite(text, ctx, cat);
    ASSERT_EQ(r.outcome, Outcome::rewritten) << r.reason;
    auto chars = [](std::string_view s, std::size_t bytes) {
      return static_cast<std::uint32_t>(std::count_if(s.begin(), s.begin() + bytes, [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
      }));
    };
    const auto told = original_position(r.positions, r.sql, chars(r.sql, r.sql.find(token)) + 1);
    EXPECT_EQ(told, chars(text, text.find(token)) + 1) << r.sql;
  }
}

// A function off the built-in list, in a value written to both columns, is judged by pg_proc:
// IMMUTABLE and STABLE give one result for one statement, so the value may be repeated; VOLATILE
// (or a name the catalog does not list) is refused. Unqualified, every schema's function of that
// name must pass, since the search path picks one the engine does not resolve.
TEST(InsertRuleTest, FunctionsInWrittenValuesAreJudgedByTheirVolatility) {
  const Rewriter rw({users_migration(Writes::both, Reads::old_column)});
  StaticCatalog cat = make_catalog();
  cat.add_function({"public", "slugify"}, 'i');
  cat.add_function({"public", "stamp"}, 's');
  cat.add_function({"app", "next_code"}, 's');
  cat.add_function({"public", "next_code"}, 'v');
  // A VOLATILE overload of a built-in's name in another schema: `length(1)` calls it.
  cat.add_function({"pg_catalog", "length"}, 'i');
  cat.add_function({"public", "length"}, 'v');
  for (const char* name : {"slugify", "stamp", "next_code", "gone", "lower"}) {
    cat.mark_function_complete(name);
  }
  SessionContext ctx;
  ctx.user = "alice";
  const std::vector<Case> cases = {
      {"MERGE INTO users u USING orders o ON o.user_id = u.id WHEN NOT MATCHED THEN INSERT (id, "
       "status) VALUES (o.id, length(1)::text)",
       nullptr, kRejected, "length(), which is VOLATILE"},
      {"UPDATE users SET status = pg_catalog.length($1) WHERE id = 1",
       "UPDATE users SET status = pg_catalog.length($1), state = pg_catalog.length($1) WHERE id "
       "= 1"},
      {"UPDATE users SET status = coalesce(lower($1), 'x') WHERE id = 1",
       "UPDATE users SET status = coalesce(lower($1), 'x'), state = coalesce(lower($1), 'x') "
       "WHERE id = 1"},
      {"INSERT INTO users (id, status) VALUES (1, slugify($1))",
       "INSERT INTO users (id, status, state) VALUES (1, slugify($1), slugify($1))"},
      {"UPDATE users SET status = stamp(upper($1)) WHERE id = 1",
       "UPDATE users SET status = stamp(upper($1)), state = stamp(upper($1)) WHERE id = 1"},
      {"UPDATE users SET status = app.next_code() WHERE id = 1",
       "UPDATE users SET status = app.next_code(), state = app.next_code() WHERE id = 1"},
      {"MERGE INTO users u USING orders o ON o.user_id = u.id WHEN NOT MATCHED THEN INSERT (id, "
       "status) VALUES (o.id, next_code())",
       nullptr, kRejected, "next_code(), which is VOLATILE"},
      {"MERGE INTO users u USING orders o ON o.user_id = u.id WHEN NOT MATCHED THEN INSERT (id, "
       "status) VALUES (o.id, public.next_code())",
       nullptr, kRejected, "public.next_code()"},
      {"MERGE INTO users u USING orders o ON o.user_id = u.id WHEN NOT MATCHED THEN INSERT (id, "
       "status) VALUES (o.id, gone($1))",
       nullptr, kRejected, "gone(), which the catalog does not list"},
      {"MERGE INTO users u USING orders o ON o.user_id = u.id WHEN NOT MATCHED THEN INSERT (id, "
       "status) VALUES (o.id, random()::text)",
       nullptr, kRejected, "random(), which is VOLATILE"},
      // Not written to both columns: no function matters.
      {"INSERT INTO users (id, name) VALUES (1, unknown_fn())", nullptr, kUnchanged},
  };
  for (const Case& c : cases) {
    check_case(rw, c, ctx, cat);
  }
  const RewriteResult r = rw.rewrite("UPDATE users SET status = my.fn(unknown_fn($1))", ctx, cat);
  ASSERT_EQ(r.outcome, Outcome::needs_catalog);
  EXPECT_TRUE(r.missing.empty());
  EXPECT_EQ(r.missing_functions, (std::vector<QualifiedName>{{"my", "fn"}, {"", "unknown_fn"}}));
  EXPECT_EQ(catalog_needs(r), "the volatility of my.fn(), unknown_fn()");
  // A built-in's name the catalog has not been asked about is asked about like any other.
  const StaticCatalog bare = make_catalog(/*builtins_known=*/false);
  const RewriteResult b = rw.rewrite("UPDATE users SET status = upper($1)", ctx, bare);
  ASSERT_EQ(b.outcome, Outcome::needs_catalog);
  EXPECT_EQ(b.missing_functions, (std::vector<QualifiedName>{{"", "upper"}}));
}

// SELECT * and set operations: the rows are read back through a subquery. `switchyard_rows.*`
// keeps the query's own width, so a query of the wrong width still fails in Postgres.
TEST(InsertRuleTest, WritesBothFromAQueryReadThroughASubquery) {
  run_table(
      users_migration(Writes::both, Reads::old_column),
      {
          {"INSERT INTO users (id, status) SELECT * FROM orders",
           "INSERT INTO users (id, status, state) SELECT switchyard_rows.*, switchyard_rows.c2 "
           "FROM (SELECT * FROM orders) AS switchyard_rows (c1, c2)"},
          {"INSERT INTO users (id, status) SELECT id, status FROM orders UNION SELECT 1, 'x'",
           "INSERT INTO users (id, status, state) SELECT switchyard_rows.*, switchyard_rows.c2 "
           "FROM (SELECT id, status FROM orders UNION SELECT 1, 'x') AS switchyard_rows (c1, c2)"},
          // Computed once in the subquery: a volatile function is fine there.
          {"INSERT INTO users (state, id) (SELECT random()::text, 1 UNION ALL SELECT 'x', 2) ON "
           "CONFLICT (id) DO NOTHING RETURNING id",
           "INSERT INTO users (state, id, status) SELECT switchyard_rows.*, switchyard_rows.c1 "
           "FROM ((SELECT random()::text, 1 UNION ALL SELECT 'x', 2)) AS switchyard_rows (c1, c2) "
           "ON CONFLICT (id) DO NOTHING RETURNING id"},
          {"WITH w AS (INSERT INTO users (id, status) TABLE orders RETURNING id) SELECT * FROM w",
           "WITH w AS (INSERT INTO users (id, status, state) SELECT switchyard_rows.*, "
           "switchyard_rows.c2 FROM (TABLE orders) AS switchyard_rows (c1, c2) RETURNING id) "
           "SELECT * FROM w"},
          {"INSERT INTO users (id, status) SELECT o.* FROM orders o JOIN accounts a ON conflict "
           "= 1 ON CONFLICT DO NOTHING",
           "INSERT INTO users (id, status, state) SELECT switchyard_rows.*, switchyard_rows.c2 "
           "FROM (SELECT o.* FROM orders o JOIN accounts a ON conflict = 1) AS switchyard_rows "
           "(c1, c2) ON CONFLICT DO NOTHING"},
          {"/* tag */ INSERT INTO users (id, status) SELECT * FROM orders /* c */ -- x\n",
           "/* tag */ INSERT INTO users (id, status, state) SELECT switchyard_rows.*, "
           "switchyard_rows.c2 FROM (SELECT * FROM orders) AS switchyard_rows (c1, c2) /* c */ "
           "-- x\n"},
          // Without a column list the query's width (from the catalog) says which columns it
          // fills, as the old app sees the table.
          {"INSERT INTO users SELECT * FROM accounts",
           "INSERT INTO users (id, status, state) SELECT switchyard_rows.*, switchyard_rows.c2 "
           "FROM (SELECT * FROM accounts) AS switchyard_rows (c1, c2)"},
          {"INSERT INTO users AS u SELECT 1, 'a' UNION SELECT 2, 'b' RETURNING u.id",
           "INSERT INTO users AS u (id, status, state) SELECT switchyard_rows.*, "
           "switchyard_rows.c2 FROM (SELECT 1, 'a' UNION SELECT 2, 'b') AS switchyard_rows (c1, "
           "c2) RETURNING u.id"},
          {"INSERT INTO users TABLE accounts",
           "INSERT INTO users (id, status, state) SELECT "
           "switchyard_rows.*, switchyard_rows.c2 FROM (TABLE "
           "accounts) AS switchyard_rows (c1, c2)"},
          // A volatile item is computed once, in the subquery...
          {"INSERT INTO users (id, status) SELECT id, md5(random()::text) FROM orders",
           "INSERT INTO users (id, status, state) SELECT switchyard_rows.*, switchyard_rows.c2 "
           "FROM (SELECT id, md5(random()::text) FROM orders) AS switchyard_rows (c1, c2)"},
          // ... unless an item takes its type from its column: a level down it would be text.
          {"INSERT INTO users (id, status) SELECT $1, md5(random()::text)", nullptr, kRejected,
           "random()"},
          {"INSERT INTO users (status, name) SELECT random()::text, NULL", nullptr, kRejected,
           "random()"},
          // As wide as the table with N: the app writes both columns itself.
          {"INSERT INTO users SELECT * FROM orders", nullptr, kUnchanged},
          {"INSERT INTO users SELECT 1 UNION SELECT 2", nullptr, kUnchanged},
          {"INSERT INTO users SELECT * FROM my_rows()", nullptr, kRejected,
           "whose columns are not known"},
          // (x).* is one item of the text and several columns: without a list, which columns
          // the row fills is not known from the text.
          {"INSERT INTO users SELECT (a).* FROM accounts a", nullptr, kRejected,
           "whose columns are not known"},
          {"INSERT INTO users SELECT (accounts).* FROM accounts", nullptr, kRejected,
           "whose columns are not known"},
          {"INSERT INTO users SELECT a.id + 10, (x).* FROM accounts a, LATERAL (SELECT a.owner) x",
           nullptr, kRejected, "whose columns are not known"},
          {"INSERT INTO users SELECT (order_rows()).* UNION ALL SELECT 1, 2, 'a', 3", nullptr,
           kRejected, "whose columns are not known"},
          {"INSERT INTO users VALUES ((order_rows()).*)", nullptr, kRejected, "expand a row"},
          {"INSERT INTO users SELECT * FROM accounts a WHERE false UNION SELECT a.* FROM accounts "
           "a",
           "INSERT INTO users (id, status, state) SELECT switchyard_rows.*, switchyard_rows.c2 "
           "FROM (SELECT * FROM accounts a WHERE false UNION SELECT a.* FROM accounts a) AS "
           "switchyard_rows (c1, c2)"},
          {"INSERT INTO users VALUES (1, 'a'), (a.*)", nullptr, kRejected, "expand a row"},
          {"INSERT INTO users (id, status) WITH x AS (SELECT 1, 'a') SELECT * FROM x", nullptr,
           kRejected, "WITH inside the query"},
      });
  run_table(users_migration(Writes::both, Reads::old_column, true),
            {
                {"INSERT INTO users (id, status) SELECT * FROM (VALUES (1, 'active')) v",
                 "INSERT INTO users (id, status, state) SELECT switchyard_rows.*, " TO_NEW(
                     "switchyard_rows.c2") " FROM (SELECT * FROM (VALUES (1, 'active')) "
                                           "v) AS switchyard_rows (c1, c2)"},
            });
  // Two migrations of the table would each wrap the query: refused.
  Migration name_m = users_migration(Writes::both, Reads::old_column);
  name_m.name = "users-name";
  name_m.old_column = "name";
  name_m.new_column = "full_name";
  const Rewriter two({users_migration(Writes::both, Reads::old_column), name_m});
  const StaticCatalog cat = make_catalog();
  const RewriteResult r =
      two.rewrite("INSERT INTO users (id, status) SELECT * FROM orders", {}, cat);
  EXPECT_EQ(r.outcome, Outcome::rejected);
  EXPECT_NE(r.reason.find("two active migrations"), std::string::npos) << r.reason;
  // ... and each put a WITH in front of a VALUES row's volatile value: refused too.
  const RewriteResult v = two.rewrite(
      "INSERT INTO users (id, status, name) VALUES (1, random()::text, random()::text)", {}, cat);
  EXPECT_EQ(v.outcome, Outcome::rejected);
  EXPECT_NE(v.reason.find("random()"), std::string::npos) << v.reason;
  // Under writes = new a type change's values need to_new one by one: still refused.
  run_table(
      users_migration(Writes::new_column, Reads::new_column, true),
      {{"INSERT INTO users (id, status) SELECT * FROM orders", nullptr, kRejected, "SELECT *"}});
}

TEST(InsertRuleTest, WritesBothTypeChange) {
  run_table(
      users_migration(Writes::both, Reads::old_column, true),
      {
          {"INSERT INTO users (id, status) VALUES (1, 'active')",
           "INSERT INTO users (id, status, state) VALUES (1, 'active', " TO_NEW("'active'") ")"},
          {"INSERT INTO users (id, state) VALUES (1, $1)",
           "INSERT INTO users (id, state, status) VALUES (1, $1, " TO_OLD("$1") ")"},
      });
}

TEST(InsertRuleTest, BareParametersInATransformTakeTheirColumnsType) {
  // Inside CASE an untyped $n would become text; with the catalog's types it is pinned to the
  // type the server infers without the rewrite. A typed value is cast to the column it is
  // written to, so that the other column gets the transform of what that column stores.
  Migration typed = users_migration(Writes::both, Reads::old_column, true);
  typed.old_type = "text";
  typed.new_type = "smallint";
  run_table(
      typed,
      {
          {"INSERT INTO users (id, state) VALUES ($1, $2)",
           "INSERT INTO users (id, state, status) VALUES ($1, $2, " TO_OLD("$2::smallint") ")"},
          {"INSERT INTO users (id, status) VALUES ($1, $2)",
           "INSERT INTO users (id, status, state) VALUES ($1, $2, " TO_NEW("$2::text") ")"},
          {"INSERT INTO users (id, state) VALUES ($1, $2::int)",
           "INSERT INTO users (id, state, status) VALUES ($1, $2::int, " TO_OLD(
               "CAST($2::int AS smallint)") ")"},
          {"UPDATE users SET status = now() WHERE id = 1",
           "UPDATE users SET status = now(), state = " TO_NEW("CAST(now() AS text)") " WHERE id = "
                                                                                     "1"},
          {"UPDATE users SET status = random()::text WHERE id = 1",
           "UPDATE users SET (status, state) = (SELECT switchyard_value.v, " TO_NEW(
               "CAST(switchyard_value.v AS text)") " FROM (SELECT random()::text) AS "
                                                   "switchyard_value (v) WHERE "
                                                   "pg_catalog.num_nulls(users.*) = 0) WHERE id = "
                                                   "1"},
          {"INSERT INTO users (id, status) SELECT id, status FROM orders UNION SELECT 1, 'a'",
           "INSERT INTO users (id, status, state) SELECT switchyard_rows.*, " TO_NEW(
               "CAST(switchyard_rows.c2 AS text)") " FROM (SELECT id, status FROM orders UNION "
                                                   "SELECT 1, 'a') AS switchyard_rows (c1, c2)"},
          {"INSERT INTO users (id, state) VALUES (1, NULL), (2, '1')",
           "INSERT INTO users (id, state, status) VALUES (1, NULL, " TO_OLD(
               "NULL::smallint") "), (2, '1', " TO_OLD("'1'::smallint") ")"},
          {"UPDATE users SET state = $1 WHERE id = $2",
           "UPDATE users SET state = $1, status = " TO_OLD("$1::smallint") " WHERE id = $2"},
      });
}

// A type change without a transform: N gets the value as O holds it. Another width of the
// integers or text types holds every value the same (no cast); other pairs go through O's type,
// and a COPY of such a column is staged (the data stream cannot cast).
TEST(InsertRuleTest, ATypeChangeWithoutTransformWritesNTheValueAsOHoldsIt) {
  Migration lossy = users_migration(Writes::both, Reads::old_column);
  lossy.old_type = "integer";
  lossy.new_type = "numeric";
  Migration widen = users_migration(Writes::both, Reads::old_column);
  widen.old_type = "integer";
  widen.new_type = "bigint";
  Migration renamed_new = lossy;
  renamed_new.writes = Writes::new_column;
  renamed_new.reads = Reads::new_column;
  run_table(lossy,
            {
                {"UPDATE users SET status = 2.6 WHERE id = $1",
                 "UPDATE users SET status = 2.6, state = CAST(2.6 AS integer) WHERE id = $1"},
                {"INSERT INTO users (id, status) VALUES (1, $1), (2, '7')",
                 "INSERT INTO users (id, status, state) VALUES (1, $1, $1::integer), (2, '7', "
                 "'7'::integer)"},
                {"UPDATE users SET state = 2.6",
                 "UPDATE users SET state = 2.6, status = CAST(2.6 "
                 "AS numeric)"},
            });
  run_table(renamed_new, {
                             {"INSERT INTO users (id, status) VALUES (1, 2.6)",
                              "INSERT INTO users (id, state) VALUES (1, CAST(2.6 AS integer))"},
                         });
  run_table(widen, {
                       {"UPDATE users SET status = 2.6",
                        "UPDATE users SET status = 2.6, state = "
                        "2.6"},
                   });
  const StaticCatalog cat = make_catalog();
  const SessionContext ctx;
  RewriteResult r = Rewriter({lossy}).rewrite("COPY users (id, status) FROM STDIN", ctx, cat);
  ASSERT_EQ(r.outcome, Outcome::rewritten) << r.reason;
  EXPECT_NE(r.staged_because.find("between integer and numeric"), std::string::npos)
      << r.staged_because;
  r = Rewriter({widen}).rewrite("COPY users (id, status) FROM STDIN (FORMAT csv)", ctx, cat);
  ASSERT_EQ(r.outcome, Outcome::rewritten) << r.reason;
  EXPECT_EQ(r.staged_because, "");
  EXPECT_TRUE(r.copy.has_value());
}

TEST(InsertRuleTest, WritesNew) {
  run_table(users_migration(Writes::new_column, Reads::new_column),
            {
                {"INSERT INTO users (id, status) VALUES (1, 'a')",
                 "INSERT INTO users (id, state) VALUES (1, 'a')"},
                {"INSERT INTO users (id, status, state) VALUES (1, 'a', 'b')",
                 "INSERT INTO users (id, state) VALUES (1, 'b')"},
                {"INSERT INTO users (status, id, state) VALUES ('a', 1, 'b'), ('c', 2, 'd')",
                 "INSERT INTO users (id, state) VALUES (1, 'b'), (2, 'd')"},
                {"INSERT INTO users (id, state) VALUES (1, 'a')", nullptr, kUnchanged},
                {"INSERT INTO users VALUES (1, 'a', 'bob')",
                 "INSERT INTO users (id, state, name) VALUES (1, 'a', 'bob')"},
                {"INSERT INTO users (id, status) VALUES (1, 'a') RETURNING status",
                 "INSERT INTO users (id, state) VALUES (1, 'a') RETURNING state AS status"},
                {"INSERT INTO users (id, status) SELECT id, status FROM orders",
                 "INSERT INTO users (id, state) SELECT id, status FROM orders"},
                // A rename needs the values as they are: only the column list changes.
                {"INSERT INTO users (id, status) SELECT * FROM (VALUES (1, 'a')) v",
                 "INSERT INTO users (id, state) SELECT * FROM (VALUES (1, 'a')) v"},
                {"INSERT INTO users (id, status) SELECT id, status FROM orders UNION SELECT 1, 'x'",
                 "INSERT INTO users (id, state) SELECT id, status FROM orders UNION SELECT 1, 'x'"},
                {"INSERT INTO users SELECT * FROM accounts",
                 "INSERT INTO users (id, state) SELECT * FROM accounts"},
                // Both columns written: O leaves the query; ORDER BY / DISTINCT keep the item in
                // it, so the query is read back through a subquery that leaves it out.
                {"INSERT INTO users (id, status, state) SELECT DISTINCT id, status, status FROM "
                 "orders ORDER BY 2",
                 "INSERT INTO users (id, state) SELECT switchyard_rows.c1, switchyard_rows.c3 FROM "
                 "(SELECT DISTINCT id, status, status FROM orders ORDER BY 2) AS switchyard_rows "
                 "(c1, c2, c3)"},
                {"INSERT INTO users (id, status, state) SELECT id, 'a', status FROM orders ORDER "
                 "BY 2",
                 nullptr, kRejected, "ORDER/GROUP/DISTINCT"},
                {"INSERT INTO users (status, state) SELECT * FROM orders UNION SELECT 'a', 'b'",
                 nullptr, kRejected, "whose width is not known or differs"},
                {"INSERT INTO users (status, id, state) SELECT * FROM orders UNION SELECT 'a', 1, "
                 "'b', 2",
                 nullptr, kRejected, "whose width is not known or differs"},
            });
  run_table(users_migration(Writes::new_column, Reads::new_column, true),
            {
                // A type change: a query whose items cannot be edited one by one is read back
                // through a subquery that sends O's value to N through to_new.
                {"INSERT INTO users (id, status) SELECT * FROM (VALUES (1, 'active')) v",
                 "INSERT INTO users (id, state) SELECT switchyard_rows.c1, " TO_NEW(
                     "switchyard_rows.c2") " FROM (SELECT * FROM (VALUES (1, 'active')) v) AS "
                                           "switchyard_rows (c1, c2)"},
                {"INSERT INTO users (status, id) SELECT status, id FROM orders UNION ALL SELECT "
                 "'x', 2",
                 "INSERT INTO users (state, id) SELECT " TO_NEW(
                     "switchyard_rows.c1") ", switchyard_rows.c2 FROM (SELECT status, id FROM "
                                           "orders UNION ALL SELECT 'x', 2) AS switchyard_rows "
                                           "(c1, c2)"},
                // Without a column list: the app's columns, as wide as the query.
                {"INSERT INTO users SELECT * FROM audit.users",
                 "INSERT INTO users (id, state) SELECT switchyard_rows.c1, " TO_NEW(
                     "switchyard_rows.c2") " FROM (SELECT * FROM audit.users) AS switchyard_rows "
                                           "(c1, c2)"},
                // A width that differs from the list is left for Postgres to refuse, not cut.
                {"INSERT INTO users (id, status) SELECT * FROM orders", nullptr, kRejected,
                 "whose width is not known or differs"},
                // ORDER BY / DISTINCT / GROUP BY may name the item by its output name or
                // position: changed in place it would sort to_new's values (and LIMIT keep
                // other rows), so the query is read back through a subquery.
                {"INSERT INTO users (id, status) SELECT id, status FROM orders ORDER BY status "
                 "DESC, id LIMIT 3",
                 "INSERT INTO users (id, state) SELECT switchyard_rows.c1, " TO_NEW(
                     "switchyard_rows.c2") " FROM (SELECT id, status FROM orders ORDER BY "
                                           "status DESC, id LIMIT 3) AS switchyard_rows (c1, "
                                           "c2)"},
                {"INSERT INTO users (id, status) SELECT DISTINCT id, status FROM orders",
                 "INSERT INTO users (id, state) SELECT switchyard_rows.c1, " TO_NEW(
                     "switchyard_rows.c2") " FROM (SELECT DISTINCT id, status FROM orders) AS "
                                           "switchyard_rows (c1, c2)"},
                {"INSERT INTO users (id, status) SELECT $1, status FROM orders ORDER BY 2", nullptr,
                 kRejected, "ORDER/GROUP/DISTINCT beside an untyped item"},

                {"INSERT INTO users (id, status) VALUES (1, $1)",
                 "INSERT INTO users (id, state) VALUES (1, " TO_NEW("$1") ")"},
                {"INSERT INTO users (id, status) VALUES (1, DEFAULT)",
                 "INSERT INTO users (id, state) VALUES (1, DEFAULT)"},
            });
}

TEST(OnConflictRuleTest, FollowsTheUpdateRule) {
  run_table(users_migration(Writes::both, Reads::old_column),
            {
                {"INSERT INTO users (id, status) VALUES (1, 'a') ON CONFLICT (id) DO UPDATE SET "
                 "status = EXCLUDED.status",
                 "INSERT INTO users (id, status, state) VALUES (1, 'a', 'a') ON CONFLICT (id) DO "
                 "UPDATE SET status = EXCLUDED.status, state = EXCLUDED.status"},
                {"INSERT INTO users (id, status) VALUES (1, 'a') ON CONFLICT DO NOTHING",
                 "INSERT INTO users (id, status, state) VALUES (1, 'a', 'a') ON CONFLICT DO "
                 "NOTHING"},
                {"INSERT INTO users (id, name) VALUES (1, 'n') ON CONFLICT (id) DO UPDATE SET "
                 "status = 'dup' WHERE users.status <> 'x'",
                 "INSERT INTO users (id, name) VALUES (1, 'n') ON CONFLICT (id) DO UPDATE SET "
                 "status = 'dup', state = 'dup' WHERE users.status <> 'x'"},
            });
  run_table(users_migration(Writes::new_column, Reads::new_column),
            {
                {"INSERT INTO users AS u (id, status) VALUES (1, 'a') ON CONFLICT (id) DO UPDATE "
                 "SET status = EXCLUDED.status WHERE u.status <> 'x'",
                 "INSERT INTO users AS u (id, state) VALUES (1, 'a') ON CONFLICT (id) DO UPDATE "
                 "SET state = EXCLUDED.state WHERE u.state <> 'x'"},
            });
}

// Under writes = new the row leaves O out, so a unique index on O would never see it: the
// upsert infers N's index instead, and an index expression or predicate over O is refused.
TEST(OnConflictRuleTest, WritesNewInfersTheNewColumnsIndex) {
  run_table(users_migration(Writes::new_column, Reads::new_column),
            {
                {"INSERT INTO users (id, status) VALUES (1, 'a') ON CONFLICT (status) DO NOTHING",
                 "INSERT INTO users (id, state) VALUES (1, 'a') ON CONFLICT (state) DO NOTHING"},
                {"INSERT INTO users AS u (id, status) VALUES (1, 'a') ON CONFLICT (name, "
                 "\"status\" COLLATE \"C\" text_pattern_ops) DO UPDATE SET name = 'x'",
                 "INSERT INTO users AS u (id, state) VALUES (1, 'a') ON CONFLICT (name, state "
                 "COLLATE \"C\" text_pattern_ops) DO UPDATE SET name = 'x'"},
                {"INSERT INTO users (id, status) VALUES (1, 'a') ON CONFLICT (lower(status)) DO "
                 "NOTHING",
                 nullptr, kRejected, "ON CONFLICT inferring an index by an expression"},
                {"INSERT INTO users (id, status) VALUES (1, 'a') ON CONFLICT (id) WHERE status <> "
                 "'' DO NOTHING",
                 nullptr, kRejected, "or predicate over the old column"},
                {"INSERT INTO users (id, name) VALUES (1, 'a') ON CONFLICT ON CONSTRAINT "
                 "users_pkey DO NOTHING",
                 nullptr, kUnchanged},
            });
  // While O is written, its index sees every row: left as written.
  run_table(users_migration(Writes::both, Reads::new_column),
            {
                {"INSERT INTO users (id, status) VALUES (1, 'a') ON CONFLICT (status) DO NOTHING",
                 "INSERT INTO users (id, status, state) VALUES (1, 'a', 'a') ON CONFLICT (status) "
                 "DO NOTHING"},
            });
}

TEST(UpdateRuleTest, WritesBothRename) {
  run_table(
      users_migration(Writes::both, Reads::old_column),
      {
          {"UPDATE users SET status = 'a' WHERE id = 1",
           "UPDATE users SET status = 'a', state = 'a' WHERE id = 1"},
          {"UPDATE users SET state = $1 WHERE id = $2",
           "UPDATE users SET state = $1, status = $1 WHERE id = $2"},
          {"UPDATE users SET status = 'a', state = 'a'", nullptr, kUnchanged},
          {"UPDATE users SET status = x.from FROM (SELECT 'a' AS from) x",
           "UPDATE users SET status = x.from, state = x.from FROM (SELECT 'a' AS from) x"},
          {"UPDATE users SET name = 'a' WHERE status = 'x'", nullptr, kUnchanged},
          {"UPDATE users SET name = 'n', status = upper(status) WHERE id = 1",
           "UPDATE users SET name = 'n', status = upper(status), state = upper(status) WHERE id = "
           "1"},
          {"UPDATE users SET status = DEFAULT",
           "UPDATE users SET status = DEFAULT, state = DEFAULT"},
          {"UPDATE users SET (name, status) = ('n', 'a') WHERE id = 1",
           "UPDATE users SET (name, status) = ('n', 'a'), state = 'a' WHERE id = 1"},
          {"UPDATE users SET (name, status) = ROW('n', 'a')",
           "UPDATE users SET (name, status) = ROW('n', 'a'), state = 'a'"},
          {"UPDATE users u SET (name, status) = (SELECT o.id::text, o.status FROM orders o WHERE "
           "o.user_id = u.id)",
           "UPDATE users u SET (name, status, state) = (SELECT o.id::text, o.status, o.status FROM "
           "orders o WHERE o.user_id = u.id)"},
          // The * is one item of the sub-SELECT's list: not paired with the targets (README).
          {"UPDATE users u SET (id, status) = (SELECT * FROM accounts a WHERE a.id = u.id)",
           nullptr, kRejected, "name the sub-SELECT's columns, one per target"},
          {"UPDATE users u SET status = o.status FROM orders o WHERE o.user_id = u.id",
           "UPDATE users u SET status = o.status, state = o.status FROM orders o WHERE o.user_id "
           "= u.id"},
          {"UPDATE users SET status = 'a' RETURNING id",
           "UPDATE users SET status = 'a', state = 'a' RETURNING id"},
          {"WITH up AS (UPDATE users SET status = 'a' WHERE id = 1 RETURNING id) SELECT * FROM up",
           "WITH up AS (UPDATE users SET status = 'a', state = 'a' WHERE id = 1 RETURNING id) "
           "SELECT * FROM up"},
          {"WITH ins AS (INSERT INTO users (id, status) VALUES (1, 'a') RETURNING id) UPDATE "
           "orders SET status = 'x' WHERE user_id IN (SELECT id FROM ins)",
           "WITH ins AS (INSERT INTO users (id, status, state) VALUES (1, 'a', 'a') RETURNING id) "
           "UPDATE orders SET status = 'x' WHERE user_id IN (SELECT id FROM ins)"},
          {"UPDATE orders SET status = 'x'", nullptr, kUnchanged},
          {"WITH users AS (SELECT 1 AS id) UPDATE users SET status = 'a'",
           "WITH users AS (SELECT 1 AS id) UPDATE users SET status = 'a', state = 'a'"},
          {"UPDATE users SET status[1] = 'x'", nullptr, kRejected, "element"},
      });
}

// A SET value that may differ when evaluated twice is computed once per row, in a sub-SELECT
// both columns read. The reference to the target row makes it correlated: an uncorrelated one
// would run once for the statement and give every row the first row's value.
TEST(UpdateRuleTest, AVolatileValueIsComputedOncePerRow) {
#define ONCE(t, v, r)                                                   \
  "(status, state) = (SELECT switchyard_value.v, " t " FROM (SELECT " v \
  ") AS switchyard_value (v) WHERE pg_catalog.num_nulls(" r ".*) = 0)"
  run_table(
      users_migration(Writes::both, Reads::old_column),
      {
          {"UPDATE users SET status = nextval('s')::text",
           "UPDATE users SET " ONCE("switchyard_value.v", "nextval('s')::text", "users")},
          {"UPDATE users AS u SET name = 'n', status = md5(random()::text || u.name) WHERE "
           "id = $1",
           "UPDATE users AS u SET name = 'n', " ONCE(
               "switchyard_value.v", "md5(random()::text || u.name)", "u") " WHERE id = $1"},
          {"INSERT INTO users (id, status) VALUES (1, 'a') ON CONFLICT (id) DO UPDATE SET "
           "status = md5(random()::text || excluded.status)",
           "INSERT INTO users (id, status, state) VALUES (1, 'a', 'a') ON CONFLICT (id) DO "
           "UPDATE SET " ONCE("switchyard_value.v", "md5(random()::text || excluded.status)",
                              "users")},
          {"UPDATE users SET state = gen_random_uuid()::text",
           "UPDATE users SET (state, status) = (SELECT switchyard_value.v, "
           "switchyard_value.v FROM (SELECT gen_random_uuid()::text) AS switchyard_value "
           "(v) WHERE pg_catalog.num_nulls(users.*) = 0)"},
          // A multi-column SET from a row is written out item by item (Postgres reads it
          // so), the volatile one computed once.
          {"UPDATE users SET (name, status) = ('n', random()::text)",
           "UPDATE users SET name = 'n', " ONCE("switchyard_value.v", "random()::text", "users")},
          {"UPDATE users u SET (status, id, name) = ROW(random()::text, DEFAULT, u.name || "
           "'x') WHERE id = 1",
           "UPDATE users u SET id = DEFAULT, name = u.name || 'x', " ONCE(
               "switchyard_value.v", "random()::text", "u") " WHERE id = 1"},
          // From a sub-SELECT, which computes each column once per row: N reads O's value
          // from it, through a derived table (a row of NULLs when it has no row).
          {"UPDATE users SET (name, status) = (SELECT o.id::text, md5(random()::text) FROM "
           "orders o WHERE o.user_id = users.id) WHERE id = 1",
           "UPDATE users SET (name, status, state) = (SELECT switchyard_rows.c1, "
           "switchyard_rows.c2, switchyard_rows.c2 FROM (SELECT) AS switchyard_one LEFT JOIN "
           "(SELECT o.id::text, md5(random()::text) FROM orders o WHERE o.user_id = users.id) AS "
           "switchyard_rows (c1, c2) ON true) WHERE id = 1"},
      });
  run_table(
      users_migration(Writes::both, Reads::old_column, true),
      {
          {"UPDATE users SET status = CASE WHEN random() < 0.5 THEN 'active' END",
           "UPDATE users SET " ONCE(TO_NEW("switchyard_value.v"),
                                    "CASE WHEN random() < 0.5 THEN 'active' END", "users")},
          {"UPDATE users SET (name, status) = (SELECT 1, CASE WHEN random() < 0.5 THEN "
           "'active' END)",
           "UPDATE users SET (name, status, state) = (SELECT switchyard_rows.c1, "
           "switchyard_rows.c2, " TO_NEW("switchyard_rows.c2") " FROM (SELECT) AS "
                                                               "switchyard_one LEFT JOIN "
                                                               "(SELECT 1, CASE WHEN random() "
                                                               "< 0.5 THEN 'active' END) AS "
                                                               "switchyard_rows (c1, c2) ON "
                                                               "true)"},
      });
#undef ONCE
}

TEST(UpdateRuleTest, WritesBothTypeChange) {
  run_table(users_migration(Writes::both, Reads::old_column, true),
            {
                {"UPDATE users SET state = 1", "UPDATE users SET state = 1, status = " TO_OLD("1")},
                {"UPDATE users SET status = $1 WHERE id = $2",
                 "UPDATE users SET status = $1, state = " TO_NEW("$1") " WHERE id = $2"},
            });
}

TEST(UpdateRuleTest, WritesNew) {
  run_table(
      users_migration(Writes::new_column, Reads::new_column),
      {
          {"UPDATE users SET status = 'a'", "UPDATE users SET state = 'a'"},
          {"UPDATE users SET status = 'a', state = 'b'", "UPDATE users SET state = 'b'"},
          {"UPDATE users SET state = 'b', status = 'a' WHERE id = 1",
           "UPDATE users SET state = 'b' WHERE id = 1"},
          {"UPDATE users SET status = status || 'x' WHERE status = 'y'",
           "UPDATE users SET state = state || 'x' WHERE state = 'y'"},
          {"UPDATE users SET (name, status) = ('n', 'a')",
           "UPDATE users SET (name, state) = ('n', 'a')"},
          {"UPDATE users SET (status, state) = ('a', 'b')", nullptr, kRejected, "multi-column SET"},
      });
  run_table(users_migration(Writes::new_column, Reads::new_column, true),
            {
                {"UPDATE users SET status = status WHERE id = 1",
                 "UPDATE users SET state = " TO_NEW(TO_OLD("state")) " WHERE id = 1"},
            });
}

// A DEFAULT for one column beside a value for the other writes that value alone (row by row, SET
// item by SET item): left as written, the DEFAULT column would get its default beside the other
// column's value. Both DEFAULT writes neither.
TEST(WriteRuleTest, ADefaultBesideAValueForTheOtherColumnWritesTheValueAlone) {
#define SV(n) "(SELECT switchyard_value" #n ".v FROM switchyard_value" #n ")"
  run_table(
      users_migration(Writes::both, Reads::old_column),
      {
          {"INSERT INTO users (id, status, state) VALUES (1, 'a', DEFAULT)",
           "INSERT INTO users (id, status, state) VALUES (1, 'a', 'a')"},
          // Without a column list, expanded from the catalog (id, status, name, state).
          {"INSERT INTO users VALUES (2, 'n', 'b', DEFAULT)",
           "INSERT INTO users VALUES (2, 'n', 'b', 'n')"},
          {"INSERT INTO users (id, state, status) VALUES (1, DEFAULT, $1), (2, 'b', 'c'), (3, "
           "'d', DEFAULT), (4, DEFAULT, DEFAULT)",
           "INSERT INTO users (id, state, status) VALUES (1, $1, $1), (2, 'b', 'c'), (3, 'd', "
           "'d'), (4, DEFAULT, DEFAULT)"},
          {"INSERT INTO users (id, status, state) VALUES (1, DEFAULT, DEFAULT), (2, 'a', 'b')",
           nullptr, kUnchanged},
          {"INSERT INTO users (id, status, state) VALUES (1, random()::text, DEFAULT)",
           "WITH switchyard_value1 AS MATERIALIZED (SELECT random()::text AS v) INSERT INTO users "
           "(id, status, state) VALUES (1, " SV(1) ", " SV(1) ")"},
          {"INSERT INTO users (id, status, state) VALUES (1, 'a', DEFAULT) ON CONFLICT (id) DO "
           "UPDATE SET state = DEFAULT, status = EXCLUDED.status",
           "INSERT INTO users (id, status, state) VALUES (1, 'a', 'a') ON CONFLICT (id) DO "
           "UPDATE SET status = EXCLUDED.status, state = EXCLUDED.status"},
          {"UPDATE users SET status = 'c', state = DEFAULT",
           "UPDATE users SET status = 'c', state = 'c'"},
          {"UPDATE users SET state = DEFAULT, name = 'n', status = $1 WHERE id = 1",
           "UPDATE users SET name = 'n', status = $1, state = $1 WHERE id = 1"},
          {"UPDATE users SET status = DEFAULT, state = 'x'",
           "UPDATE users SET state = 'x', status = 'x'"},
          {"UPDATE users SET status = DEFAULT, state = DEFAULT", nullptr, kUnchanged},
          {"UPDATE users SET (status, state) = ('c', DEFAULT)",
           "UPDATE users SET (status, state) = ('c', 'c')"},
          {"UPDATE users SET (state, name, status) = ROW(DEFAULT, 'n', lower($1))",
           "UPDATE users SET (state, name, status) = ROW(lower($1), 'n', lower($1))"},
          {"UPDATE users SET (name, state) = ('n', DEFAULT), status = 'c'",
           "UPDATE users SET (name, state) = ('n', 'c'), status = 'c'"},
          // A volatile value is computed once for both, as for a write of O alone.
          {"UPDATE users SET status = random()::text, state = DEFAULT",
           "UPDATE users SET (status, state) = (SELECT switchyard_value.v, switchyard_value.v "
           "FROM (SELECT random()::text) AS switchyard_value (v) WHERE "
           "pg_catalog.num_nulls(users.*) = 0)"},
          {"UPDATE users SET (status, state) = (random()::text, DEFAULT)", nullptr, kRejected,
           "random(), which is VOLATILE"},
          {"UPDATE users u SET (name, status) = (SELECT o.id::text, o.status FROM orders o WHERE "
           "o.user_id = u.id), (id, state) = (2, DEFAULT)",
           nullptr, kRejected, "beside the other's value from a sub-SELECT"},
          {"UPDATE users u SET (name, status) = (SELECT o.id::text, o.status FROM orders o WHERE "
           "o.user_id = u.id), state = DEFAULT",
           "UPDATE users u SET (name, status, state) = (SELECT o.id::text, o.status, o.status FROM "
           "orders o WHERE o.user_id = u.id)"},
      });
  run_table(users_migration(Writes::both, Reads::old_column, true),
            {
                {"INSERT INTO users (id, status, state) VALUES (1, $1, DEFAULT), (2, DEFAULT, 1)",
                 "INSERT INTO users (id, status, state) VALUES (1, $1, " TO_NEW(
                     "$1") "), (2, " TO_OLD("1") ", 1)"},
                {"UPDATE users SET status = 'active', state = DEFAULT",
                 "UPDATE users SET status = 'active', state = " TO_NEW("'active'")},
            });
  run_table(
      users_migration(Writes::new_column, Reads::new_column),
      {
          {"INSERT INTO users (id, status, state) VALUES (1, 'a', DEFAULT)",
           "INSERT INTO users (id, state) VALUES (1, 'a')"},
          {"INSERT INTO users VALUES (2, 'n', 'b', DEFAULT)",
           "INSERT INTO users (id, name, state) VALUES (2, 'b', 'n')"},
          {"INSERT INTO users (status, id, state) VALUES ('a', 1, DEFAULT), (DEFAULT, 2, 'b'), "
           "('c', 3, 'd'), (DEFAULT, 4, DEFAULT)",
           "INSERT INTO users (id, state) VALUES (1, 'a'), (2, 'b'), (3, 'd'), (4, DEFAULT)"},
          {"INSERT INTO users (id, status, state) VALUES (1, 'a', DEFAULT) ON CONFLICT (id) DO "
           "UPDATE SET status = EXCLUDED.status, state = DEFAULT",
           "INSERT INTO users (id, state) VALUES (1, 'a') ON CONFLICT (id) DO UPDATE SET state = "
           "EXCLUDED.state"},
          {"UPDATE users SET status = 'c', state = DEFAULT WHERE id = 1",
           "UPDATE users SET state = 'c' WHERE id = 1"},
          {"UPDATE users SET state = DEFAULT, status = 'c'", "UPDATE users SET state = 'c'"},
          {"UPDATE users SET status = DEFAULT, state = 'x'", "UPDATE users SET state = 'x'"},
          {"UPDATE users SET status = 'c', (name, state) = ('n', DEFAULT)",
           "UPDATE users SET (name, state) = ('n', 'c')"},
          {"UPDATE users SET (name, status) = ('n', 'c'), state = DEFAULT",
           "UPDATE users SET (name, state) = ('n', 'c')"},
          {"UPDATE users SET (status, state) = ('c', DEFAULT)", nullptr, kRejected,
           "dropping the old column from a multi-column SET"},
      });
  run_table(users_migration(Writes::new_column, Reads::new_column, true),
            {
                {"INSERT INTO users (id, status, state) VALUES (1, $1, DEFAULT), (2, $2, 0)",
                 "INSERT INTO users (id, state) VALUES (1, " TO_NEW("$1") "), (2, 0)"},
                {"UPDATE users SET status = $1, state = DEFAULT",
                 "UPDATE users SET state = " TO_NEW("$1")},
            });
#undef SV
}

// A multi-column SET from a sub-SELECT that returns no row sets every target NULL; a template
// may map NULL to a value, so the transform reads a row of NULLs then: the sub-SELECT is read
// through a one-row source LEFT JOIN it.
TEST(UpdateRuleTest, ASubSelectOfNoRowGoesThroughTheTransformAsARowOfNulls) {
  run_table(users_migration(Writes::both, Reads::old_column, true),
            {
                {"UPDATE users SET (name, status) = (SELECT 'x', o.status FROM orders o WHERE "
                 "false) WHERE id = 1",
                 "UPDATE users SET (name, status, state) = (SELECT switchyard_rows.c1, "
                 "switchyard_rows.c2, " TO_NEW("switchyard_rows.c2") " FROM (SELECT) AS "
                                                                     "switchyard_one LEFT JOIN "
                                                                     "(SELECT 'x', o.status FROM "
                                                                     "orders o WHERE false) AS "
                                                                     "switchyard_rows (c1, c2) ON "
                                                                     "true) WHERE id = 1"},
                {"UPDATE users u SET (state, name) = (SELECT 1, o.status FROM orders o WHERE "
                 "o.user_id = u.id)",
                 "UPDATE users u SET (state, name, status) = (SELECT switchyard_rows.c1, "
                 "switchyard_rows.c2, " TO_OLD("switchyard_rows.c1") " FROM (SELECT) AS "
                                                                     "switchyard_one LEFT JOIN "
                                                                     "(SELECT 1, o.status FROM "
                                                                     "orders o WHERE o.user_id = "
                                                                     "u.id) AS switchyard_rows "
                                                                     "(c1, c2) ON true)"},
            });
  run_table(users_migration(Writes::new_column, Reads::new_column, true),
            {
                {"UPDATE users SET (name, status) = (SELECT 'x', o.status FROM orders o WHERE "
                 "o.user_id = users.id)",
                 "UPDATE users SET (name, state) = (SELECT switchyard_rows.c1, " TO_NEW(
                     "switchyard_rows.c2") " FROM (SELECT) AS switchyard_one LEFT JOIN (SELECT "
                                           "'x', o.status FROM orders o WHERE o.user_id = "
                                           "users.id) AS switchyard_rows (c1, c2) ON true)"},
            });
}

// Postgres refuses a target list naming a column twice; rewriting it into a valid statement
// would write the old column when writes = new (found by fuzz_rewrite).
TEST(WriteRuleTest, AColumnNamedTwiceIsLeftForPostgresToRefuse) {
  for (const Writes writes : {Writes::both, Writes::new_column}) {
    run_table(
        users_migration(writes, Reads::new_column),
        {
            {"UPDATE users SET status = 'a', state = 'b', status = 'c'", nullptr, kUnchanged},
            {"UPDATE users SET status = 'a', status = 'c'", nullptr, kUnchanged},
            {"UPDATE users SET (status, name) = ('a', 'n'), status = 'c'", nullptr, kUnchanged},
            {"INSERT INTO users (status, state, status) VALUES (1, 2, 3)", nullptr, kUnchanged},
            {"INSERT INTO users (id, id, status) VALUES (1, 2, 'a')", nullptr, kUnchanged},
            {"INSERT INTO users (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET state = 'b', "
             "state = 'c'",
             nullptr, kUnchanged},
            {"COPY users (id, status, status) FROM STDIN", nullptr, kUnchanged},
            {"COPY users (status, status) TO STDOUT", nullptr, kUnchanged},
        });
  }
}

TEST(CopyRuleTest, CopyFromPlans) {
  const Rewriter both({users_migration(Writes::both, Reads::old_column)});
  const StaticCatalog cat = make_catalog();
  const SessionContext ctx;
  RewriteResult r = both.rewrite("COPY users (id, status) FROM STDIN", ctx, cat);
  ASSERT_EQ(r.outcome, Outcome::rewritten);
  EXPECT_EQ(r.sql, "COPY users (id, status, state) FROM STDIN");
  ASSERT_TRUE(r.copy.has_value());
  EXPECT_EQ(r.copy->format, CopyPlan::Format::text);
  EXPECT_EQ(r.copy->delimiter, '\t');
  EXPECT_EQ(r.copy->input_columns, 2u);
  EXPECT_EQ(r.copy->source_index_per_output_column, (std::vector<int>{0, 1, 1}));

  r = both.rewrite("COPY users FROM STDIN WITH (FORMAT csv, DELIMITER ';', HEADER)", ctx, cat);
  ASSERT_EQ(r.outcome, Outcome::rewritten);
  EXPECT_EQ(r.sql,
            "COPY users (id, status, name, state) FROM STDIN WITH (FORMAT csv, DELIMITER ';', "
            "HEADER)");
  ASSERT_TRUE(r.copy.has_value());
  EXPECT_EQ(r.copy->format, CopyPlan::Format::csv);
  EXPECT_EQ(r.copy->delimiter, ';');
  EXPECT_TRUE(r.copy->header);
  EXPECT_EQ(r.copy->input_columns, 3u);
  EXPECT_EQ(r.copy->source_index_per_output_column, (std::vector<int>{0, 1, 2, 1}));

  r = both.rewrite("COPY users (id, state) FROM STDIN CSV", ctx, cat);
  EXPECT_EQ(r.sql, "COPY users (id, state, status) FROM STDIN CSV");
  ASSERT_TRUE(r.copy.has_value());
  EXPECT_EQ(r.copy->source_index_per_output_column, (std::vector<int>{0, 1, 1}));

  EXPECT_EQ(both.rewrite("COPY users (id, name) FROM STDIN", ctx, cat).outcome, Outcome::unchanged);
  // Binary: a field's bytes serve the other column only when both have one type; else the COPY
  // is staged (CopyStagingTest).
  r = both.rewrite("COPY users (id, status) FROM STDIN WITH (FORMAT binary)", ctx, cat);
  EXPECT_EQ(r.outcome, Outcome::rewritten);
  EXPECT_NE(r.staged_because.find("in binary format between columns the catalog does not type"),
            std::string::npos)
      << r.staged_because;
  Migration same_type = users_migration(Writes::both, Reads::old_column);
  same_type.old_type = same_type.new_type = "text";
  r = Rewriter({same_type}).rewrite("COPY users (id, status) FROM STDIN (FORMAT binary)", ctx, cat);
  ASSERT_EQ(r.outcome, Outcome::rewritten);
  EXPECT_EQ(r.sql, "COPY users (id, status, state) FROM STDIN (FORMAT binary)");
  ASSERT_TRUE(r.copy.has_value());
  EXPECT_EQ(r.copy->format, CopyPlan::Format::binary);
  EXPECT_EQ(r.copy->source_index_per_output_column, (std::vector<int>{0, 1, 1}));
  EXPECT_TRUE(r.copy->conversion_per_output_column.empty()) << "every field verbatim";
  // Across types a field is converted where the bytes alone give the cast's value.
  const struct {
    const char* old_type;
    const char* new_type;
    Writes writes;
    const char* sql;
    const char* expected;  // "" when refused
    std::vector<int> sources;
    std::vector<FieldConversion> conversions;
  } binary_cases[] = {
      {"text",
       "character varying(20)",
       Writes::both,
       "COPY users (id, status) FROM STDIN BINARY",
       "COPY users (id, status, state) FROM STDIN BINARY",
       {0, 1, 1},
       {}},
      {"integer",
       "bigint",
       Writes::both,
       "COPY users (status, id) FROM STDIN (FORMAT binary)",
       "COPY users (status, id, state) FROM STDIN (FORMAT binary)",
       {0, 1, 0},
       {FieldConversion::verbatim, FieldConversion::verbatim, FieldConversion::to_int8}},
      // The updated app sends the new column's bytes: narrowed for the old one, range-checked.
      {"integer",
       "bigint",
       Writes::both,
       "COPY users (id, state) FROM STDIN (FORMAT binary)",
       "COPY users (id, state, status) FROM STDIN (FORMAT binary)",
       {0, 1, 1},
       {FieldConversion::verbatim, FieldConversion::verbatim, FieldConversion::to_int4}},
      // writes = new: the same columns, the field converted in place.
      {"json",
       "jsonb",
       Writes::new_column,
       "COPY users (id, status) FROM STDIN (FORMAT binary)",
       "COPY users (id, state) FROM STDIN (FORMAT binary)",
       {0, 1},
       {FieldConversion::verbatim, FieldConversion::json_to_jsonb}},
      // writes = new, both sent: the old one dropped, nothing converted.
      {"text",
       "smallint",
       Writes::new_column,
       "COPY users (id, status, state) FROM STDIN (FORMAT binary)",
       "COPY users (id, state) FROM STDIN (FORMAT binary)",
       {0, 2},
       {}},
      {"text",
       "smallint",
       Writes::both,
       "COPY users (id, status) FROM STDIN (FORMAT binary)",
       "",
       {},
       {}},
      {"bigint",
       "integer",
       Writes::new_column,
       "COPY users (id, status) FROM STDIN (FORMAT binary)",
       "COPY users (id, state) FROM STDIN (FORMAT binary)",
       {0, 1},
       {FieldConversion::verbatim, FieldConversion::to_int4}},
      {"jsonb",
       "json",
       Writes::both,
       "COPY users (id, status) FROM STDIN (FORMAT binary)",
       "",
       {},
       {}},
  };
  for (const auto& c : binary_cases) {
    SCOPED_TRACE(c.sql);
    Migration m = users_migration(
        c.writes, c.writes == Writes::new_column ? Reads::new_column : Reads::old_column);
    m.old_type = c.old_type;
    m.new_type = c.new_type;
    r = Rewriter({m}).rewrite(c.sql, ctx, cat);
    if (std::string_view(c.expected).empty()) {
      EXPECT_EQ(r.outcome, Outcome::rewritten);
      EXPECT_NE(r.staged_because.find(std::string("in binary format between ") + c.old_type +
                                      " and " + c.new_type),
                std::string::npos)
          << r.staged_because;
      EXPECT_FALSE(r.copy.has_value());
      continue;
    }
    ASSERT_EQ(r.outcome, Outcome::rewritten) << r.reason;
    EXPECT_EQ(r.sql, c.expected);
    ASSERT_TRUE(r.copy.has_value());
    EXPECT_EQ(r.copy->source_index_per_output_column, c.sources);
    EXPECT_EQ(r.copy->conversion_per_output_column, c.conversions);
  }
  // A server-side file and a transform are staged (CopyStagingTest).
  EXPECT_FALSE(
      both.rewrite("COPY users (id, status) FROM '/tmp/x'", ctx, cat).hidden_statements.empty());
  const Rewriter typed({users_migration(Writes::both, Reads::old_column, true)});
  EXPECT_FALSE(
      typed.rewrite("COPY users (id, status) FROM STDIN", ctx, cat).hidden_statements.empty());

  const Rewriter renamed({users_migration(Writes::new_column, Reads::new_column)});
  r = renamed.rewrite("COPY users (id, status) FROM STDIN", ctx, cat);
  EXPECT_EQ(r.sql, "COPY users (id, state) FROM STDIN");
  EXPECT_FALSE(r.copy.has_value());
  r = renamed.rewrite("COPY users (id, status, state) FROM STDIN", ctx, cat);
  EXPECT_EQ(r.sql, "COPY users (id, state) FROM STDIN");
  ASSERT_TRUE(r.copy.has_value());
  EXPECT_EQ(r.copy->source_index_per_output_column, (std::vector<int>{0, 2}));
}

}  // namespace
}  // namespace switchyard::rewrite::test

namespace switchyard::rewrite::test {
namespace {

// A COPY FROM the data stream cannot serve is staged through a temporary table: the text gets
// statements of Switchyard's own, the INSERT that moves the rows rewritten by the write rule.
TEST(CopyStagingTest, StagedThroughATemporaryTable) {
  const StaticCatalog cat = make_catalog();
  const SessionContext ctx;
  const std::string create =
      "CREATE TEMP TABLE \"users (switchyard staging)\" (id integer, status text) ON COMMIT DROP; ";
  const std::string drop = "DROP TABLE pg_temp.\"users (switchyard staging)\"";
  const std::string insert_both =
      "INSERT INTO users (id, status, state) OVERRIDING SYSTEM VALUE SELECT copied.id, "
      "copied.status, (CASE (copied.status) WHEN 'active' THEN 1 WHEN 'inactive' THEN 0 END) FROM "
      "pg_temp.\"users (switchyard staging)\" AS copied; " +
      drop;
  const struct {
    Migration migration;
    const char* in;
    std::string out;
    std::vector<int> hidden;
    std::vector<int> counted;
    const char* because;
  } cases[] = {
      {users_migration(Writes::both, Reads::old_column, true),
       "COPY users (id, status) FROM STDIN",
       create + "COPY pg_temp.\"users (switchyard staging)\" (id, status) FROM STDIN; " +
           insert_both,
       {0, 1, 3},
       {2},
       "with the migration's to_new transform"},
      // writes = new: the rows go to N only.
      {users_migration(Writes::new_column, Reads::new_column, true),
       "COPY users (id, status) FROM STDIN (FORMAT csv, HEADER)",
       create +
           "COPY pg_temp.\"users (switchyard staging)\" (id, status) FROM STDIN (FORMAT csv, "
           "HEADER); INSERT INTO "
           "users (id, state) OVERRIDING SYSTEM VALUE SELECT copied.id, (CASE (copied.status) "
           "WHEN 'active' THEN 1 WHEN 'inactive' THEN 0 END) FROM pg_temp.\"users (switchyard "
           "staging)\" AS "
           "copied; " +
           drop,
       {0, 1, 3},
       {2},
       "to_new transform"},
      // The updated app writes N: O gets to_old of it.
      {users_migration(Writes::both, Reads::new_column, true),
       "COPY users (id, state) FROM STDIN",
       "CREATE TEMP TABLE \"users (switchyard staging)\" (id integer, state smallint) ON COMMIT "
       "DROP; COPY "
       "pg_temp.\"users (switchyard staging)\" (id, state) FROM STDIN; INSERT INTO users (id, "
       "state, status) "
       "OVERRIDING SYSTEM VALUE SELECT copied.id, copied.state, (CASE (copied.state) WHEN 1 THEN "
       "'active' WHEN 0 THEN 'inactive' END) FROM pg_temp.\"users (switchyard staging)\" AS "
       "copied; " +
           drop,
       {0, 1, 3},
       {2},
       "to_old transform"},
      // No column list: the columns the app sees, with their types.
      {users_migration(Writes::both, Reads::old_column, true),
       "COPY users FROM STDIN",
       "CREATE TEMP TABLE \"users (switchyard staging)\" (id integer, status text, name character "
       "varying(40)) ON "
       "COMMIT DROP; COPY pg_temp.\"users (switchyard staging)\" (id, status, name) FROM STDIN; "
       "INSERT INTO "
       "users (id, status, name, state) OVERRIDING SYSTEM VALUE SELECT copied.id, copied.status, "
       "copied.name, (CASE (copied.status) WHEN 'active' THEN 1 WHEN 'inactive' THEN 0 END) FROM "
       "pg_temp.\"users (switchyard staging)\" AS copied; " +
           drop,
       {0, 1, 3},
       {2},
       "to_new"},
      // Options the stream does not follow stay on the staging COPY, as the app wrote them.
      {users_migration(Writes::both, Reads::old_column),
       "COPY public.users (id, status) FROM STDIN WITH (FORMAT csv, FORCE_NULL (status)) WHERE "
       "id > 1",
       create +
           "COPY pg_temp.\"users (switchyard staging)\" (id, status) FROM STDIN WITH (FORMAT csv, "
           "FORCE_NULL "
           "(status)) WHERE id > 1; INSERT INTO public.users (id, status, state) OVERRIDING "
           "SYSTEM VALUE SELECT copied.id, copied.status, copied.status FROM "
           "pg_temp.\"users (switchyard staging)\" AS copied; " +
           drop,
       {0, 1, 3},
       {2},
       "with FORCE_*, HEADER MATCH or WHERE"},
      {users_migration(Writes::both, Reads::old_column),
       "COPY users (id, status) FROM '/srv/load/users.tsv'",
       create +
           "COPY pg_temp.\"users (switchyard staging)\" (id, status) FROM '/srv/load/users.tsv'; "
           "INSERT INTO "
           "users (id, status, state) OVERRIDING SYSTEM VALUE SELECT copied.id, copied.status, "
           "copied.status FROM pg_temp.\"users (switchyard staging)\" AS copied; " +
           drop,
       {0, 1, 3},
       {2},
       "a server-side file or program"},
      // A character of these encodings may hold the delimiter's byte (SJIS 'ポ' is 83 7C): the
      // server splits the rows, after converting them.
      {users_migration(Writes::both, Reads::old_column),
       "COPY users (id, status) FROM STDIN (DELIMITER '|', ENCODING 'Shift_JIS')",
       create +
           "COPY pg_temp.\"users (switchyard staging)\" (id, status) FROM STDIN (DELIMITER '|', "
           "ENCODING 'Shift_JIS'); INSERT INTO users (id, status, state) OVERRIDING SYSTEM VALUE "
           "SELECT copied.id, copied.status, copied.status FROM pg_temp.\"users (switchyard "
           "staging)\" AS copied; " +
           drop,
       {0, 1, 3},
       {2},
       "with ENCODING 'Shift_JIS'"},
      // Statements around it, a leading comment and a trailing one: numbered in the new text.
      {users_migration(Writes::both, Reads::old_column, true),
       "SELECT 1; /* load 7 */ COPY users (id, status) FROM STDIN; SELECT 2 -- done",
       "SELECT 1; /* load 7 */ " + create +
           "COPY pg_temp.\"users (switchyard staging)\" (id, status) FROM STDIN; " + insert_both +
           "; SELECT 2 -- done",
       {1, 2, 4},
       {3},
       "to_new"},
      {users_migration(Writes::both, Reads::old_column, true),
       "COPY users (id, status) FROM STDIN; COPY users (id, status) FROM STDIN",
       create + "COPY pg_temp.\"users (switchyard staging)\" (id, status) FROM STDIN; " +
           insert_both + "; " + create +
           "COPY pg_temp.\"users (switchyard staging)\" (id, status) FROM STDIN; " + insert_both,
       {0, 1, 3, 4, 5, 7},
       {2, 6},
       "to_new"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.in);
    const RewriteResult r = Rewriter({c.migration}).rewrite(c.in, ctx, cat);
    ASSERT_EQ(r.outcome, Outcome::rewritten) << r.reason << catalog_needs(r);
    EXPECT_EQ(r.sql, c.out);
    EXPECT_TRUE(parses(r.sql)) << r.sql;
    EXPECT_EQ(r.hidden_statements, c.hidden);
    EXPECT_EQ(r.copy_count_statements, c.counted);
    EXPECT_NE(r.staged_because.find(c.because), std::string::npos) << r.staged_because;
    EXPECT_FALSE(r.copy.has_value());
    EXPECT_FALSE(r.staged_passthrough) << "the migration says reject";
  }
  // Outside a Query the proxy forwards the text as written when every staged COPY's migration
  // says passthrough.
  const RewriteResult r =
      Rewriter({users_migration(Writes::both, Reads::old_column, true, /*reject=*/false)})
          .rewrite("COPY users (id, status) FROM STDIN", ctx, cat);
  ASSERT_EQ(r.outcome, Outcome::rewritten);
  EXPECT_TRUE(r.staged_passthrough);
}

}  // namespace
}  // namespace switchyard::rewrite::test

namespace switchyard::rewrite::test {
namespace {

TEST(CopyStagingTest, TypesAndRefusals) {
  StaticCatalog cat = make_catalog();
  const SessionContext ctx;
  // A binary field of another type and no transform: the INSERT casts as an assignment would.
  Migration retyped = users_migration(Writes::both, Reads::old_column);
  retyped.old_type = "text";
  retyped.new_type = "smallint";
  RewriteResult r =
      Rewriter({retyped}).rewrite("COPY users (id, status) FROM STDIN (FORMAT binary)", ctx, cat);
  ASSERT_EQ(r.outcome, Outcome::rewritten) << r.reason;
  EXPECT_EQ(r.sql,
            "CREATE TEMP TABLE \"users (switchyard staging)\" (id integer, status text) ON COMMIT "
            "DROP; COPY "
            "pg_temp.\"users (switchyard staging)\" (id, status) FROM STDIN (FORMAT binary); "
            "INSERT INTO users "
            "(id, status, state) OVERRIDING SYSTEM VALUE SELECT copied.id, copied.status, "
            "(CAST((CAST(copied.status AS text)) AS smallint)) FROM pg_temp.\"users (switchyard "
            "staging)\" AS "
            "copied; DROP "
            "TABLE pg_temp.\"users (switchyard staging)\"");
  EXPECT_NE(r.staged_because.find("in binary format between text and smallint"), std::string::npos)
      << r.staged_because;

  const Rewriter typed({users_migration(Writes::both, Reads::old_column, true)});
  r = typed.rewrite("COPY users (id, status, nickname) FROM STDIN", ctx, cat);
  EXPECT_EQ(r.outcome, Outcome::rejected);
  EXPECT_NE(r.reason.find("naming column \"nickname\", which the catalog does not list in "
                          "public.users"),
            std::string::npos)
      << r.reason;
  // The proxy follows the answers of a text's first 64 statements.
  std::string many;
  for (int i = 0; i < 60; ++i) {
    many += "SELECT 1; ";
  }
  r = typed.rewrite(many + "COPY users (id, status) FROM STDIN", ctx, cat);
  EXPECT_EQ(r.outcome, Outcome::rewritten) << r.reason;
  EXPECT_EQ(r.copy_count_statements, (std::vector<int>{62}));
  r = typed.rewrite(many + "SELECT 1; COPY users (id, status) FROM STDIN", ctx, cat);
  EXPECT_EQ(r.outcome, Outcome::rejected);
  EXPECT_NE(r.reason.find("as the 62nd or a later statement"), std::string::npos) << r.reason;
  r = typed.rewrite("COPY users (id, status) FROM STDIN (FORMAT parquet)", ctx, cat);
  EXPECT_EQ(r.outcome, Outcome::rejected);
  EXPECT_NE(r.reason.find("in parquet format"), std::string::npos) << r.reason;
  cat.add({"public", "users"}, {"id", "status", "name", "state"});  // no types known
  r = typed.rewrite("COPY users (id, status) FROM STDIN", ctx, cat);
  EXPECT_EQ(r.outcome, Outcome::rejected);
  EXPECT_NE(r.reason.find("without the column types from the catalog"), std::string::npos)
      << r.reason;
}

// The proxy rewrites the rows of the first COPY FROM STDIN after a Query: a plan for a later
// one would be applied to another COPY's rows (found reading the staging change).
TEST(CopyRuleTest, OnlyTheFirstCopyFromStdinOfATextGetsAPlan) {
  const StaticCatalog cat = make_catalog();
  const SessionContext ctx;
  const Rewriter both({users_migration(Writes::both, Reads::old_column)});
  RewriteResult r = both.rewrite(
      "COPY users (id, status) FROM STDIN; COPY users (status, id) FROM STDIN", ctx, cat);
  EXPECT_EQ(r.outcome, Outcome::rejected);
  EXPECT_NE(r.reason.find("after another COPY FROM STDIN in the same query text"),
            std::string::npos)
      << r.reason;
  EXPECT_EQ(
      both.rewrite("COPY orders FROM STDIN; COPY users (id, status) FROM STDIN", ctx, cat).outcome,
      Outcome::rejected);
  // A staged COPY has no plan: it may follow one, or come first.
  const Rewriter typed({users_migration(Writes::both, Reads::old_column, true)});
  r = typed.rewrite("COPY orders FROM STDIN; COPY users (id, status) FROM STDIN", ctx, cat);
  EXPECT_EQ(r.outcome, Outcome::rewritten) << r.reason;
  // A planned COPY first, then others: the plan is the first COPY's.
  r = both.rewrite("COPY users (id, status) FROM STDIN; COPY orders FROM STDIN", ctx, cat);
  ASSERT_EQ(r.outcome, Outcome::rewritten) << r.reason;
  ASSERT_TRUE(r.copy.has_value());
  EXPECT_EQ(r.copy->source_index_per_output_column, (std::vector<int>{0, 1, 1}));
  r = both.rewrite("COPY users (id, status) FROM '/srv/u.tsv'; COPY users (id, status) FROM STDIN",
                   ctx, cat);
  ASSERT_EQ(r.outcome, Outcome::rewritten) << r.reason;
  EXPECT_TRUE(r.copy.has_value()) << "a server-side file is no COPY FROM STDIN";
}

// COPY leaves a generated column out of a table's columns (and refuses it named).
TEST(CopyRuleTest, GeneratedColumnsAreNotCopied) {
  StaticCatalog cat = make_catalog();
  cat.add({"public", "users"}, {"id", "status", "search", "name", "state"},
          {{"integer"}, {"text"}, {"tsvector", true}, {"text"}, {"smallint"}});
  const SessionContext ctx;
  RewriteResult r = Rewriter({users_migration(Writes::both, Reads::old_column)})
                        .rewrite("COPY users FROM STDIN", ctx, cat);
  ASSERT_EQ(r.outcome, Outcome::rewritten) << r.reason;
  EXPECT_EQ(r.sql, "COPY users (id, status, name, state) FROM STDIN");
  ASSERT_TRUE(r.copy.has_value());
  EXPECT_EQ(r.copy->input_columns, 3u);
  r = Rewriter({users_migration(Writes::both, Reads::new_column)})
          .rewrite("COPY users TO STDOUT", ctx, cat);
  ASSERT_EQ(r.outcome, Outcome::rewritten) << r.reason;
  EXPECT_EQ(r.sql,
            "COPY (SELECT users.id, users.state AS status, users.name FROM users) TO STDOUT");
  r = Rewriter({users_migration(Writes::both, Reads::old_column, true)})
          .rewrite("COPY users FROM STDIN", ctx, cat);
  ASSERT_EQ(r.outcome, Outcome::rewritten) << r.reason;
  EXPECT_EQ(r.sql.substr(0, 93),
            "CREATE TEMP TABLE \"users (switchyard staging)\" (id integer, status "
            "text, name text) ON COMMIT");
}

// COPY without a column list also takes a row of the table's every column, as Postgres does:
// the plan says where each output column stands in such a row. Not for a listed COPY, nor
// where that width is the old app's (O dropped, N in its place).
TEST(CopyRuleTest, WithoutAListTheFullWidthIsPlannedToo) {
  StaticCatalog cat = make_catalog();
  cat.add({"public", "users"}, {"id", "status", "state", "search", "name"},
          {{"integer"}, {"text"}, {"text"}, {"tsvector", true}, {"text"}});
  const struct {
    const char* what;
    Writes writes;
    const char* sql;
    const char* expected;
    std::size_t full_width;
    std::vector<int> full_sources;
  } cases[] = {
      {"writes both",
       Writes::both,
       "COPY users FROM STDIN",
       "COPY users (id, status, name, state) FROM STDIN",
       4,
       {0, 1, 3, 2}},
      {"writes new",
       Writes::new_column,
       "COPY users FROM STDIN",
       "COPY users (id, state, name) FROM STDIN",
       4,
       {0, 2, 3}},
      {"a listed COPY",
       Writes::both,
       "COPY users (id, status) FROM STDIN",
       "COPY users (id, status, state) FROM STDIN",
       0,
       {}},
  };
  const SessionContext ctx;
  for (const auto& c : cases) {
    Migration m = users_migration(c.writes, Reads::new_column);
    m.old_type = m.new_type = "text";
    RewriteResult r = Rewriter({m}).rewrite(c.sql, ctx, cat);
    ASSERT_EQ(r.outcome, Outcome::rewritten) << c.what << ": " << r.reason;
    EXPECT_EQ(r.sql, c.expected) << c.what;
    ASSERT_TRUE(r.copy.has_value()) << c.what;
    EXPECT_EQ(r.copy->full_width_columns, c.full_width) << c.what;
    EXPECT_EQ(r.copy->full_width_source_per_output_column, c.full_sources) << c.what;
  }
  // A second migration still at writes = "old" leaves its N out of the list: a full-width row's
  // field for it would be lost, so that width stays refused.
  Migration first = users_migration(Writes::both, Reads::old_column);
  Migration second = users_migration(Writes::old_column, Reads::old_column);
  second.name = "name-to-label";
  second.old_column = "name";
  second.new_column = "label";
  cat.add({"public", "users"}, {"id", "status", "state", "name", "label"});
  RewriteResult r = Rewriter({first, second}).rewrite("COPY users FROM STDIN", ctx, cat);
  ASSERT_EQ(r.outcome, Outcome::rewritten) << r.reason;
  EXPECT_EQ(r.sql, "COPY users (id, status, name, state) FROM STDIN");
  ASSERT_TRUE(r.copy.has_value());
  EXPECT_EQ(r.copy->full_width_columns, 0u);
}

// A cast to a length-limited type cuts a value short where the assignment it stands for refuses
// it: the written value goes through the type's length coercion in its assignment mode.
TEST(WriteRuleTest, AssignedAsChecksALengthAsAnAssignmentDoes) {
  const struct {
    const char* type;
    bool untyped;
    const char* out;
  } cases[] = {
      {"character varying(5)", true, "pg_catalog.varchar($1::pg_catalog.varchar, 9, false)"},
      {"character varying(5)", false,
       "pg_catalog.varchar(CAST($1 AS pg_catalog.varchar), 9, false)"},
      {"character(4)", true, "pg_catalog.bpchar($1::pg_catalog.bpchar, 8, false)"},
      {"bit(3)", false, "pg_catalog.\"bit\"(CAST($1 AS pg_catalog.\"bit\"), 3, false)"},
      {"bit varying(8)", true, "pg_catalog.varbit($1::pg_catalog.varbit, 8, false)"},
      // Explicit and assignment casts agree for these.
      {"numeric(10,2)", false, "CAST($1 AS numeric(10,2))"},
      {"timestamp(0) without time zone", true, "$1::timestamp(0) without time zone"},
      {"character varying", true, "$1::character varying"},
      {"character varying(5)[]", false, "CAST($1 AS character varying(5)[])"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.type);
    EXPECT_EQ(assigned_as("$1", c.type, c.untyped), c.out);
  }
}

TEST(InsertRuleTest, AValueTooLongForALengthLimitedOldColumnFailsAsItsWriteDid) {
#define CHAR4(v) "pg_catalog.bpchar(" v "::pg_catalog.bpchar, 8, false)"
#define VARCHAR5(v) "pg_catalog.varchar(" v "::pg_catalog.varchar, 9, false)"
  Migration padded = users_migration(Writes::new_column, Reads::new_column);
  padded.old_type = "character(4)";
  padded.new_type = "text";
  Migration upper = padded;
  upper.old_type = "character varying(5)";
  upper.to_new = "upper({value})";
  upper.to_old = "lower({value})";
  Migration wider = upper;  // another width of the text types: no transform needed
  wider.to_new = wider.to_old = "";
  Migration both = wider;
  both.writes = Writes::both;
  run_table(padded, {
                        {"INSERT INTO users (id, status) VALUES (40, 'abcdef')",
                         "INSERT INTO users (id, state) VALUES (40, " CHAR4("'abcdef'") ")"},
                        {"UPDATE users SET status = 'wxyz12' WHERE id = 40",
                         "UPDATE users SET state = " CHAR4("'wxyz12'") " WHERE id = 40"},
                    });
  run_table(
      upper,
      {
          {"INSERT INTO users (id, status) VALUES (41, 'abcdefgh')",
           "INSERT INTO users (id, state) VALUES (41, (upper((" VARCHAR5("'abcdefgh'") "))))"},
      });
  run_table(wider,
            {
                {"INSERT INTO users (id, status) VALUES (1, $1), (2, 'a' || 'b')",
                 "INSERT INTO users (id, state) VALUES (1, " VARCHAR5(
                     "$1") "), (2, pg_catalog.varchar(CAST('a' || 'b' AS pg_catalog.varchar), 9, "
                           "false))"},
                {"INSERT INTO users (id, status) SELECT id, status FROM orders",
                 "INSERT INTO users (id, state) SELECT id, pg_catalog.varchar(CAST(status AS "
                 "pg_catalog.varchar), 9, false) FROM orders"},
                {"UPDATE users SET status = name",
                 "UPDATE users SET state = pg_catalog.varchar(CAST(name "
                 "AS pg_catalog.varchar), 9, false)"},
            });
  // Under writes = both O's own assignment checks the value; N gets it as it is.
  run_table(both, {
                      {"INSERT INTO users (id, status) VALUES (1, 'a' || 'b')",
                       "INSERT INTO users (id, status, state) VALUES (1, 'a' || 'b', 'a' || 'b')"},
                  });
#undef CHAR4
#undef VARCHAR5
}

// An untyped value repeated for the other column of another width (integer -> bigint) would get
// two types deduced for one parameter, or N's: it is typed as the column the app wrote.
TEST(InsertRuleTest, AnUntypedValueOfAnotherWidthKeepsItsWrittenColumnsType) {
  Migration widen = users_migration(Writes::both, Reads::old_column);
  widen.old_type = "integer";
  widen.new_type = "bigint";
  Migration widen_new = widen;
  widen_new.writes = Writes::new_column;
  widen_new.reads = Reads::new_column;
  run_table(
      widen,
      {
          {"INSERT INTO users (id, status) VALUES ($1, $2)",
           "INSERT INTO users (id, status, state) VALUES ($1, $2, $2::integer)"},
          {"INSERT INTO users (id, state) VALUES ($1, $2)",
           "INSERT INTO users (id, state, status) VALUES ($1, $2, $2::bigint)"},
          {"INSERT INTO users (id, status) SELECT $1, $2",
           "INSERT INTO users (id, status, state) SELECT $1, $2, $2::integer"},
          {"UPDATE users SET status = $1 WHERE id = $2",
           "UPDATE users SET status = $1, state = $1::integer WHERE id = $2"},
          {"INSERT INTO users (id, status) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET "
           "status = $2",
           "INSERT INTO users (id, status, state) VALUES ($1, $2, $2::integer) ON CONFLICT (id) "
           "DO UPDATE SET status = $2, state = $2::integer"},
          {"UPDATE users SET status = 7", "UPDATE users SET status = 7, state = 7"},
      });
  run_table(
      widen_new,
      {
          {"INSERT INTO users (id, status) VALUES ($1, $2)",
           "INSERT INTO users (id, state) VALUES ($1, $2::integer)"},
          {"INSERT INTO users VALUES ($1, NULL)",
           "INSERT INTO users (id, state) VALUES ($1, NULL::integer)"},
          {"INSERT INTO users (id, status) SELECT $1, $2",
           "INSERT INTO users (id, state) SELECT $1, $2::integer"},
          {"INSERT INTO users (id, status) SELECT * FROM orders",
           "INSERT INTO users (id, state) SELECT * FROM orders"},
          {"UPDATE users SET status = $1 WHERE id = $2",
           "UPDATE users SET state = $1::integer WHERE id = $2"},
          {"UPDATE users SET (status, name) = ($1, $2)",
           "UPDATE users SET (state, name) = ($1::integer, $2)"},
          {"UPDATE users SET (status, name) = (SELECT $1, 'x')",
           "UPDATE users SET (state, name) = (SELECT $1::integer, 'x')"},
          {"INSERT INTO users (id, status) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET "
           "status = $2",
           "INSERT INTO users (id, state) VALUES ($1, $2::integer) ON CONFLICT (id) DO UPDATE SET "
           "state = $2::integer"},
          // A typed value keeps O's range check (40000 into a smallint O fails as it did);
          // a query's rows that cannot be edited item by item go to N as they are.
          {"INSERT INTO users (id, status) VALUES ($1, 7)",
           "INSERT INTO users (id, state) VALUES ($1, CAST(7 AS integer))"},
          {"UPDATE users SET status = status + 32000",
           "UPDATE users SET state = CAST(state + 32000 AS integer)"},
      });
}

// The staged INSERT carries a value to a length-limited column as the COPY into it would: a
// value too long fails, where a cast would store it cut short beside the whole value.
TEST(CopyStagingTest, ALengthLimitedColumnRefusesATooLongValue) {
  StaticCatalog cat = make_catalog();
  cat.add({"public", "users"}, {"id", "status", "name", "state"},
          {{"integer"}, {"character(4)"}, {"text"}, {"text"}});
  Migration padded = users_migration(Writes::both, Reads::old_column);
  padded.old_type = "character(4)";
  padded.new_type = "text";
  const RewriteResult r =
      Rewriter({padded}).rewrite("COPY users (id, state) FROM STDIN", SessionContext{}, cat);
  ASSERT_EQ(r.outcome, Outcome::rewritten) << r.reason;
  EXPECT_NE(r.sql.find("SELECT copied.id, copied.state, (pg_catalog.bpchar(CAST((CAST("
                       "copied.state AS text)) AS pg_catalog.bpchar), 8, false)) FROM"),
            std::string::npos)
      << r.sql;
  // Under writes = new another width of the text types is staged too: the stream would send a
  // field too long for O to N whole.
  Migration wider = users_migration(Writes::new_column, Reads::new_column);
  wider.old_type = "character varying(5)";
  wider.new_type = "text";
  for (const char* copy : {"COPY users (id, status) FROM STDIN",
                           "COPY users (id, status) FROM STDIN (FORMAT binary)"}) {
    const RewriteResult w = Rewriter({wider}).rewrite(copy, SessionContext{}, cat);
    ASSERT_EQ(w.outcome, Outcome::rewritten) << w.reason;
    EXPECT_NE(w.staged_because.find("into text of values that character varying(5) must hold"),
              std::string::npos)
        << w.staged_because;
  }
}

// Two migrations of one table: a column list synthesized once with both columns; a sub-SELECT
// that one migration wraps and the other extends is refused.
TEST(SeveralMigrationsTest, TwoMigrationsOfOneTableWriteTogether) {
  Migration a = users_migration(Writes::both, Reads::old_column);
  a.name = "ta";
  a.table = "two";
  a.old_column = "a";
  a.new_column = "a2";
  Migration k = users_migration(Writes::both, Reads::old_column, true);
  k.name = "tk";
  k.table = "two";
  k.old_column = "k";
  k.new_column = "k_n";
  Migration a_new = a;
  a_new.writes = Writes::new_column;
  a_new.reads = Reads::new_column;
  StaticCatalog cat = make_catalog();
  cat.add({"public", "two"}, {"id", "a", "a2", "k", "k_n"});
  cat.mark_complete("two");
  SessionContext ctx;
  ctx.user = "alice";
  const Rewriter rw({a, k});
  const Rewriter mixed({a_new, k});
  const std::vector<Case> cases = {
      {"INSERT INTO two VALUES (2, 'y', 'inactive')",
       "INSERT INTO two (id, a, k, a2, k_n) VALUES (2, 'y', 'inactive', 'y', " TO_NEW(
           "'inactive'") ")"},
      {"INSERT INTO two VALUES (2, 'y')", "INSERT INTO two (id, a, a2) VALUES (2, 'y', 'y')"},
      {"MERGE INTO two t USING orders o ON o.id = t.id WHEN NOT MATCHED THEN INSERT VALUES "
       "(o.id, o.status, 'active')",
       "MERGE INTO two t USING orders o ON o.id = t.id WHEN NOT MATCHED THEN INSERT (id, a, k, "
       "a2, k_n) VALUES (o.id, o.status, 'active', o.status, " TO_NEW("'active'") ")"},
      {"UPDATE two SET (a, k) = (SELECT 'multi', 'active') WHERE id = 2", nullptr, kRejected,
       "two migrations"},
      {"UPDATE two SET (a, k) = ('multi', 'active') WHERE id = 2",
       "UPDATE two SET (a, k) = ('multi', 'active'), a2 = 'multi', k_n = " TO_NEW(
           "'active'") " WHERE id = 2"},
      {"UPDATE two SET (a) = (SELECT 'multi'), (k) = (SELECT 'active') WHERE id = 2",
       "UPDATE two SET (a, a2) = (SELECT 'multi', 'multi'), (k, k_n) = (SELECT "
       "switchyard_rows.c1, " TO_NEW(
           "switchyard_rows.c1") " FROM (SELECT) AS "
                                 "switchyard_one LEFT JOIN (SELECT 'active') AS switchyard_rows "
                                 "(c1) ON true) WHERE id = 2"},
  };
  for (const Case& c : cases) {
    check_case(rw, c, ctx, cat);
  }
  // Under writes = new the rename only renames its target in the wrapped sub-SELECT's list.
  Migration k_new = k;
  k_new.writes = Writes::new_column;
  k_new.reads = Reads::new_column;
  check_case(Rewriter({a_new, k_new}),
             {"UPDATE two SET (a, k) = (SELECT 'multi', 'active') WHERE id = 2",
              "UPDATE two SET (a2, k_n) = (SELECT switchyard_rows.c1, " TO_NEW(
                  "switchyard_rows.c2") " FROM (SELECT) AS switchyard_one LEFT JOIN (SELECT "
                                        "'multi', 'active') AS switchyard_rows (c1, c2) ON true) "
                                        "WHERE id = 2"},
             ctx, cat);
  check_case(
      mixed,
      {"INSERT INTO two VALUES (2, 'y', 'inactive')",
       "INSERT INTO two (id, a2, k, k_n) VALUES (2, 'y', 'inactive', " TO_NEW("'inactive'") ")"},
      ctx, cat);
}

}  // namespace
}  // namespace switchyard::rewrite::test
