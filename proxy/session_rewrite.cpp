#include "proxy/session_rewrite.hpp"

#include <spdlog/spdlog.h>

#include "proxy/logging.hpp"

namespace switchyard::proxy {

SessionRewrite::SessionRewrite(ProxyState& state, std::string user, std::string database,
                               std::vector<std::string> search_path)
    : state_(state), database_(std::move(database)) {
  context_.user = std::move(user);
  if (!search_path.empty()) {
    context_.search_path = std::move(search_path);
  }
  // The cache key part that makes two sessions resolve names alike.
  context_key_ = context_.user;
  for (const auto& schema : context_.search_path) {
    context_key_.push_back('\0');
    context_key_ += schema;
  }
  set_snapshot(state_.snapshot());
}

void SessionRewrite::set_snapshot(std::shared_ptr<const Snapshot> snapshot) {
  snapshot_ = std::move(snapshot);
  rules_ = snapshot_->for_database(database_);
}

bool SessionRewrite::adopt_latest() {
  auto latest = state_.snapshot();
  if (latest->generation == snapshot_->generation) {
    return false;
  }
  set_snapshot(std::move(latest));
  return true;
}

std::shared_ptr<const rewrite::RewriteResult> SessionRewrite::rewrite(std::string_view sql) {
  if (rules_ == nullptr || !rules_->rewriter->may_touch(sql)) {
    return nullptr;
  }
  // The catalog version is part of the key: a result computed from dropped catalog content
  // must not be served again.
  std::uint64_t key = (snapshot_->generation << 32) | (rules_->catalog->version() & 0xffffffffu);
  auto& cache = state_.rewrite_cache;
  if (auto hit = cache.find(key, context_key_, sql)) {
    return hit;
  }
  auto result = std::make_shared<const rewrite::RewriteResult>(
      rules_->rewriter->rewrite(sql, context_, *rules_->catalog));
  if (result->outcome != rewrite::Outcome::needs_catalog) {
    cache.insert(key, context_key_, sql, result);
  }
  return result;
}

net::awaitable<void> SessionRewrite::fetch_missing(const rewrite::RewriteResult& result) {
  std::vector<std::string> tables;
  for (const auto& name : result.missing) {
    if (std::find(tables.begin(), tables.end(), name.table) == tables.end()) {
      tables.push_back(name.table);
    }
  }
  auto snapshot = snapshot_;
  auto catalog = rules_->catalog;
  std::string database = database_;
  // libpq blocks: run it on the catalog thread and resume here when it is done.
  std::string error = co_await net::co_spawn(
      state_.catalog_pool.get_executor(),
      [snapshot, catalog, database, tables]() -> net::awaitable<std::string> {
        auto client = CatalogClient::connect(*snapshot->config, database);
        if (auto* e = std::get_if<std::string>(&client)) {
          co_return *e;
        }
        auto loaded = std::get<std::unique_ptr<CatalogClient>>(client)->load(tables);
        if (auto* e = std::get_if<std::string>(&loaded)) {
          co_return *e;
        }
        catalog->add(std::get<std::vector<RelationColumns>>(loaded), tables);
        co_return std::string();
      },
      net::use_awaitable);
  if (!error.empty()) {
    spdlog::error("event=catalog_fetch_failed database={} error={}", log_value(database_),
                  log_value(error));
  }
}

void SessionRewrite::after_transaction() {
  if (!ddl_pending_ || rules_ == nullptr) {
    return;
  }
  ddl_pending_ = false;
  rules_->catalog->invalidate(rules_->mapped_tables);
  spdlog::info("event=catalog_invalidated database={} reason=ddl_on_mapped_table",
               log_value(database_));
}

}  // namespace switchyard::proxy
