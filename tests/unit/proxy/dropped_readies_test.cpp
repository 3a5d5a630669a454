// DroppedReadies: which ReadyForQuery answers a rejection raised through the server.

#include "proxy/dropped_readies.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <vector>

namespace switchyard::proxy {
namespace {

struct Case {
  const char* name;
  std::vector<std::size_t> owed_before;  // drop_after, in the order the rejections were sent
  std::string dropped;                   // per ReadyForQuery arriving: 'd' dropped, '.' told
};

TEST(DroppedReadiesTest, DropsTheAnswerOfEachRejectionByItsPlace) {
  const std::vector<Case> cases = {
      {"nothing to drop", {}, ".."},
      {"nothing owed before", {0}, "d.."},
      // [select pg_sleep] Sync [refused] Sync [select 2] Sync: the first Sync's answer is told.
      {"behind one earlier Sync", {1}, ".d.."},
      {"behind two", {2}, "..d."},
      {"two rejections in one pipeline", {1, 3}, ".d.d."},
      {"two rejections back to back", {0, 1}, "dd."},
  };
  for (const Case& c : cases) {
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

}  // namespace
}  // namespace switchyard::proxy
