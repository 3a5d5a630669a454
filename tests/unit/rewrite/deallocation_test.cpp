// deallocation: statement text in, the prepared statements it removes out.

#include "rewrite/deallocation.hpp"

#include <gtest/gtest.h>

namespace switchyard::rewrite {
namespace {

struct DeallocationCase {
  const char* sql;
  bool deallocates;
  bool all = false;
  std::vector<std::string> names = {};
};

TEST(DeallocationTest, Table) {
  const DeallocationCase cases[] = {
      {"SELECT 1", false},
      {"DEALLOCATE _pg3_12", true, false, {"_pg3_12"}},
      {"deallocate prepare \"Mixed\"", true, false, {"Mixed"}},
      {"DEALLOCATE ALL", true, true},
      {"DISCARD ALL", true, true},
      {"DISCARD PLANS", false},
      {"DEALLOCATE a; DEALLOCATE b", true, false, {"a", "b"}},
      {"SELECT 'deallocate x'", false},
      {"DEALLOCATE", false},  // bad SQL: the server refuses it
      // One statement is judged by its first word, after blanks and comments.
      {"/* pool */ -- reset\r\n  DEALLOCATE s1 ;\n", true, false, {"s1"}},
      {"SELECT 1; DISCARD ALL", true, true},
      {"UPDATE t SET note = 'deallocate';", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.sql);
    auto found = deallocation(c.sql);
    ASSERT_EQ(found.has_value(), c.deallocates);
    if (found) {
      EXPECT_EQ(found->all, c.all);
      EXPECT_EQ(found->names, c.names);
    }
  }
}

}  // namespace
}  // namespace switchyard::rewrite
