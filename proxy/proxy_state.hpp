#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "proxy/asio.hpp"
#include "proxy/cancel_registry.hpp"
#include "proxy/catalog_cache.hpp"
#include "proxy/metrics_shards.hpp"
#include "proxy/upstream_notes.hpp"
#include "proxy/worker_inbox.hpp"
#include "rewrite/cache.hpp"
#include "rewrite/rewriter.hpp"

namespace switchyard::proxy {

/// The migrations of one database, with what the rewrite engine knows of that database.
/// A migration whose followed relation (by OID) lives on under another name while another
/// relation now holds the config's name: which one the migration means is the operator's call,
/// so statements naming either are refused until the config says.
struct AmbiguousTable {
  std::string migration;
  bool reject = true;              ///< the migration's on_unsupported = "reject"
  std::vector<std::string> names;  ///< both relations' names, unqualified as a text writes them
  std::string reason;              ///< names both and what to do
};

struct DatabaseRewrite {
  std::string database;
  std::shared_ptr<const rewrite::Rewriter> rewriter;
  std::shared_ptr<CatalogCache> catalog;
  std::vector<std::string> mapped_tables;  // table names, for catalog refreshes
  /// The migrations' own tables, their partitions and inheritance children, and the relations
  /// of the mapped table names, as the config was built from them: the catalog check builds
  /// the config again when those change, whichever connection changed them.
  std::vector<rewrite::QualifiedName> migration_tables;
  std::vector<Descendant> descendants;
  std::vector<RelationColumns> mapped_relations;
  /// What the server writes by itself on the tables of migrations that write the new column
  /// (server_writer_migrations): the warnings about it are built again when it changes.
  std::vector<ServerWriter> server_writers;
  std::vector<AmbiguousTable> ambiguous_tables;
  /// Each migration's relation as the config names it (by migration name), before
  /// follow_renamed_table: the next build follows the relation by OID only while the config
  /// names the same one, since an edit of `table` is a new mapping, not a rename.
  std::map<std::string, rewrite::QualifiedName> configured_tables;
};

/// Something the operator should act on that does not stop a config from loading.
struct ConfigWarning {
  std::string migration;
  std::string message;  ///< one line
};

/// The partitions and inheritance children a migration also applies to.
struct MigrationDescendants {
  std::string migration;
  std::string tables;  ///< "schema.table" of each, comma-separated
};

/// Everything derived from one config generation. Immutable once published: sessions hold a
/// shared_ptr to the one they adopted and switch only at a transaction boundary.
struct Snapshot {
  std::uint64_t generation = 0;
  /// The generation whose migration flags and transforms this one runs: a reload that changes
  /// none of them (a comment, a catalog change) keeps its predecessor's. Open transactions are
  /// counted by it, so that only those under other flags count as on an old generation.
  std::uint64_t flags_generation = 0;
  std::shared_ptr<const config::Config> config;
  std::shared_ptr<ssl::context> client_tls;    // null: SSLRequest is answered 'N'
  std::shared_ptr<ssl::context> upstream_tls;  // null: tls = disable
  std::vector<DatabaseRewrite> databases;      // empty: a transparent proxy
  std::vector<ConfigWarning> warnings;         // logged when the snapshot is adopted
  /// Per migration whose table has partitions or inheritance children: the migration applies
  /// to a statement naming one as to the table.
  std::vector<MigrationDescendants> descendants;

  /// The rewrite state for sessions connected to `database`, or null: forward untouched.
  const DatabaseRewrite* for_database(std::string_view database) const {
    for (const auto& entry : databases) {
      if (entry.database == database) {
        return &entry;
      }
    }
    return nullptr;
  }
};

/// Live sessions, so shutdown can ask each to drain on its own thread.
class SessionRegistry {
 public:
  /// `now`: close at once (the drain timeout), else at the session's next boundary.
  using DrainHook = std::function<void(bool now)>;
  /// `inbox`: the session's worker's, which outlives the session.
  void add(std::uint64_t id, WorkerInbox& inbox, DrainHook hook);
  void remove(std::uint64_t id);
  /// Posts every hook to its session's worker: each session ends at its next boundary.
  void drain_all();
  /// Posts every hook to its session's worker: each session ends now.
  void close_all();
  std::size_t size() const;

