#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "proxy/catalog_client.hpp"
#include "proxy/proxy_state.hpp"

namespace switchyard::proxy {

/// What DDL made on another connection changed under one database's rewrite state.
struct CatalogDrift {
  /// Known relations whose columns (or existence) changed: forgotten, read again when needed.
  std::vector<std::string> changed_tables;
  /// Function names whose volatility changed (ALTER FUNCTION ... VOLATILE): forgotten too.
  std::vector<std::string> changed_functions;
  /// A relation of a mapped name (a migration's table, a partition) or the set of partitions
  /// and inheritance children changed since the config was built, through the proxy or not:
  /// the rules themselves (types, collations, which tables they apply to) are built again.
  /// So are they when what the server writes by itself on a migration's table changed (a
  /// column default, a foreign key action, a trigger, ...), for the warnings about it.
  bool rebuild = false;
  /// Of which: what the server writes by itself on a migration's table changed.
  bool server_writers = false;
};

/// What the catalog says now.
struct CatalogNow {
  std::vector<std::string> tables;  // the names looked up again: known and mapped ones
  std::vector<RelationColumns> relations;
  std::vector<std::string> function_names;
  std::vector<CatalogFunction> functions;
  std::vector<Descendant> descendants;       // of the migrations' tables
  std::vector<ServerWriter> server_writers;  // of server_writer_migrations()
};

/// Compares what the catalog says now with what `database` was built and filled from.
CatalogDrift find_drift(const DatabaseRewrite& database, const CatalogNow& now);

/// Reads the catalog again every [upstream] catalog_check_interval, on a connection of its own
/// per database (kept open between checks), so that DDL made without the proxy (a column added
/// by a migration tool, a partition created by a scheduled job) reaches the rewrite: the
/// relations it changed are forgotten and read again, and a change to a migration's table or
/// its partitions builds the config again, as DDL sent through the proxy does. Its own thread:
/// a slow catalog never holds up a reload or a session.
class CatalogWatch {
 public:
  explicit CatalogWatch(std::shared_ptr<ProxyState> state);
  ~CatalogWatch();
  CatalogWatch(const CatalogWatch&) = delete;
  CatalogWatch& operator=(const CatalogWatch&) = delete;

  void start();
  /// Stops after the check in progress, if any. Idempotent.
  void stop();

 private:
  void loop();
  // Sets CatalogCheckStatus::on from the running config's interval.
  void show_on_or_off();
  // One pass over the databases of the running snapshot. Blocking.
  void check(const Snapshot& snapshot);
  // Returns the failure ("" if the check worked); sets `changed` when it found DDL.
  std::string check_database(const Snapshot& snapshot, const DatabaseRewrite& database,
                             bool& changed);

  const std::shared_ptr<ProxyState> state_;
  std::mutex mutex_;
  std::condition_variable stop_requested_;
  bool stopping_ = false;
  std::thread thread_;

  // Owned by the watch's thread.
  struct Connection {
    config::UpstreamConfig upstream;  // what it was opened with
    std::unique_ptr<CatalogClient> client;
    bool failing = false;  // the last check failed (logged once until it works again)
    bool missing = false;  // the last connect was refused with 3D000: no such database
    // The generation this database last asked a rebuild of, and what the catalog said then: a
    // rebuild that fails (the new column dropped) is not asked for again at every check, only
    // when the catalog changes again, or once the next generation is in force.
    std::uint64_t rebuild_asked_at = 0;
    CatalogNow asked_with;
  };
  std::map<std::string, Connection> connections_;
};

}  // namespace switchyard::proxy
