// The counters one pass-through statement bumps (proxy/frontend_handler.*, backend_handler.hpp),
// from 1 and 2 threads: all threads on one block, as before per-worker blocks, or each thread
// on its own (MetricsShards::worker). The gap at 2 threads is the most two workers could pay
// per statement for pulling the same cache lines back and forth: here they do nothing else, so
// every line is always on the other core.

#include <benchmark/benchmark.h>

#include <cstddef>

#include "proxy/metrics_shards.hpp"

namespace {

using switchyard::proxy::Metrics;
using switchyard::proxy::MetricsShards;

MetricsShards& shards() {
  static MetricsShards instance;
  return instance;
}

void count_one_statement(Metrics& m) {
  constexpr auto relaxed = std::memory_order_relaxed;
  m.bytes_from_clients.fetch_add(61, relaxed);
  m.queries_simple.fetch_add(1, relaxed);
  m.count_statement("SELECT abalance FROM pgbench_accounts WHERE aid = 48213;");
  m.bytes_from_upstream.fetch_add(96, relaxed);
  m.observe_query_seconds(0.00012);
  m.transactions.fetch_add(1, relaxed);
}

// Arg 0: every thread on the shared block; 1: each thread on its own worker block.
void BM_StatementCounters(benchmark::State& state) {
  Metrics& block = state.range(0) == 0
                       ? shards().shared()
                       : shards().worker(static_cast<std::size_t>(state.thread_index()));
  for (auto _ : state) {
    count_one_statement(block);
  }
}
BENCHMARK(BM_StatementCounters)->Arg(0)->Arg(1)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
