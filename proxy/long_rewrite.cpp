#include "proxy/long_rewrite.hpp"

#include <malloc.h>

#include "proxy/catalog_cache.hpp"

namespace switchyard::proxy {

namespace {

// The texts the rewrite caches do not keep (README, "a text over 4 MiB is rewritten every time").
constexpr std::size_t kTrimAfterBytes = std::size_t{4} << 20;

// As many catalog rounds as a session on the worker gets (frontend_handler.cpp), here without
// going back to it between them.
constexpr int kCatalogRounds = 2;

}  // namespace

LongRewriteDone LongRewrite::operator()() {
  auto result = std::make_shared<const rewrite::RewriteResult>(
      rules->rewriter->rewrite(sql, context, *rules->catalog));
  LongRewriteDone done;
  for (int round = 0; round < kCatalogRounds && result->outcome == rewrite::Outcome::needs_catalog;
       ++round) {
    done.catalog_wants = CatalogWants::of(*result);
    done.catalog_error = rules->catalog->fetch(*snapshot->config, database, done.catalog_wants,
                                               &done.catalog_connect_failed);
    if (!done.catalog_error.empty()) {
      break;
    }
    result = std::make_shared<const rewrite::RewriteResult>(
        rules->rewriter->rewrite(sql, context, *rules->catalog));
  }
  // The parse of such a text peaks at many times its size; glibc keeps what was freed for
  // later, so a proxy that took one bulk load would hold that peak for good.
  if (sql.size() > kTrimAfterBytes) {
    malloc_trim(0);
  }
  done.sql = std::move(sql);
  done.result = std::move(result);
  return done;
}

}  // namespace switchyard::proxy
