// quote_ident: a name in, the identifier the rewrite writes out. Each name is asked twice, the
// second time from the keyword answers remembered by the first.

#include "rewrite/sql_text.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string_view>

namespace switchyard::rewrite::detail {
namespace {

struct Case {
  const char* name;
  const char* written;
};

TEST(QuoteIdentTest, BareOnlyWhenPostgresReadsItBackUnchanged) {
  const Case cases[] = {
      {"abalance", "abalance"},
      {"abalance_v2", "abalance_v2"},
      {"_x$1", "_x$1"},
      {"name", "name"},            // an unreserved keyword
      {"select", "\"select\""},    // reserved
      {"user", "\"user\""},        // reserved
      {"between", "\"between\""},  // a column-name keyword
      {"Email", "\"Email\""},      // upper case would be folded
      {"1st", "\"1st\""},
      {"$x", "\"$x\""},
      {"first name", "\"first name\""},
      {"say\"hi", "\"say\"\"hi\""},
      {"", "\"\""},
  };
  for (int round = 0; round < 2; ++round) {
    for (const auto& c : cases) {
      SCOPED_TRACE(c.name);
      EXPECT_EQ(quote_ident(c.name), c.written);
    }
  }
}

TEST(SoleStatementVerbTest, FirstWordOfOneStatementOnly) {
  struct Verb {
    const char* sql;
    std::optional<std::string_view> verb;
  };
  const Verb cases[] = {
      {"SELECT 1", "SELECT"},
      {"  set search_path = a;  \n", "set"},
      {"/* a /* nested */ one */ -- line\n\tDISCARD ALL", "DISCARD"},
      {"-- ends at a carriage return\rRESET ALL", "RESET"},
      {"UPDATE t SET a = 1 ;", "UPDATE"},
      {"SELECT 1; SET search_path = b", std::nullopt},  // maybe several statements
      {"SELECT ';'", std::nullopt},                     // a ';' before the end: not judged
      {"(SELECT 1)", std::nullopt},                     // no letter first
      {"-- only a comment", std::nullopt},
      {"/* never ends", std::nullopt},
      {"", std::nullopt},
  };
  for (const Verb& c : cases) {
    SCOPED_TRACE(c.sql);
    EXPECT_EQ(sole_statement_verb(c.sql), c.verb);
  }
}

}  // namespace
}  // namespace switchyard::rewrite::detail
