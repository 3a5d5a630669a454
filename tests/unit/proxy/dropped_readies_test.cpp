// DroppedReadies: which ReadyForQuery answers a rejection raised through the server.

#include "proxy/dropped_readies.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <string>
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

// Behind extended-protocol messages of its batch, a rejection is skipped by the server when one
// of them fails: that error is not the rejection's own, and no ReadyForQuery answers it.
TEST(DroppedReadiesTest, ARejectionSkippedAfterAnErrorInItsBatchIsNoLongerAwaited) {
  struct Event {
    char what;      // 'e' an error, 'r' the rejection's own error, 'z' a ReadyForQuery
    bool expected;  // on_error: skipped; on_ready: dropped
  };
  const std::vector<std::pair<const char*, std::vector<Event>>> cases = {
      {"the rejection runs", {{'r', false}, {'z', true}, {'z', false}}},
      {"an earlier message fails", {{'e', true}, {'z', false}}},
  };
  for (const auto& [name, events] : cases) {
    DroppedReadies readies;
    readies.drop_after(0, true);
    readies.drop_after(2, false);  // a later rejection, behind the batch's Sync
    for (const Event& e : events) {
      const bool got = e.what == 'z' ? readies.on_ready() : readies.on_error(e.what == 'r');
      EXPECT_EQ(got, e.expected) << name << " at " << e.what;
    }
    // The later rejection's answer is the next ReadyForQuery in both cases.
    EXPECT_TRUE(readies.on_ready()) << name;
  }
  DroppedReadies first_in_batch;
  first_in_batch.drop_after(0, false);
  EXPECT_FALSE(first_in_batch.on_error(false));  // its own error, whatever its SQLSTATE
  EXPECT_TRUE(first_in_batch.on_ready());
}

}  // namespace
}  // namespace switchyard::proxy