 private:
  struct Entry {
    WorkerInbox* inbox;
    DrainHook hook;
  };
  mutable std::mutex mutex_;
  std::unordered_map<std::uint64_t, Entry> entries_;
};

/// What the catalog check (CatalogWatch) last found, for /config.
struct CatalogCheckStatus {
  bool on = false;                               ///< catalog_check_interval > 0
  std::chrono::system_clock::time_point time{};  ///< of the last check; epoch: none yet
  std::string error;                             ///< the last check's failure, "" if it worked
  /// Of the last check's failures, those of a database the server says does not exist
  /// (missing_database_message): a config error, which /readyz reports.
  std::vector<std::string> missing_databases;
  std::chrono::system_clock::time_point changed{};  ///< last DDL found; epoch: none yet
};

/// What sessions may ask of the config reloader: to build the snapshot again, and to wait
/// for it.
class Rebuilder {
 public:
  virtual ~Rebuilder() = default;
  virtual std::uint64_t request(std::string trigger) = 0;
  virtual bool wait_served(std::uint64_t ticket, std::chrono::milliseconds timeout) = 0;
  /// The catalog answers again: a reload that failed for want of it is tried now.
  virtual void catalog_recovered() = 0;
};

/// State shared by every session of the process.
class ProxyState {
 public:
  std::shared_ptr<const Snapshot> snapshot() const {
    std::lock_guard lock(snapshot_mutex_);
    return snapshot_;
  }
  /// The generation of the latest snapshot: sessions compare it at every statement boundary,
  /// so a plain load instead of copying the shared_ptr (whose count both threads would bounce).
  /// Stored after the snapshot, so whoever sees a generation finds that snapshot or a later one.
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  void publish(std::shared_ptr<const Snapshot> next) {
    const std::uint64_t generation = next->generation;
    const std::uint64_t flags_generation = next->flags_generation;
    metrics.shared().config_generation.store(generation, std::memory_order_relaxed);
    {
      std::lock_guard lock(snapshot_mutex_);
      snapshot_.swap(next);
    }
    flags_generation_.store(flags_generation, std::memory_order_relaxed);
    generation_.store(generation, std::memory_order_release);
  }
  /// DDL naming `tables` (every known one when `all`) committed through a session, which forgot
  /// them in its own snapshot's catalog (`forgotten`): the latest snapshot's forgets them too,
  /// since it may have been built while the DDL ran (a rebuild the catalog check asked for) and
  /// hold the columns from before, for every session that adopts it.
  void ddl_committed(const std::vector<std::string>& tables, bool all,
                     const CatalogCache* forgotten) {
    ddl_epoch_.fetch_add(1);
    if (const auto latest = snapshot()) {
      forget(*latest, all ? nullptr : &tables, forgotten);
    }
  }
  /// Counts ddl_committed(): a snapshot built while it moved forgets its catalog's tables once
  /// published (forget_if_ddl_since).
  std::uint64_t ddl_epoch() const { return ddl_epoch_.load(); }
  /// After publishing `published`, built from a catalog read since `epoch`: if DDL committed
  /// through a session meanwhile, what it read of the changed tables may be from before.
  void forget_if_ddl_since(std::uint64_t epoch, const Snapshot& published) {
    if (ddl_epoch() != epoch) {
      forget(published, nullptr, nullptr);
    }
  }
  /// The latest snapshot's flags_generation.
  std::uint64_t flags_generation() const {
    return flags_generation_.load(std::memory_order_acquire);
  }
  /// Sets (or, null, clears) the reloader that request_rebuild() asks; not owned. Clearing
  /// waits for calls in progress, so stop the reloader first (its waits then return at once).
  void set_rebuilder(Rebuilder* rebuilder) {
    std::unique_lock lock(rebuild_mutex_);
    rebuilder_ = rebuilder;
  }
  /// Asks for the snapshot to be built again from the config (the catalog changed under it).
  /// Returns at once, with a ticket for wait_rebuilt() (0: there is no reloader).
  std::uint64_t request_rebuild(std::string trigger) {
    std::shared_lock lock(rebuild_mutex_);
    return rebuilder_ != nullptr ? rebuilder_->request(std::move(trigger)) : 0;
  }
  /// Blocks until the snapshot was built again for `ticket`, or `timeout` passes. Off the
  /// workers only.
  bool wait_rebuilt(std::uint64_t ticket, std::chrono::milliseconds timeout) {
    std::shared_lock lock(rebuild_mutex_);
    return rebuilder_ != nullptr && rebuilder_->wait_served(ticket, timeout);
  }
  /// Called by the catalog check when a database answers again after failing.
  void catalog_recovered() {
    std::shared_lock lock(rebuild_mutex_);
    if (rebuilder_ != nullptr) {
      rebuilder_->catalog_recovered();
    }
  }
  void set_catalog_check(CatalogCheckStatus status) {
    std::lock_guard lock(catalog_check_mutex_);
    catalog_check_ = std::move(status);
  }
  CatalogCheckStatus catalog_check() const {
    std::lock_guard lock(catalog_check_mutex_);
    return catalog_check_;
  }
  std::uint64_t next_session_id() { return next_session_id_.fetch_add(1); }
  bool draining() const { return draining_.load(); }
  void start_draining() {
    draining_.store(true);
    sessions.drain_all();
  }

