// deallocation: statement text in, the prepared statements it removes out.

#include "rewrite/deallocation.hpp"

#include <gtest/gtest.h>

namespace switchyard::rewrite {
namespace {

struct DeallocationCase {
  const char* sql;
  bool deallocates;
  std::vector<std::string> names = {};  // one per statement; "" for all
};

TEST(DeallocationTest, Table) {
  const DeallocationCase cases[] = {
      {"SELECT 1", false},
      {"DEALLOCATE _pg3_12", true, {"_pg3_12"}},
      {"deallocate prepare \"Mixed\"", true, {"Mixed"}},
      {"DEALLOCATE ALL", true, {""}},
      {"DISCARD ALL", true, {""}},
      {"DISCARD PLANS", false},
      {"DEALLOCATE a; DEALLOCATE b", true, {"a", "b"}},
      {"DEALLOCATE a; DISCARD ALL; DEALLOCATE PREPARE ALL", true, {"a", "", ""}},
      {"SELECT 'deallocate x'", false},
      {"DEALLOCATE", false},  // bad SQL: the server refuses it
      // One statement is judged by its first word, after blanks and comments.
      {"/* pool */ -- reset\r\n  DEALLOCATE s1 ;\n", true, {"s1"}},
      {"SELECT 1; DISCARD ALL", true, {""}},
      {"UPDATE t SET note = 'deallocate';", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.sql);
    auto found = deallocation(c.sql);
    ASSERT_EQ(found.has_value(), c.deallocates);
    if (found) {
      EXPECT_EQ(found->names, c.names);
    }
  }
}

}  // namespace
}  // namespace switchyard::rewrite
