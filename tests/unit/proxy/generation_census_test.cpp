#include "proxy/generation_census.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace switchyard::proxy {
namespace {

TEST(GenerationCensusTest, CountsOpenBlocksOlderThanTheLatest) {
  struct Case {
    std::vector<std::uint64_t> began;  // one open block each
    std::vector<std::uint64_t> ended;
    std::uint64_t latest;
    std::uint64_t sessions;
    std::optional<std::uint64_t> oldest;
  };
  constexpr std::uint64_t kSlots = GenerationCensus::kSlots;
  const std::vector<Case> cases = {
      {{}, {}, 5, 0, std::nullopt},
      {{5, 5}, {}, 5, 0, std::nullopt},  // on the latest: not older
      {{3, 4, 4, 5}, {}, 5, 3, 3},
      {{3, 4}, {3}, 5, 1, 4},  // its COMMIT takes it out
      {{1}, {}, 1, 0, std::nullopt},
      {{kSlots + 1}, {}, kSlots + 10, 1, kSlots + 1},
      // A block that outlived the ring still counts as older, under a later number.
      {{3}, {}, kSlots + 5, 1, kSlots + 3},
  };
  for (const auto& c : cases) {
    GenerationCensus census;
    for (auto g : c.began) {
      census.began(g);
    }
    for (auto g : c.ended) {
      census.ended(g);
    }
    GenerationCensus total;
    census.add_to(total);
    const auto older = total.older_than(c.latest);
    EXPECT_EQ(older.sessions, c.sessions) << "latest " << c.latest;
    EXPECT_EQ(older.oldest, c.oldest) << "latest " << c.latest;
  }
}

}  // namespace
}  // namespace switchyard::proxy
