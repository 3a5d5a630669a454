// The rewrite cache as the proxy uses it (proxy/session_rewrite.cpp): may_touch, then a
// look-up keyed by (generation, session context, text); on a miss the engine rewrites and the
// result is inserted.

#include <benchmark/benchmark.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "bench/micro/oltp_corpus.hpp"
#include "rewrite/cache.hpp"
#include "rewrite/literal_shape.hpp"
#include "rewrite/shape_recipe.hpp"

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

// A miss of a text whose literal shape is cached, as with pgbench -M simple, where every text
// carries its own values: look-up of the text, its shape, look-up of the shape, fill. The
// argument picks the pgbench statement. As in the proxy, the shape and the filled text reuse
// their buffers, and the shape's rewrite is cut at its placeholders once (a session keeps it).
void BM_ShapeHit(benchmark::State& state) {
  static constexpr std::array kShapes = {
      "SELECT abalance FROM pgbench_accounts WHERE aid = {};",
      "UPDATE pgbench_accounts SET abalance = abalance + -{} WHERE aid = {};",
  };
  const std::string pattern = kShapes.at(static_cast<std::size_t>(state.range(0)));
  std::vector<std::string> texts;
  for (int i = 0; i < 4096; ++i) {
    std::string text = pattern;
    for (auto at = text.find("{}"); at != std::string::npos; at = text.find("{}")) {
      text.replace(at, 2, std::to_string(1 + (i * 7919) % 100000));
    }
    texts.push_back(std::move(text));
  }
  const Rewriter rw({accounts_migration()});
  const auto catalog = pgbench_catalog();
  const SessionContext session{{"$user", "public"}, "postgres"};
  RewriteCache cache(kProxyCacheEntries);
  RewriteCache shapes(kProxyCacheEntries);
  auto first = switchyard::rewrite::literal_shape(texts[0]);
  shapes.insert(1, context_key(), first->key,
                std::make_shared<const RewriteResult>(rw.rewrite(first->key, session, catalog)));
  const auto filler =
      switchyard::rewrite::LiteralTemplate::of(*shapes.find(1, context_key(), first->key));
  switchyard::rewrite::LiteralShape shape;
  std::string filled;
  std::size_t next = 0;
  for (auto _ : state) {
    const std::string& sql = texts[next++ % texts.size()];
    if (!rw.may_touch(sql) || cache.find(1, context_key(), sql) != nullptr) {
      state.SkipWithError("text cached or not caught by may_touch");
      return;
    }
    if (!switchyard::rewrite::take_literal_shape(sql, shape) ||
        shapes.find(1, context_key(), shape.key) == nullptr) {
      state.SkipWithError("no shape");
      return;
    }
    if (!filler || filler->unchanged() || !filler->fill(shape.literals, filled)) {
      state.SkipWithError("shape not reusable");
      return;
    }
    benchmark::DoNotOptimize(filled);
  }
}
BENCHMARK(BM_ShapeHit)->DenseRange(0, 1);

// Taking a text's literal shape alone, as every -M simple statement naming a mapped table
// does: pgbench's SELECT (1 literal), its UPDATE (2) and an INSERT of 4 literals.
const std::array<std::string, 3> kShapeTexts = {
    "SELECT abalance FROM pgbench_accounts WHERE aid = 12345;",
    "UPDATE pgbench_accounts SET abalance = abalance + -4321 WHERE aid = 98765;",
    "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (7, 1, 98765, -4321, "
    "CURRENT_TIMESTAMP);"};

void BM_TakeLiteralShape(benchmark::State& state) {
  const std::string& sql = kShapeTexts.at(static_cast<std::size_t>(state.range(0)));
  switchyard::rewrite::LiteralShape shape;
  for (auto _ : state) {
    if (!switchyard::rewrite::take_literal_shape(sql, shape)) {
      state.SkipWithError("no shape");
      return;
    }
    benchmark::DoNotOptimize(shape.key.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * sql.size()));
}
BENCHMARK(BM_TakeLiteralShape)->DenseRange(0, 2);

// The same texts recognised by a session's recipes instead (the recipes of all three kept, the
// text's tried last), as a session's next text of a shape it reused is.
void BM_RecipeMatch(benchmark::State& state) {
  const std::string& sql = kShapeTexts.at(static_cast<std::size_t>(state.range(0)));
  switchyard::rewrite::RecentRecipes recipes;
  switchyard::rewrite::LiteralShape shape;
  for (std::size_t i = 1; i <= kShapeTexts.size(); ++i) {
    const std::string& other =
        kShapeTexts[(static_cast<std::size_t>(state.range(0)) + i) % kShapeTexts.size()];
    if (!switchyard::rewrite::take_literal_shape(other, shape)) {
      state.SkipWithError("no shape");
      return;
    }
    recipes.remember(other, shape);
  }
  for (auto _ : state) {
    if (!recipes.match(sql, shape)) {
      state.SkipWithError("not recognised");
      return;
    }
    benchmark::DoNotOptimize(shape.key.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * sql.size()));
}
BENCHMARK(BM_RecipeMatch)->DenseRange(0, 2);

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
