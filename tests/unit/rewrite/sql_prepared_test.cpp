// sql_prepared: statement text in, the names its SQL PREPAREs define and EXECUTEs run out.

#include "rewrite/sql_prepared.hpp"

#include <gtest/gtest.h>

namespace switchyard::rewrite {
namespace {

struct SqlPreparedCase {
  const char* sql;
  std::vector<std::string> prepared;
  std::vector<std::string> executed;
};

TEST(SqlPreparedTest, Table) {
  const SqlPreparedCase cases[] = {
      {"PREPARE up(int, text) AS UPDATE users SET status = $2 WHERE id = $1", {"up"}, {}},
      {"prepare \"Mixed\" AS SELECT 1", {"Mixed"}, {}},
      {"EXECUTE up(1, 'x')", {}, {"up"}},
      {"execute plain", {}, {"plain"}},
      {"EXPLAIN ANALYZE EXECUTE up(1, 'x')", {}, {"up"}},
      {"CREATE TABLE copy AS EXECUTE pick(3)", {}, {"pick"}},
      {"PREPARE a AS SELECT 1; EXECUTE a; EXECUTE b", {"a"}, {"a", "b"}},
      {"/* app */ -- note\n  EXECUTE up(2, 'y') ;", {}, {"up"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.sql);
    auto found = sql_prepared(c.sql);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->prepared, c.prepared);
    EXPECT_EQ(found->executed, c.executed);
  }
}

TEST(SqlPreparedTest, EachPrepareStatementAlone) {
  const struct {
    const char* sql;
    std::vector<std::string_view> statements;
  } cases[] = {
      {"PREPARE a AS SELECT 1", {"PREPARE a AS SELECT 1"}},
      {"PREPARE a AS SELECT 1;", {"PREPARE a AS SELECT 1"}},
      {"DEALLOCATE a; PREPARE a AS SELECT 2 -- tag", {" PREPARE a AS SELECT 2 -- tag"}},
      {"/* app */ PREPARE a AS SELECT 1; PREPARE b(int) AS SELECT $1;",
       {"/* app */ PREPARE a AS SELECT 1", " PREPARE b(int) AS SELECT $1"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.sql);
    auto found = sql_prepared(c.sql);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->prepare_statements, c.statements);
  }
}

TEST(SqlPreparedTest, PreparedAgainInFrontOfAText) {
  // A comment that ends the PREPARE must not swallow what comes after it.
  EXPECT_EQ(sql_prepare_again("up", "PREPARE up AS SELECT 1 -- tag"),
            "DEALLOCATE up;\nPREPARE up AS SELECT 1 -- tag\n;\n");
  EXPECT_EQ(sql_prepare_again("Mixed Case", "PREPARE \"Mixed Case\" AS SELECT 1"),
            "DEALLOCATE \"Mixed Case\";\nPREPARE \"Mixed Case\" AS SELECT 1\n;\n");
}

TEST(SqlPreparedTest, StatementsGoInFrontAfterLeadingComments) {
  const struct {
    std::string_view text;
    std::size_t front;
  } cases[] = {
      {"EXECUTE up(1)", 0},
      {"/* app:web */ EXECUTE up(1)", 14},
      {"-- traced\n  /* a /* nested */ one */\tEXECUTE up(1)", 37},
      {"-- only a comment", 17},
      {"/* never ends EXECUTE up(1)", 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(front_of_statements(c.text), c.front);
  }
}

TEST(SqlPreparedTest, TextsThatPrepareNothing) {
  for (const char* sql : {"SELECT 1", "UPDATE t SET note = 'execute me'", "EXPLAIN SELECT 1",
                          "CREATE TABLE t (id int)", "SELECT 'prepare'; SELECT 2", "DEALLOCATE up",
                          "EXECUTE", "PREPARE p AS"}) {
    SCOPED_TRACE(sql);
    EXPECT_EQ(sql_prepared(sql), std::nullopt);
  }
}

}  // namespace
}  // namespace switchyard::rewrite