  CancelRegistry cancels;
  SessionRegistry sessions;
  UpstreamNotes upstream_notes;
  /// Counters: each worker writes its own block (metrics.worker(i)), other threads the shared
  /// one; /metrics shows their sum.
  MetricsShards metrics;
  rewrite::RewriteCache rewrite_cache{16384};
  /// Rewrites of literal shapes (rewrite/literal_shape.hpp), keyed by the shape's text: texts
  /// that differ only in their constants (the simple protocol's) share one parse.
  rewrite::RewriteCache shape_cache{16384};
  /// Blocking calls for sessions (catalog look-ups, resolving the upstream's host name) run
  /// here, never on a worker (OffThread). Two threads: a slow catalog does not hold up the
  /// name look-ups of new connections.
  net::thread_pool blocking_pool{2};
  /// The rewrites of long texts (long_rewrite.hpp): seconds of CPU each, so one at a time (bulk
  /// loads take at most one core) and not on the blocking pool, where two of them would hold
  /// up the catalog look-ups and the name look-ups of new connections.
  net::thread_pool long_rewrite_pool{1};

 private:
  // Each database's catalog in `snapshot` but `skip` forgets `tables` (every known one when null).
  static void forget(const Snapshot& snapshot, const std::vector<std::string>* tables,
                     const CatalogCache* skip) {
    for (const DatabaseRewrite& db : snapshot.databases) {
      if (db.catalog && db.catalog.get() != skip) {
        db.catalog->invalidate(tables != nullptr ? *tables : db.catalog->known_tables());
      }
    }
  }

  // A mutex, not std::atomic<std::shared_ptr>: GCC 12's releases its internal lock after a load
  // with a relaxed store, so the reader's copy of the pointer is not ordered before a
  // writer's swap (ThreadSanitizer reports it; a weakly ordered CPU could act on it). Taken at
  // session start and when a session adopts a new generation, not per statement.
  mutable std::mutex snapshot_mutex_;
  std::shared_ptr<const Snapshot> snapshot_;  // guarded by snapshot_mutex_
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<std::uint64_t> flags_generation_{0};
  std::atomic<std::uint64_t> ddl_epoch_{0};
  std::atomic<std::uint64_t> next_session_id_{1};
  std::atomic<bool> draining_{false};
  mutable std::mutex catalog_check_mutex_;
  CatalogCheckStatus catalog_check_;  // guarded by catalog_check_mutex_
  std::shared_mutex rebuild_mutex_;
  Rebuilder* rebuilder_ = nullptr;  // guarded by rebuild_mutex_
};

}  // namespace switchyard::proxy
