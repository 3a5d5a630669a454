// count_statements: SQL in, the statement count ParsedSql would give (or a parse error) out.
// ParsedSql and scan_tokens on trees far larger than their arenas' inline storage.

#include "rewrite/pg_query_handles.hpp"

#include <gtest/gtest.h>

#include <string>

namespace switchyard::rewrite::detail {
namespace {

struct Case {
  const char* sql;
  int statements;  // -1: does not parse
};

TEST(CountStatementsTest, AgreesWithTheProtobufParse) {
  const Case cases[] = {
      {"SELECT 1", 1},
      {"SELECT 1; SELECT 2", 2},
      {"SELECT 1;;", 1},
      {"", 0},
      {"-- only a comment", 0},
      {"SELECT ';' AS semi; UPDATE t SET a = $1", 2},
      {"CREATE RULE r AS ON INSERT TO t DO ALSO (SELECT 1; SELECT 2)", 1},
      {"SELEC 1", -1},
      {"SELECT 1; SELECT (", -1},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.sql);
    std::string error;
    EXPECT_EQ(count_statements(c.sql, error), c.statements);
    EXPECT_EQ(error.empty(), c.statements >= 0);
    ParsedSql parsed(c.sql);
    if (c.statements < 0) {
      EXPECT_EQ(parsed.tree(), nullptr);
    } else {
      ASSERT_NE(parsed.tree(), nullptr);
      EXPECT_EQ(static_cast<int>(parsed.tree()->n_stmts), c.statements);
    }
  }
}

TEST(UnpackArenaTest, TreesBeyondTheInlineStorageKeepEveryNode) {
  // 3,000 output columns unpack to a few hundred KiB, well past the arena's first 8 KiB.
  constexpr int kColumns = 3000;
  std::string sql = "SELECT ";
  for (int i = 0; i < kColumns; ++i) {
    sql += i == 0 ? "column_" : ", column_";
    sql += std::to_string(i);
  }
  sql += " FROM t";
  const ParsedSql parsed(sql);
  ASSERT_NE(parsed.tree(), nullptr) << parsed.error();
  const PgQuery__SelectStmt* select = parsed.tree()->stmts[0]->stmt->select_stmt;
  ASSERT_EQ(select->n_target_list, static_cast<size_t>(kColumns));
  for (int i : {0, 1, kColumns / 2, kColumns - 1}) {
    const PgQuery__ColumnRef* ref = select->target_list[i]->res_target->val->column_ref;
    ASSERT_EQ(ref->n_fields, 1U);
    EXPECT_EQ(string_value(ref->fields[0]), "column_" + std::to_string(i));
  }
  const auto tokens = scan_tokens(sql);
  ASSERT_EQ(tokens.size(), static_cast<size_t>(2 * kColumns - 1 + 3));  // names, commas, 3 more
  EXPECT_EQ(sql.substr(static_cast<size_t>(tokens.back().start),
                       static_cast<size_t>(tokens.back().end - tokens.back().start)),
            "t");
}

}  // namespace
}  // namespace switchyard::rewrite::detail
