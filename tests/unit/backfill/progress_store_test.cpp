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

// A column dropped and added again has another attnum and none of the values written before:
// saved work for it is not this work. A fingerprint saved before attnums were named still is.
TEST(ProgressStoreTest, SameWorkNeedsTheSameColumnsByAttnum) {
  TableSpec base{"public", "t", {{"id", "integer"}}, "a", "b", "", ""};
  base.old_attnum = 2;
  base.new_attnum = 3;
  auto readded = base;
  readded.new_attnum = 4;
  auto unnumbered = base;
  unnumbered.old_attnum = 0;
  unnumbered.new_attnum = 0;
  struct Case {
    const char* what;
    std::string saved;
    const char* suffix;
    bool same;
  };
  const Case cases[] = {
      {"the same columns", fingerprint(base), "", true},
      {"saved by an earlier version", fingerprint(unnumbered), "", true},
      {"the new column added again", fingerprint(readded), "", false},
      {"a verify of the same columns", fingerprint(base) + " to_old x", " to_old x", true},
      {"a verify of the re-added column", fingerprint(readded) + " to_old x", " to_old x", false},
      {"a verify saved by an earlier version", fingerprint(unnumbered) + " to_old x", " to_old x",
       true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(same_work(c.saved, base, c.suffix), c.same) << c.what;
  }
}

}  // namespace
}  // namespace switchyard::backfill
