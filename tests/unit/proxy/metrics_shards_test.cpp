#include "proxy/metrics_shards.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace switchyard::proxy {
namespace {

TEST(MetricsShardsTest, EachWorkerHasItsOwnBlock) {
  MetricsShards shards;
  Metrics& first = shards.worker(0);
  Metrics& second = shards.worker(1);
  EXPECT_NE(&first, &second);
  EXPECT_NE(&first, &shards.shared());
  EXPECT_EQ(&first, &shards.worker(0));
}

TEST(MetricsShardsTest, WorkersPastTheCapacityShareTheLastBlock) {
  MetricsShards shards;
  Metrics& last = shards.worker(MetricsShards::kCapacity - 2);
  EXPECT_EQ(&last, &shards.worker(MetricsShards::kCapacity - 1));
  EXPECT_EQ(&last, &shards.worker(100000));
}

TEST(MetricsShardsTest, TotalAddsUpEveryBlock) {
  MetricsShards shards;
  Metrics& a = shards.worker(0);
  Metrics& b = shards.worker(3);
  a.connections_total += 2;
  b.connections_total += 5;
  a.connections_active += 1;
  b.connections_active += 2;
  shards.shared().reloads_ok += 4;
  shards.shared().config_generation = 9;
  a.count_statement("SELECT 1");
  b.count_statement("select 2");
  b.count_error_sqlstate("40001");
  a.observe_query_seconds(0.001);
  b.observe_query_seconds(3);
  rewrite::RewriteResult r;
  r.outcome = rewrite::Outcome::rewritten;
  r.uses.push_back({"m", 1, 0, 0, 0, true});
  a.record_rewrite(r);
  b.record_rewrite(r);
  r.uses.front().migration = "only-in-b";
  b.record_rewrite(r);

  auto total = shards.total();
  EXPECT_EQ(total->connections_total.load(), 7u);
  EXPECT_EQ(total->connections_active.load(), 3);
  EXPECT_EQ(shards.connections_active(), 3);
  EXPECT_EQ(total->reloads_ok.load(), 4u);
  EXPECT_EQ(total->config_generation.load(), 9u);
  EXPECT_EQ(total->statements_by_kind[static_cast<std::size_t>(StatementClass::select)].load(), 2u);
  EXPECT_EQ(total->upstream_errors_by_sqlstate_class[4 * 36 + 0].load(), 1u);
  auto latency = total->query_seconds.sample();
  EXPECT_EQ(latency.count, 2u);
  EXPECT_NEAR(latency.sum_seconds, 3.001, 1e-9);
  auto entries = total->migrations.entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0]->name, "m");
  EXPECT_EQ(entries[0]->statements_rewritten.load(), 2u);
  EXPECT_EQ(entries[0]->reads_of_old.load(), 2u);
  EXPECT_EQ(entries[1]->name, "only-in-b");
  EXPECT_EQ(entries[1]->statements_rewritten.load(), 1u);
  // Reading leaves the blocks as they were.
  EXPECT_EQ(a.connections_total.load(), 2u);
  EXPECT_EQ(shards.total()->connections_total.load(), 7u);
}

// A scrape runs while workers count and new workers' blocks appear (ThreadSanitizer stage).
TEST(MetricsShardsTest, TotalWhileWorkersCount) {
  MetricsShards shards;
  constexpr int kWorkers = 4;
  constexpr int kCounts = 20000;
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&shards, w] {
      Metrics& mine = shards.worker(static_cast<std::size_t>(w));
      for (int i = 0; i < kCounts; ++i) {
        mine.queries_simple.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  std::uint64_t seen = 0;
  for (int i = 0; i < 50; ++i) {
    auto now = shards.total()->queries_simple.load();
    EXPECT_GE(now, seen);  // counters only grow
    seen = now;
  }
  for (auto& t : workers) {
    t.join();
  }
  EXPECT_EQ(shards.total()->queries_simple.load(), std::uint64_t{kWorkers} * kCounts);
}

}  // namespace
}  // namespace switchyard::proxy
