// count_statements: SQL in, the statement count ParsedSql would give (or a parse error) out.

#include "rewrite/pg_query_handles.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace switchyard::rewrite::detail
