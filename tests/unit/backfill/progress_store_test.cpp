#include "backfill/progress_store.hpp"

#include <gtest/gtest.h>

namespace switchyard::backfill {
namespace {

TEST(ProgressStoreTest, TextArrayLiteralQuotesEveryElement) {
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{}, "{}"},
      {{"42"}, "{\"42\"}"},
      {{"eu", "7"}, "{\"eu\",\"7\"}"},
      {{"a,b", "{x}"}, "{\"a,b\",\"{x}\"}"},
      {{"say \"hi\"", "back\\slash"}, "{\"say \\\"hi\\\"\",\"back\\\\slash\"}"},
      {{"NULL", ""}, "{\"NULL\",\"\"}"},
  };
  for (const auto& [items, out] : cases) {
    EXPECT_EQ(text_array_literal(items), out);
  }
}

TEST(ProgressStoreTest, FingerprintChangesWithWhatTheWorkMeans) {
  TableSpec base{"public", "t", {{"id", "integer"}}, "a", "b", "", ""};
  auto other_transform = base;
  other_transform.to_new = "upper({value})";
  auto other_key = base;
  other_key.key = {{"id", "integer"}, {"x", "text"}};
  auto other_to_old = base;
  other_to_old.to_old = "lower({value})";  // does not change what a backfill writes
  EXPECT_NE(fingerprint(base), fingerprint(other_transform));
  EXPECT_NE(fingerprint(base), fingerprint(other_key));
  EXPECT_EQ(fingerprint(base), fingerprint(other_to_old));
}

}  // namespace
}  // namespace switchyard::backfill
