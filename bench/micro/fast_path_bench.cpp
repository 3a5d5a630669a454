// Rewriter::may_touch: the check every Query/Parse text goes through. Statements that do not
// name a mapped table are forwarded byte for byte after it, so it is the whole rewrite cost of
// pass-through traffic.

#include <benchmark/benchmark.h>

#include <string>

#include "bench/micro/oltp_corpus.hpp"

namespace {

using switchyard::bench::accounts_migration;
using switchyard::bench::kPassThrough;
using switchyard::bench::kTouching;
using switchyard::rewrite::Migration;
using switchyard::rewrite::Rewriter;

// A second mapped table, as a deployment with two migrations in flight would have.
Rewriter two_migrations() {
  Migration users = accounts_migration();
  users.name = "users";
  users.table = "users";
  users.old_column = "status";
  users.new_column = "state";
  return Rewriter({accounts_migration(), users});
}

void BM_MayTouchPassThrough(benchmark::State& state) {
  const Rewriter rw = two_migrations();
  std::size_t bytes = 0;
  for (const char* sql : kPassThrough) {
    bytes += std::string_view(sql).size();
  }
  for (auto _ : state) {
    for (const char* sql : kPassThrough) {
      benchmark::DoNotOptimize(rw.may_touch(sql));
    }
  }
  state.counters["ns_per_statement"] =
      benchmark::Counter(static_cast<double>(state.iterations() * kPassThrough.size()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_MayTouchPassThrough);

void BM_MayTouchTouching(benchmark::State& state) {
  const Rewriter rw = two_migrations();
  for (auto _ : state) {
    for (const char* sql : kTouching) {
      benchmark::DoNotOptimize(rw.may_touch(sql));
    }
  }
  state.counters["ns_per_statement"] =
      benchmark::Counter(static_cast<double>(state.iterations() * kTouching.size()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_MayTouchTouching);

// A long statement (an ORM's 4 KiB SELECT) that does not name a mapped table: the scan is
// linear in the text, so this is the worst case of the fast path.
void BM_MayTouchLongStatement(benchmark::State& state) {
  const Rewriter rw = two_migrations();
  std::string sql = "SELECT ";
  while (sql.size() < 4096) {
    sql += "pgbench_tellers.tbalance AS t_balance_alias, pgbench_branches.bbalance, ";
  }
  sql += "1 FROM pgbench_tellers JOIN pgbench_branches USING (bid)";
  for (auto _ : state) {
    benchmark::DoNotOptimize(rw.may_touch(sql));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * sql.size()));
}
BENCHMARK(BM_MayTouchLongStatement);

}  // namespace
