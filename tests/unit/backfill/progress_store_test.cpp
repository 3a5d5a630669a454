#include "backfill/progress_store.hpp"

#include <gtest/gtest.h>

namespace switchyard::backfill {
namespace {

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
