#include "proxy/long_rewrite.hpp"

#include <spdlog/spdlog.h>

#include "proxy/catalog_cache.hpp"
#include "proxy/logging.hpp"

namespace switchyard::proxy {

namespace {

// As many catalog rounds as a session on the worker gets (frontend_handler.cpp), here without
// going back to it between them.
constexpr int kCatalogRounds = 2;

}  // namespace

LongRewriteDone LongRewrite::operator()() {
  auto result = std::make_shared<const rewrite::RewriteResult>(
      rules->rewriter->rewrite(sql, context, *rules->catalog));
  for (int round = 0; round < kCatalogRounds && result->outcome == rewrite::Outcome::needs_catalog;
       ++round) {
    const std::string error =
        rules->catalog->fetch(*snapshot->config, database, CatalogWants::of(*result));
    if (!error.empty()) {
      spdlog::error("event=catalog_fetch_failed database={} error={}", log_value(database),
                    log_value(error));
      break;
    }
    result = std::make_shared<const rewrite::RewriteResult>(
        rules->rewriter->rewrite(sql, context, *rules->catalog));
  }
  return {std::move(sql), std::move(result)};
}

}  // namespace switchyard::proxy
