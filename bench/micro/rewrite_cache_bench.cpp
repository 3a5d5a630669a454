// The rewrite cache as the proxy uses it (proxy/session_rewrite.cpp): may_touch, then a
// look-up keyed by (generation, session context, text); on a miss the engine rewrites and the
// result is inserted.

#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "bench/micro/oltp_corpus.hpp"
#include "rewrite/cache.hpp"

namespace {

using switchyard::bench::accounts_migration;
using switchyard::bench::kTouching;
using switchyard::bench::pgbench_catalog;
using switchyard::rewrite::Outcome;
using switchyard::rewrite::RewriteCache;
using switchyard::rewrite::Rewriter;
using switchyard::rewrite::RewriteResult;
using switchyard::rewrite::SessionContext;

constexpr std::size_t kProxyCacheEntries = 16384;  // as proxy/proxy_state.hpp

const std::string& context_key() {
  // user, then the search path, NUL-separated (SessionRewrite::set_search_path).
  static const std::string key = std::string("postgres") + '\0' + "$user" + '\0' + "public";
  return key;
}

// A hit: every corpus statement is in the cache; each iteration looks up all of them.
void BM_CacheHit(benchmark::State& state) {
  const Rewriter rw({accounts_migration()});
  const auto catalog = pgbench_catalog();
  const SessionContext session{{"$user", "public"}, "postgres"};
  RewriteCache cache(kProxyCacheEntries);
  for (const char* sql : kTouching) {
    cache.insert(1, context_key(), sql,
                 std::make_shared<const RewriteResult>(rw.rewrite(sql, session, catalog)));
  }
  for (auto _ : state) {
    for (const char* sql : kTouching) {
      if (!rw.may_touch(sql)) {
        state.SkipWithError("corpus statement not caught by may_touch");
        return;
      }
      auto hit = cache.find(1, context_key(), sql);
      benchmark::DoNotOptimize(hit);
    }
  }
  state.counters["ns_per_statement"] =
      benchmark::Counter(static_cast<double>(state.iterations() * kTouching.size()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_CacheHit);

// A miss of one corpus statement (the argument is its index): look-up, rewrite, insert. The
// generation changes every iteration so that each look-up misses, as after a flip.
void BM_CacheMiss(benchmark::State& state) {
  const char* sql = kTouching.at(static_cast<std::size_t>(state.range(0)));
  const Rewriter rw({accounts_migration()});
  const auto catalog = pgbench_catalog();
  const SessionContext session{{"$user", "public"}, "postgres"};
  const RewriteResult probe = rw.rewrite(sql, session, catalog);
  if (probe.outcome != Outcome::rewritten && probe.outcome != Outcome::unchanged) {
    state.SkipWithError(("corpus statement not rewritable: " + probe.reason).c_str());
    return;
  }
  state.SetLabel(probe.outcome == Outcome::rewritten ? "rewritten" : "unchanged");
  RewriteCache cache(kProxyCacheEntries);
  std::uint64_t generation = 0;
  for (auto _ : state) {
    ++generation;
    if (!rw.may_touch(sql)) {
      state.SkipWithError("corpus statement not caught by may_touch");
      return;
    }
    if (cache.find(generation, context_key(), sql) == nullptr) {
      auto result = std::make_shared<const RewriteResult>(rw.rewrite(sql, session, catalog));
      cache.insert(generation, context_key(), sql, std::move(result));
    }
  }
}
BENCHMARK(BM_CacheMiss)->DenseRange(0, static_cast<int>(kTouching.size()) - 1);

}  // namespace
