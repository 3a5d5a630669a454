#include "proxy/search_path_value.hpp"

#include <gtest/gtest.h>

namespace switchyard::proxy {
namespace {

// As the server prints a search_path (SHOW, current_setting) and as pg_db_role_setting keeps
// an ALTER ROLE/DATABASE ... SET search_path.
TEST(SearchPathValueTest, SplitsAsPostgresParsesIt) {
  struct Row {
    const char* raw;
    std::vector<std::string> path;
  };
  const Row rows[] = {
      {"\"$user\", public", {"$user", "public"}},
      {"shadow, public", {"shadow", "public"}},
      {"Shadow,PUBLIC", {"shadow", "public"}},
      {"\"My Schema\", public", {"My Schema", "public"}},
      {"\"a,b\"", {"a,b"}},
      {"\"\"", {""}},
      {"", {}},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(split_search_path(row.raw), row.path) << row.raw;
  }
}

}  // namespace
}  // namespace switchyard::proxy
