#include "proxy/catalog_watch.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>

#include "proxy/logging.hpp"
#include "proxy/snapshot_builder.hpp"
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

// Reads what `database`'s rewrite state was built from, as the catalog says it is now; the
// failure, or "".
std::string read_catalog(CatalogClient& client, const config::Config& config,
                         const DatabaseRewrite& database, CatalogNow& now) {
  // The mapped names too: DDL through the proxy forgets them in the cache, but the rules
  // were built from what they were.
  now.tables = database.catalog->known_tables();
  for (const auto& table : database.mapped_tables) {
    if (std::find(now.tables.begin(), now.tables.end(), table) == now.tables.end()) {
      now.tables.push_back(table);
    }
  }
  now.function_names = database.catalog->known_functions();
  auto relations = client.load(now.tables);
  auto descendants = client.load_descendants(database.migration_tables);
  auto functions = client.load_functions(now.function_names);
  const auto asked = server_writer_migrations(config, database.database);
  auto writers = asked.empty() ? std::variant<std::vector<ServerWriter>, std::string>{}
                               : client.load_server_writers(asked);
  for (const std::string* error :
       {std::get_if<std::string>(&relations), std::get_if<std::string>(&descendants),
        std::get_if<std::string>(&functions), std::get_if<std::string>(&writers)}) {
    if (error != nullptr) {
      return *error;
    }
  }
  now.relations = std::move(std::get<std::vector<RelationColumns>>(relations));
  now.descendants = std::move(std::get<std::vector<Descendant>>(descendants));
  now.functions = std::move(std::get<std::vector<CatalogFunction>>(functions));
  now.server_writers = std::move(std::get<std::vector<ServerWriter>>(writers));
  return {};
}

}  // namespace

CatalogDrift find_drift(const DatabaseRewrite& database, const CatalogNow& now) {
  CatalogDrift drift;
  drift.changed_tables = database.catalog->changed_tables(now.relations, now.tables);
  drift.changed_functions = database.catalog->changed_functions(now.functions, now.function_names);
  // Each pair of lists comes from one ordered query.
  std::vector<RelationColumns> mapped;
  std::copy_if(now.relations.begin(), now.relations.end(), std::back_inserter(mapped),
               [&](const RelationColumns& r) {
                 return std::find(database.mapped_tables.begin(), database.mapped_tables.end(),
                                  r.name.table) != database.mapped_tables.end();
               });
  // Attnums alone (the last column dropped and added again) change nothing the rules hold:
  // the cache reads them again, and the catalog stays "back to what the config was built from".
  // Another OID does: the rules' slot of a dropped old column belongs to the relation it was in.
  const auto same_columns = [](const RelationColumns& a, const RelationColumns& b) {
    return a.name == b.name && a.oid == b.oid && a.columns == b.columns && a.types == b.types &&
           a.generated == b.generated && a.collations == b.collations;
  };
  drift.server_writers = now.server_writers != database.server_writers;
  drift.rebuild = now.descendants != database.descendants ||
                  !std::equal(mapped.begin(), mapped.end(), database.mapped_relations.begin(),
                              database.mapped_relations.end(), same_columns) ||
                  drift.server_writers;
  return drift;
}

CatalogWatch::CatalogWatch(std::shared_ptr<ProxyState> state) : state_(std::move(state)) {}

CatalogWatch::~CatalogWatch() { stop(); }

void CatalogWatch::show_on_or_off() {
  auto snapshot = state_->snapshot();
  const bool on = snapshot && snapshot->config->upstream.catalog_check_interval.count() > 0;
  CatalogCheckStatus status = state_->catalog_check();
  if (status.on != on) {
    status.on = on;
    state_->set_catalog_check(std::move(status));
  }
}

void CatalogWatch::start() {
  // /config says "none", not "off", until the first check of a check that is on.
  show_on_or_off();
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
    show_on_or_off();  // a reload may have turned it on or off
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
  CatalogCheckStatus status = state_->catalog_check();
  status.on = on;
  if (!on) {
    state_->set_catalog_check(std::move(status));
    return;
  }
  status.error.clear();
  status.missing_databases.clear();
  for (const auto& database : snapshot.databases) {
    bool changed = false;
    auto error = check_database(snapshot, database, changed);
    if (!error.empty() && status.error.empty()) {
      status.error = "database \"" + database.database + "\": " + error;
    }
    if (connections_[database.database].missing) {
      status.missing_databases.push_back(
          missing_database_message(*snapshot.config, database.database));
    }
    if (changed) {
      status.changed = std::chrono::system_clock::now();
    }
  }
  status.time = std::chrono::system_clock::now();
  state_->set_catalog_check(std::move(status));
}

