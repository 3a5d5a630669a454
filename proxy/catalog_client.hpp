#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "backfill/pg_connection.hpp"
#include "config/config.hpp"
#include "rewrite/catalog.hpp"
#include "rewrite/migration.hpp"

namespace switchyard::proxy {

/// One relation as the catalog describes it.
struct RelationColumns {
  rewrite::QualifiedName name;
  std::vector<std::string> columns;     // attnum order, dropped columns excluded
  std::vector<std::string> types;       // format_type(), schema-qualified unless built in
  std::vector<bool> generated;          // pg_attribute.attgenerated set, same order
  std::vector<std::string> collations;  // `schema."name"` of each column's, "" if none
  std::vector<int> attnums;             // each column's, same order
  std::vector<int> dropped;             // the attnums of dropped attributes
  std::uint32_t oid = 0;                // pg_class.oid: a table rebuilt under the name has another
  bool operator==(const RelationColumns&) const = default;
};

/// The functions of one name in one schema: as volatile as the most volatile overload, and
/// what they give in FROM when every overload agrees.
struct CatalogFunction {
  rewrite::QualifiedName name;
  rewrite::FunctionFacts facts;
  bool operator==(const CatalogFunction&) const = default;
};

/// A partition or inheritance child of a relation, at any depth.
struct Descendant {
  rewrite::QualifiedName ancestor;
  rewrite::QualifiedName name;
  bool operator==(const Descendant&) const = default;
};

/// Something on a migration's table that the server runs by itself, so that it writes (or
/// reads) one of the two columns past the rewrite: a default, a foreign key's referential
/// action, a BEFORE ROW trigger, a generated column or a CHECK constraint over the old column;
/// and, to be noticed when they change, the views, rules and policies over the old column.
struct ServerWriter {
  std::size_t migration = 0;  ///< index into the migrations asked about
  std::string kind;    ///< "default", "foreign key", "trigger", "generated", "check", "dependent"
  std::string column;  ///< "old" or "new": the one it concerns; a trigger: "before" or "after"
  std::string name;    ///< the constraint's, trigger's or generated column's
  /// default: its expression; foreign key: the referenced table; trigger: INSERT, UPDATE or
  /// INSERT OR UPDATE.
  std::string detail;
  /// foreign key: confupdtype and confdeltype ("cn": ON UPDATE CASCADE ON DELETE SET NULL).
  std::string actions;
  bool operator==(const ServerWriter&) const = default;
};

/// The keys of `config` that name `database` ("[upstream] database", "migration[1].database"),
/// joined by ", ", for an operator told that the server has no such database.
std::string keys_naming_database(const config::Config& config, const std::string& database);

/// What the proxy says when the server answers 3D000 to its own connection: the database, the
/// upstream, the keys naming it and the way out (create it, or correct the key).
std::string missing_database_message(const config::Config& config, const std::string& database);

/// Switchyard's own connection to the upstream (libpq, blocking): the catalog look-ups the
/// rewrite engine needs. Uses [upstream] user/password/database and the TLS mode; client
/// sessions never share it. Call from a thread that may block.
class CatalogClient {
 public:
  /// Connects to `database` (empty = [upstream] database). The error names the upstream, and
  /// carries the server's SQLSTATE when the server refused (3D000: no such database).
  static std::variant<std::unique_ptr<CatalogClient>, backfill::DbError> connect(
      const config::Config& config, const std::string& database);

  /// Every relation (in any schema) whose name is one of `tables`, with its columns.
  std::variant<std::vector<RelationColumns>, std::string> load(
      const std::vector<std::string>& tables);

  /// The partitions and inheritance children, at every depth, of each of `relations` that
  /// exists.
  std::variant<std::vector<Descendant>, std::string> load_descendants(
      const std::vector<rewrite::QualifiedName>& relations);

  /// Every function (in any schema) whose name is one of `names`, one entry per schema.
  std::variant<std::vector<CatalogFunction>, std::string> load_functions(
      const std::vector<std::string>& names);

  /// What the server writes by itself on each of `migrations`' tables (ServerWriter), in one
  /// query for them all; ordered, so that two answers compare equal when nothing changed.
  std::variant<std::vector<ServerWriter>, std::string> load_server_writers(
      const std::vector<const config::Migration*>& migrations);

  /// For other look-ups on the same connection (e.g. the columns' defaults).
  backfill::PgConnection& connection() { return connection_; }

 private:
  explicit CatalogClient(backfill::PgConnection connection) : connection_(std::move(connection)) {}
  backfill::PgConnection connection_;
};

}  // namespace switchyard::proxy
