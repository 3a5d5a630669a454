#include "proxy/catalog_watch.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "proxy/logging.hpp"
#include "proxy/thread_name.hpp"

namespace switchyard::proxy {

namespace {

// With the check off, how often to look whether a reload turned it on.
constexpr std::chrono::milliseconds kWhileOff{1000};

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    out += (out.empty() ? "" : ",") + name;
  }
  return out;
}

}  // namespace

CatalogDrift find_drift(const DatabaseRewrite& database, const std::vector<std::string>& tables,
                        const std::vector<RelationColumns>& relations,
                        const std::vector<Descendant>& descendants) {
  CatalogDrift drift;
  drift.changed_tables = database.catalog->changed_tables(relations, tables);
  // Both lists come from the same ordered query.
  drift.rebuild =
      descendants != database.descendants ||
      std::any_of(
          drift.changed_tables.begin(), drift.changed_tables.end(), [&](const std::string& table) {
            return std::find(database.mapped_tables.begin(), database.mapped_tables.end(), table) !=
                   database.mapped_tables.end();
          });
  return drift;
}

CatalogWatch::CatalogWatch(std::shared_ptr<ProxyState> state) : state_(std::move(state)) {}

CatalogWatch::~CatalogWatch() { stop(); }

void CatalogWatch::start() {
  if (!thread_.joinable()) {
    thread_ = std::thread([this] { loop(); });
    name_thread(thread_, "sy-catalog");
  }
}

void CatalogWatch::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_requested_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void CatalogWatch::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    auto snapshot = state_->snapshot();
    const auto interval =
        snapshot ? snapshot->config->upstream.catalog_check_interval : std::chrono::milliseconds(0);
    if (stop_requested_.wait_for(lock, interval.count() > 0 ? interval : kWhileOff,
                                 [this] { return stopping_; })) {
      return;
    }
    lock.unlock();
    // The config in force now, which a reload during the wait may have changed.
    snapshot = state_->snapshot();
    if (snapshot) {
      check(*snapshot);
    }
    lock.lock();
  }
}

void CatalogWatch::check(const Snapshot& snapshot) {
  const bool on = snapshot.config->upstream.catalog_check_interval.count() > 0;
  // Connections of databases no migration names any more (or of a check turned off) close.
  std::erase_if(connections_, [&](const auto& entry) {
    return !on || snapshot.for_database(entry.first) == nullptr;
  });
  if (!on) {
    return;
  }
  for (const auto& database : snapshot.databases) {
    check_database(snapshot, database);
  }
}

void CatalogWatch::check_database(const Snapshot& snapshot, const DatabaseRewrite& database) {
  Connection& connection = connections_[database.database];
  // A reload may have changed the credentials or the address.
  if (connection.client && connection.generation != snapshot.generation) {
    connection.client.reset();
  }
  auto fail = [&](const std::string& error) {
    connection.client.reset();
    if (!connection.failing) {
      connection.failing = true;
      spdlog::warn("event=catalog_check_failed database={} error={} retry={}",
                   log_value(database.database), log_value(error),
                   log_value("at the next check; DDL made on other connections is not noticed "
                             "until then"));
    }
  };
  if (!connection.client) {
    auto connected = CatalogClient::connect(*snapshot.config, database.database);
    if (auto* error = std::get_if<std::string>(&connected)) {
      fail(*error);
      return;
    }
    connection.client = std::move(std::get<std::unique_ptr<CatalogClient>>(connected));
    connection.generation = snapshot.generation;
  }
  const std::vector<std::string> tables = database.catalog->known_tables();
  auto relations = connection.client->load(tables);
  if (auto* error = std::get_if<std::string>(&relations)) {
    fail(*error);
    return;
  }
  auto descendants = connection.client->load_descendants(database.migration_tables);
  if (auto* error = std::get_if<std::string>(&descendants)) {
    fail(*error);
    return;
  }
  if (connection.failing) {
    connection.failing = false;
    spdlog::info("event=catalog_check_recovered database={}", log_value(database.database));
  }
  const CatalogDrift drift =
      find_drift(database, tables, std::get<std::vector<RelationColumns>>(relations),
                 std::get<std::vector<Descendant>>(descendants));
  const bool ask = drift.rebuild && rebuild_asked_for_ != snapshot.generation;
  if (drift.changed_tables.empty() && !ask) {
    return;
  }
  state_->metrics.shared().catalog_changes.fetch_add(1, std::memory_order_relaxed);
  if (!drift.changed_tables.empty()) {
    database.catalog->invalidate(drift.changed_tables);
  }
  spdlog::info("event=catalog_changed database={} tables={} rebuild={}",
               log_value(database.database), log_value(joined(drift.changed_tables)),
               ask ? "yes" : "no");
  if (ask) {
    rebuild_asked_for_ = snapshot.generation;
    state_->request_rebuild("catalog change");
  }
}

}  // namespace switchyard::proxy
