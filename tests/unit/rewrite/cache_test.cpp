#include "rewrite/cache.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace switchyard::rewrite {
namespace {

std::shared_ptr<const RewriteResult> result(std::string sql) {
  auto r = std::make_shared<RewriteResult>();
  r->outcome = Outcome::rewritten;
  r->sql = std::move(sql);
  return r;
}

TEST(RewriteCacheTest, MissThenHit) {
  RewriteCache cache(100);
  EXPECT_EQ(cache.find(1, "ctx", "SELECT 1"), nullptr);
  cache.insert(1, "ctx", "SELECT 1", result("x"));
  auto hit = cache.find(1, "ctx", "SELECT 1");
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->sql, "x");
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.misses(), 1u);
}

TEST(RewriteCacheTest, GenerationAndContextArePartOfTheKey) {
  RewriteCache cache(100);
  cache.insert(1, "ctx", "SELECT 1", result("x"));
  EXPECT_EQ(cache.find(2, "ctx", "SELECT 1"), nullptr);
  EXPECT_EQ(cache.find(1, "other", "SELECT 1"), nullptr);
  EXPECT_EQ(cache.find(1, "ctx", "SELECT 2"), nullptr);
  EXPECT_NE(cache.find(1, "ctx", "SELECT 1"), nullptr);
}

TEST(RewriteCacheTest, InsertReplacesAnExistingEntry) {
  RewriteCache cache(100);
  cache.insert(1, "c", "q", result("a"));
  cache.insert(1, "c", "q", result("b"));
  EXPECT_EQ(cache.find(1, "c", "q")->sql, "b");
  EXPECT_EQ(cache.size(), 1u);
}

TEST(RewriteCacheTest, BoundedByCapacity) {
  RewriteCache cache(32);
  for (int i = 0; i < 1000; ++i) {
    cache.insert(1, "c", "SELECT " + std::to_string(i), result("r"));
  }
  EXPECT_LE(cache.size(), 32u);
  // The most recent entry survives.
  EXPECT_NE(cache.find(1, "c", "SELECT 999"), nullptr);
}

TEST(RewriteCacheTest, BoundedByBytesOfText) {
  // 16 shards of 4 KiB: 1 KiB texts, all different, as bulk INSERTs of other values are.
  RewriteCache cache(16384, 16 * 4096);
  const std::string big(1000, 'x');
  for (int i = 0; i < 1000; ++i) {
    cache.insert(1, "c", std::to_string(i) + big, result(big));
  }
  EXPECT_LE(cache.bytes(), 16u * 4096u);
  EXPECT_LT(cache.size(), 64u);
  EXPECT_NE(cache.find(1, "c", "999" + big), nullptr);
  // A text larger than a shard's share is not kept; replacing an entry counts it once.
  cache.insert(1, "c", std::string(5000, 'y'), result("r"));
  EXPECT_EQ(cache.find(1, "c", std::string(5000, 'y')), nullptr);
  RewriteCache small(100, 16 * 4096);
  small.insert(1, "c", "q", result("a"));
  small.insert(1, "c", "q", result("bb"));
  EXPECT_EQ(small.bytes(), 1u + 1u + 2u);
  EXPECT_EQ(small.size(), 1u);
}

TEST(RewriteCacheTest, ChargesThePositionMapToo) {
  RewriteCache cache(100, 16 * 4096);
  auto mapped = std::make_shared<RewriteResult>();
  mapped->outcome = Outcome::rewritten;
  mapped->sql = "ab";
  mapped->positions.spans.resize(10);
  cache.insert(1, "c", "q", mapped);
  EXPECT_EQ(cache.bytes(), 1u + 1u + 2u + 10u * sizeof(PositionMap::Span));
}

TEST(RewriteCacheTest, ConcurrentUse) {
  RewriteCache cache(1000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string q = "SELECT " + std::to_string(i % 300);
        if (cache.find(static_cast<std::uint64_t>(t % 2), "c", q) == nullptr) {
          cache.insert(static_cast<std::uint64_t>(t % 2), "c", q, result(q));
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(cache.hits() + cache.misses(), 8000u);
  auto r = cache.find(0, "c", "SELECT 5");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->sql, "SELECT 5");
}

}  // namespace
}  // namespace switchyard::rewrite
