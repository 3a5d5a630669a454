// may_change_session: statement text in, whether it may change the session state the proxy
// follows out; never false where deallocation(), search_path_change() or role_changes() finds
// a change.

#include "rewrite/session_change.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "rewrite/deallocation.hpp"
#include "rewrite/search_path_setting.hpp"
#include "rewrite/sql_prepared.hpp"
#include "rewrite/transaction_steps.hpp"

namespace switchyard::rewrite {
namespace {

struct SessionChangeCase {
  const char* sql;
  bool may_change;
};

TEST(MayChangeSessionTest, Table) {
  const SessionChangeCase cases[] = {
      {"SELECT abalance FROM pgbench_accounts WHERE aid = $1;", false},
      {"UPDATE t SET search_path = 1;", false},
      {"INSERT INTO t (note) VALUES ('deallocate')", false},
      {"-- SET search_path = z", true},  // no first word: searched, and the parse says no
      {"", false},
      {"SET search_path = a", true},
      {"set work_mem = '64MB'", true},  // a SET: the parse says it is not search_path
      {"RESET ALL", true},
      {"Discard ALL", true},
      {"DEALLOCATE s1", true},
      {"/* pool */ -- note\r\n  deallocate prepare s1 ;\n", true},
      // Several statements: judged by the words a change needs.
      {"SELECT 1; SET search_path = b", true},
      {"SELECT 1; RESET ALL", true},
      {"BEGIN; SET LOCAL ROLE alice", true},
      {"BEGIN; SET SESSION AUTHORIZATION alice", true},
      {"SELECT 1; DEALLOCATE ALL", true},
      {"PREPARE up AS UPDATE t SET n = $1", true},
      {"execute up(1)", true},
      {"EXPLAIN ANALYZE EXECUTE up(1)", true},
      {"CREATE TABLE c AS EXECUTE up(1)", true},
      {"SELECT 1; EXECUTE up(2)", true},
      {"SAVEPOINT a", true},
      {"release savepoint a", true},
      {"ROLLBACK TO a", true},
      {"ROLLBACK", true},  // the parse says it is not ROLLBACK TO
      {"COMMIT", false},
      {"COMMIT AND CHAIN", true},
      {"commit and no chain", true},     // the parse says it is not AND CHAIN
      {"CREATE TABLE t (c int)", true},  // the parse says it is not CREATE TABLE AS EXECUTE
      {"CHECKPOINT", false},
      {"END", false},
      {"end and chain", true},
      {"abort", false},
      {"ABORT AND CHAIN", true},
      {"BEGIN", false},
      {"SELECT 1; ROLLBACK TO SAVEPOINT a", true},
      {"SELECT 1; SELECT 2", false},
      {"SELECT ';'; SELECT 'x'", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.sql);
    EXPECT_EQ(may_change_session(c.sql), c.may_change);
  }
}

// Texts built from pieces that start, end or hide statements, so that the first-word test, the
// several-statements search and the precise parses all get their turn.
TEST(MayChangeSessionTest, NeverMissesWhatTheParsesFind) {
  const std::vector<std::string> pieces = {"SELECT 1",
                                           "SET search_path = s",
                                           "SET LOCAL search_path TO t",
                                           "RESET search_path",
                                           "RESET ALL",
                                           "DISCARD ALL",
                                           "DISCARD PLANS",
                                           "DEALLOCATE p",
                                           "deallocate ALL",
                                           "set SEARCH_PATH to DEFAULT",
                                           "UPDATE t SET n = 1",
                                           "/* c */ ",
                                           "-- c\n",
                                           "; ",
                                           " ",
                                           "'x'",
                                           "SELECT 'a;b'",
                                           "PREPARE p AS SELECT 1",
                                           "EXECUTE p",
                                           "explain execute p(1)",
                                           "SET ROLE a",
                                           "reset role",
                                           "SET SESSION AUTHORIZATION DEFAULT",
                                           "SAVEPOINT sp",
                                           "release sp",
                                           "ROLLBACK TO SAVEPOINT sp",
                                           "COMMIT AND CHAIN",
                                           "rollback and chain"};
  std::mt19937 random(20261129);
  std::uniform_int_distribution<std::size_t> pick(0, pieces.size() - 1);
  std::uniform_int_distribution<int> length(1, 5);
  int changes = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string sql;
    for (int n = length(random); n > 0; --n) {
      sql += pieces[pick(random)];
    }
    if (deallocation(sql) || search_path_change(sql) || sql_prepared(sql) ||
        !role_changes(sql).empty() || !transaction_steps(sql).empty()) {
      ++changes;
      ASSERT_TRUE(may_change_session(sql)) << sql;
    }
  }
  EXPECT_GT(changes, 500);  // the pieces do make changes: the check above was exercised
}

TEST(TransactionEndTest, Table) {
  struct Case {
    const char* sql;
    TransactionEnd end;
  };
  using End = TransactionEnd;
  const Case cases[] = {
      {"COMMIT", End::commit},
      {"commit work", End::commit},
      {"END", End::commit},
      {"end transaction;", End::commit},
      {"DISCARD ALL", End::commit},
      {"discard all", End::commit},
      {"ROLLBACK", End::rollback},
      {"abort work", End::rollback},
      {"COMMIT AND CHAIN", End::none},  // followed as a transaction step
      {"END AND CHAIN", End::none},
      {"ROLLBACK AND CHAIN", End::none},
      {"COMMIT PREPARED 'tx'", End::none},  // another transaction's
      {"ROLLBACK PREPARED 'tx'", End::none},
      {"ROLLBACK TO SAVEPOINT a", End::none},
      {"rollback to a", End::none},
      {"DISCARD PLANS", End::none},
      {"SELECT 1", End::none},
      {"BEGIN; COMMIT", End::none},  // a text of several: followed as answered
      {"", End::none},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.sql);
    EXPECT_EQ(transaction_end(c.sql, detail::sole_statement_verb(c.sql)), c.end);
  }
}

}  // namespace
}  // namespace switchyard::rewrite
