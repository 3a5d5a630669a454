// RecentResults: what a session's memo holds after a sequence of remember() calls.

#include "proxy/recent_results.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace switchyard::proxy {
namespace {

RecentResults::value_type result_with(const std::string& sql) {
  auto r = std::make_shared<rewrite::RewriteResult>();
  r->sql = sql;
  return r;
}

TEST(RecentResultsTest, FindsByKeyAndTextTheLastFour) {
  RecentResults recent;
  EXPECT_EQ(recent.find(1, "a"), nullptr);
  for (const char* text : {"a", "b", "c", "d"}) {
    EXPECT_EQ(recent.remember(1, text, result_with(text))->sql, text);
  }
  for (const char* text : {"a", "b", "c", "d"}) {
    const auto* found = recent.find(1, text);
    ASSERT_NE(found, nullptr) << text;
    EXPECT_EQ((*found)->sql, text);
  }
  EXPECT_EQ(recent.find(2, "a"), nullptr);  // another generation or catalog version
  EXPECT_EQ(recent.find(1, "e"), nullptr);

  recent.remember(1, "e", result_with("e"));  // takes the oldest place
  EXPECT_EQ(recent.find(1, "a"), nullptr);
  ASSERT_NE(recent.find(1, "e"), nullptr);
  ASSERT_NE(recent.find(1, "b"), nullptr);

  recent.clear();
  EXPECT_EQ(recent.find(1, "e"), nullptr);
}

}  // namespace
}  // namespace switchyard::proxy