std::string CatalogWatch::check_database(const Snapshot& snapshot, const DatabaseRewrite& database,
                                         bool& changed) {
  Connection& connection = connections_[database.database];
  // A reload may have changed the credentials or the address; a flip keeps the connection.
  if (connection.client && !(connection.upstream == snapshot.config->upstream)) {
    connection.client.reset();
  }
  auto fail = [&](const std::string& error) {
    connection.client.reset();
    if (connection.missing && !connection.failing) {
      // Not the network's doing: said once, as what to change, and looked for again at each
      // check (a database created later is picked up), not more often.
      connection.failing = true;
      spdlog::error("event=upstream_database_missing database={} keys={} error={} retry={}",
                    log_value(database.database),
                    log_value(keys_naming_database(*snapshot.config, database.database)),
                    log_value(missing_database_message(*snapshot.config, database.database)),
                    log_value("at each catalog check; sessions of this database fail until it "
                              "exists, and /readyz answers 503"));
    } else if (!connection.failing) {
      connection.failing = true;
      spdlog::warn("event=catalog_check_failed database={} error={} retry={}",
                   log_value(database.database), log_value(error),
                   log_value("at the next check; DDL made on other connections is not noticed "
                             "until then"));
    }
  };
  const bool kept_open = connection.client != nullptr;
  auto open = [&]() -> std::string {
    auto connected = CatalogClient::connect(*snapshot.config, database.database);
    if (auto* error = std::get_if<backfill::DbError>(&connected)) {
      connection.missing = error->missing_database();
      return error->message;
    }
    connection.missing = false;
    connection.client = std::move(std::get<std::unique_ptr<CatalogClient>>(connected));
    connection.upstream = snapshot.config->upstream;
    return {};
  };
  CatalogNow now;
  auto error = kept_open ? std::string() : open();
  if (error.empty()) {
    error = read_catalog(*connection.client, *snapshot.config, database, now);
  }
  if (!error.empty() && kept_open) {
    // The connection kept open since the last check may be one the server closed since (a
    // restart): a new one is what the next check would use, so use it now instead of calling
    // a database that is back unreachable.
    spdlog::debug("event=catalog_check_reconnect database={} error={}",
                  log_value(database.database), log_value(error));
    connection.client.reset();
    error = open();
    if (error.empty()) {
      now = CatalogNow{};
      error = read_catalog(*connection.client, *snapshot.config, database, now);
    }
  }
  if (!error.empty()) {
    fail(error);
    return error;
  }
  if (connection.failing) {
    connection.failing = false;
    spdlog::info("event=catalog_check_recovered database={}", log_value(database.database));
    state_->catalog_recovered();
  }
  const CatalogDrift drift = find_drift(database, now);
  const bool asked_here = connection.rebuild_asked_at == snapshot.generation;
  const bool ask =
      drift.rebuild && (!asked_here || connection.asked_with.relations != now.relations ||
                        connection.asked_with.descendants != now.descendants ||
                        connection.asked_with.server_writers != now.server_writers);
  if (!drift.rebuild && asked_here) {
    // The rebuild asked for at this generation has not given another: it failed (or has yet to
    // run), and the catalog is back to what the running config was built from. Building it
    // again shows that it is valid again, instead of the failure staying the last reload (in
    // /config and switchyard_config_last_reload_success) until someone sends SIGHUP.
    connection.rebuild_asked_at = 0;
    spdlog::info("event=catalog_change_undone database={} generation={} rebuild=yes",
                 log_value(database.database), snapshot.generation);
    state_->request_rebuild("catalog change undone");
  }
  if (drift.changed_tables.empty() && drift.changed_functions.empty() && !ask) {
    spdlog::debug("event=catalog_checked database={} tables={} functions={}",
                  log_value(database.database), now.tables.size(), now.function_names.size());
    return {};
  }
  changed = true;
  state_->metrics.shared().catalog_changes.fetch_add(1, std::memory_order_relaxed);
  if (!drift.changed_tables.empty()) {
    database.catalog->invalidate(drift.changed_tables);
  }
  if (!drift.changed_functions.empty()) {
    database.catalog->invalidate_functions(drift.changed_functions);
  }
  spdlog::info(
      "event=catalog_changed database={} tables={} functions={} server_writers={} rebuild={}",
      log_value(database.database), log_value(joined(drift.changed_tables)),
      log_value(joined(drift.changed_functions)), drift.server_writers ? "changed" : "same",
      ask ? "yes" : "no");
  if (ask) {
    connection.rebuild_asked_at = snapshot.generation;
    connection.asked_with = std::move(now);
    state_->request_rebuild("catalog change");
  }
  return {};
}

}  // namespace switchyard::proxy
