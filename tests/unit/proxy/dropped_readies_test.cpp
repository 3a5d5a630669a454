// DroppedReadies: which ReadyForQuery answers a rejection raised through the server.

#include "proxy/dropped_readies.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace switchyard::proxy {
namespace {

struct ReadiesCase {
  const char* name;
  std::vector<std::size_t> owed_before;  // drop_after, in the order the rejections were sent
  std::string dropped;                   // per ReadyForQuery arriving: 'd' dropped, '.' told
};

TEST(DroppedReadiesTest, DropsTheAnswerOfEachRejectionByItsPlace) {
  const std::vector<ReadiesCase> cases = {
      {"nothing to drop", {}, ".."},
      {"nothing owed before", {0}, "d.."},
      // [select pg_sleep] Sync [refused] Sync [select 2] Sync: the first Sync's answer is told.
      {"behind one earlier Sync", {1}, ".d.."},
      {"behind two", {2}, "..d."},
      {"two rejections in one pipeline", {1, 3}, ".d.d."},
      {"two rejections back to back", {0, 1}, "dd."},
  };
  for (const ReadiesCase& c : cases) {
    DroppedReadies readies;
    for (std::size_t owed : c.owed_before) {
      readies.drop_after(owed);
    }
    std::string dropped;
    for (std::size_t i = 0; i < c.dropped.size(); ++i) {
      dropped += readies.on_ready() ? 'd' : '.';
    }
    EXPECT_EQ(dropped, c.dropped) << c.name;
  }
}

// An error in the extended-protocol messages of a batch makes the server skip the Queries after
// them up to the Sync: a rejection among them raises nothing and earns no ReadyForQuery, and a
// client's Query skipped there no longer comes before a later rejection's.
TEST(DroppedReadiesTest, QueriesSkippedAfterAnErrorInTheirBatchAreNoLongerAwaited) {
  struct Case {
    const char* name;
    std::vector<std::pair<char, std::size_t>> rejections;  // 'd' drop_after, 'p' pass_after
    std::size_t skipped;                                   // on_skipped
    std::size_t rejections_skipped;
    std::string dropped;  // per ReadyForQuery arriving after it
  };
  const std::vector<Case> cases = {
      // Execute("") [fails], refused Parse, Sync; refused Parse, Sync.
      {"the rejection in the failed batch", {{'d', 0}, {'d', 2}}, 1, 1, ".d."},
      // Execute("") [fails], Query, refused Parse, Sync: the Sync's answer is the client's.
      {"behind a skipped client's Query", {{'d', 1}}, 2, 1, ".."},
      // Execute("") [fails], Query, Sync, refused Parse, Sync.
      {"a later rejection moves up", {{'d', 2}}, 1, 0, ".d."},
      // Execute("") [fails], refused Query, Sync: its answer was the client's anyway.
      {"a rejected Query", {{'p', 0}}, 1, 1, ".."},
      {"a rejected Query that runs is told", {{'p', 0}, {'d', 1}}, 0, 0, ".d."},
  };
  for (const Case& c : cases) {
    DroppedReadies readies;
    for (const auto& [kind, owed] : c.rejections) {
      if (kind == 'd') {
        readies.drop_after(owed);
      } else {
        readies.pass_after(owed);
      }
    }
    EXPECT_EQ(readies.on_skipped(c.skipped), c.rejections_skipped) << c.name;
    std::string dropped;
    for (std::size_t i = 0; i < c.dropped.size(); ++i) {
      dropped += readies.on_ready() ? 'd' : '.';
    }
    EXPECT_EQ(dropped, c.dropped) << c.name;
  }
}

}  // namespace
}  // namespace switchyard::proxy
