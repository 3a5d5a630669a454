#pragma once

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "config/config.hpp"
#include "proxy/proxy_state.hpp"
#include "rewrite/migration.hpp"

namespace switchyard::proxy {

struct BuildOptions {
  /// Connect to the upstream to check the migrations against the catalog and preload it.
  /// Off only for offline tools (`check --offline`, `rewrite --offline`).
  bool use_catalog = true;
  /// Appended to the error when the catalog cannot be reached: what the operator can do
  /// about it where the snapshot is built (serve, a reload, the offline-capable tools).
  std::string unreachable_hint;
  /// The snapshot in force (a reload's): a migration's old column dropped since keeps, in the
  /// rules, the type and collation the catalog gave it then, unless the config names old_type.
  std::shared_ptr<const Snapshot> previous;
  /// Set to true when the build fails (also) because the catalog could not be reached or
  /// read: not the file's fault, so a reload is worth trying again.
  bool* unreachable = nullptr;
  /// Set to true when the build fails (also) because the server says a database the config
  /// names does not exist (3D000): the file's key or the server's setup, not the network.
  bool* missing_database = nullptr;
};

/// Whether two configs give every migration the same flags, transforms and policy (in the same
/// order): a transaction begun under one writes and reads as under the other.
bool same_migration_flags(const config::Config& a, const config::Config& b);

/// Turns a validated config into a runnable snapshot: loads TLS material, validates transforms,
/// checks every migration's table and columns against the catalog and preloads it, so a
/// reload with a bad certificate or a missing column fails before it takes effect.
/// Errors are messages for the operator, each naming the file, and the line and key of what is
/// wrong where one is (config::format_error's form: "FILE:LINE:COL: migration[0].table: ...").
std::variant<std::shared_ptr<const Snapshot>, std::vector<std::string>> build_snapshot(
    config::Config config, std::uint64_t generation, BuildOptions options = {});

/// Logs the snapshot's warnings, one line each (event=migration_warning), at warn level, and
/// the partitions each migration also applies to (event=migration_descendants), at info level.
void log_warnings(const Snapshot& snapshot);

/// The migrations of `database` whose writes are "both" or "new", in config order: those whose
/// server-side writers (ServerWriter) are looked up, at a build and by the catalog check.
std::vector<const config::Migration*> server_writer_migrations(const config::Config& config,
                                                               const std::string& database);

/// The warnings about `writers` (those of migration `m` alone): foreign key actions, BEFORE ROW
/// triggers, generated columns and CHECK constraints that write or read one column past the
/// rewrite. Defaults are the columns' defaults warning's.
std::vector<ConfigWarning> server_writer_warnings(const config::Migration& m,
                                                  const std::vector<ServerWriter>& writers);

/// Fills `rule`'s column types, collations and old column's attnum from the catalog's
/// `relations`, where its columns are.
void fill_column_types(rewrite::Migration& rule, const std::vector<RelationColumns>& relations);

/// A migration's old column gone from the catalog (dropped or renamed) while the proxy ran: the
/// rules of `m` keep the attnum it had in `before`'s rules, and its type and collation unless
/// the config names old_type; not known from `before` (nullptr at start), the only dropped
/// attribute of the table in `relations` is taken as the old column's.
void keep_dropped_old_column(const config::Migration& m, std::vector<rewrite::Migration>& rules,
                             const DatabaseRewrite* before,
                             const std::vector<RelationColumns>& relations);

/// The config's migration as the rewrite engine sees it.
rewrite::Migration to_rewrite_migration(const config::Migration& migration);

}  // namespace switchyard::proxy
