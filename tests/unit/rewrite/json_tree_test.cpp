// tree_from_json: SQL in, which road its tree takes (built from libpg_query's JSON, or the
// protobuf fallback) out; on either road the tree must be the protobuf parse's, byte for byte
// once packed again.

#include "rewrite/json_tree.hpp"

#include <gtest/gtest.h>
#include <pg_query.h>

#include <cstring>
#include <string>

#include "rewrite/pg_query_handles.hpp"

namespace switchyard::rewrite::detail {
namespace {

enum class Road { kJson, kProtobuf };

struct JsonTreeCase {
  const char* sql;
  Road road;
};

std::string packed(const PgQuery__ParseResult* tree) {
  std::string out(pg_query__parse_result__get_packed_size(tree), '\0');
  pg_query__parse_result__pack(tree, reinterpret_cast<uint8_t*>(out.data()));
  return out;
}

std::string protobuf_parse(const std::string& sql) {
  PgQueryProtobufParseResult r = pg_query_parse_protobuf(sql.c_str());
  std::string out = r.error == nullptr ? std::string(r.parse_tree.data, r.parse_tree.len) : "";
  pg_query_free_protobuf_parse_result(r);
  return out;
}

TEST(JsonTreeTest, BuildsTheProtobufTreeOrDeclines) {
  const JsonTreeCase cases[] = {
      // pgbench and OLTP statements: the road a cache miss takes.
      {"UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;", Road::kJson},
      {"UPDATE pgbench_accounts SET abalance = abalance + -2731 WHERE aid = 48213;", Road::kJson},
      {"SELECT abalance FROM pgbench_accounts WHERE aid = 48213;", Road::kJson},
      {"INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (7, 1, 3, -12, "
       "CURRENT_TIMESTAMP);",
       Road::kJson},
      {"INSERT INTO t (a, b) VALUES ($1, $2) ON CONFLICT (a) DO UPDATE SET b = EXCLUDED.b "
       "RETURNING *",
       Road::kJson},
      {"SELECT a.aid, b.bbalance FROM pgbench_accounts a JOIN pgbench_branches b USING (bid) "
       "WHERE a.aid = ANY($1) ORDER BY 1 DESC LIMIT 10 OFFSET 0 FOR UPDATE SKIP LOCKED",
       Road::kJson},
      {"WITH RECURSIVE r(n) AS (SELECT 0 UNION ALL SELECT n - 1 FROM r WHERE n > -10) "
       "SELECT count(*) FILTER (WHERE n < 0) OVER w FROM r WINDOW w AS (ORDER BY n)",
       Road::kJson},
      {"BEGIN; SET search_path = shadow, public; COMMIT", Road::kJson},
      {"", Road::kJson},
      // Constants: the JSON writer omits every Integer that is not positive; an A_Const's
      // own text tells 0 from a negative value.
      {"SELECT 0, -0, 00, -1, - 2, -\t3, -2147483647, -2147483648, 2147483647", Road::kJson},
      {"SELECT 2147483648, -2147483649, 1.5, -1.5, 1e5, -.5", Road::kJson},
      {"SELECT 1 - 1, 1 -1, 1-1, -(-1), (-1)::int, -1::int", Road::kJson},
      {"SELECT E'a\\nb', $$d$$, U&'\\0041', B'101', X'1F', 'it''s', '\\', 'ünï', true, false, "
       "null",
       Road::kJson},
      {"SELECT \"A_Const\", \"UpdateStmt\", \"select\" FROM \"t\"\"x\"", Road::kJson},
      {"CREATE TABLE t (a int DEFAULT -1, b varchar(10), c numeric CHECK (c > -5))", Road::kJson},
      {"COPY t (a, b) FROM STDIN WITH (FORMAT csv, HEADER true)", Road::kJson},
      // A minus sign and its digits apart: the text cannot be read safely.
      {"SELECT - /* why */ 5", Road::kProtobuf},
      {"SELECT -(1)", Road::kProtobuf},
      // An Integer outside any A_Const has no text of its own to ask.
      {"CREATE SEQUENCE s INCREMENT -1 START 0", Road::kProtobuf},
      {"SELECT '{1}'::int[]", Road::kProtobuf},
      // A key whose JSON name is neither the field's proto name nor its camelCase form.
      {"CREATE FOREIGN TABLE ft (a int) SERVER s", Road::kProtobuf},
  };
  for (const JsonTreeCase& c : cases) {
    SCOPED_TRACE(c.sql);
    const std::string expected = protobuf_parse(c.sql);
    PgQueryParseResult json = pg_query_parse(c.sql);
    ASSERT_EQ(json.error, nullptr);
    UnpackArena arena;
    const PgQuery__ParseResult* tree = tree_from_json(json.parse_tree, c.sql, arena);
    pg_query_free_parse_result(json);
    if (c.road == Road::kJson) {
      ASSERT_NE(tree, nullptr);
      EXPECT_EQ(packed(tree), expected);
    } else {
      EXPECT_EQ(tree, nullptr);
    }
    const ParsedSql parsed{std::string(c.sql)};
    ASSERT_NE(parsed.tree(), nullptr) << parsed.error();
    EXPECT_EQ(packed(parsed.tree()), expected);
  }
}

TEST(JsonTreeTest, DeclinesJsonItDoesNotKnow) {
  const char* sql = "SELECT 1";
  const char* inputs[] = {
      R"({"version":150001,"stmts":[{"stmt":{"NoSuchStmt":{}}}]})",
      R"({"version":150001,"stmts":[{"stmt":{"SelectStmt":{"noSuchField":1}}}]})",
      R"({"version":"150001","stmts":[]})",
      R"({"version":150001,"stmts":[{"stmt":{"SelectStmt":{"op":"NO_SUCH_OP"}}}]})",
      R"({"version":150001,"stmts":[{"stmt":{"SelectStmt":{"targetList":{}}}}]})",
      R"({"version":150001,"stmts":[{"stmt":{"SelectStmt":{"all":null}}}]})",
      R"({"version":150001,"stmts":[{"stmt":{"Integer":{}}}]})",
      R"({"version":150001,"stmts":[{"stmt":{"SelectStmt":{},"UpdateStmt":{}}}]})",
      R"({"version":150001,"stmts":[)",
      R"({"version":150001} {"version":1})",
      "",
  };
  for (const char* input : inputs) {
    SCOPED_TRACE(input);
    std::string json = input;
    UnpackArena arena;
    EXPECT_EQ(tree_from_json(json.data(), sql, arena), nullptr);
  }
}

}  // namespace
}  // namespace switchyard::rewrite::detail
