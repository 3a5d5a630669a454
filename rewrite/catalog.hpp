#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "rewrite/migration.hpp"

namespace switchyard::rewrite {

/// What the engine knows of the database: the proxy fills it from the catalog.
class Catalog {
 public:
  virtual ~Catalog() = default;
  /// Columns of schema.table in attnum order (dropped columns excluded), or nullopt if unknown.
  virtual std::optional<std::vector<std::string>> columns(const QualifiedName&) const = 0;
  /// True if the relation exists (table, view, ...). nullopt if the catalog does not know.
  virtual std::optional<bool> exists(const QualifiedName&) const = 0;
};

/// A simple in-memory Catalog (used by tests and by the proxy).
///
/// A relation is "known" once added (exists, with columns) or marked absent. Every other name is
/// unknown, which makes the engine answer Outcome::needs_catalog for it, unless the table name was
/// declared complete: then every schema not added holds no relation of that name.
class StaticCatalog : public Catalog {
 public:
  /// Records that `name` exists with these columns (attnum order).
  void add(QualifiedName name, std::vector<std::string> columns);
  /// Records that no relation `name` exists.
  void add_absent(QualifiedName name);
  /// Declares that every relation called `table` (in any schema) has been added.
  void mark_complete(std::string table);
  /// Forgets everything.
  void clear();

  std::optional<std::vector<std::string>> columns(const QualifiedName& name) const override;
  std::optional<bool> exists(const QualifiedName& name) const override;

 private:
  std::map<QualifiedName, std::vector<std::string>> columns_;
  std::set<QualifiedName> absent_;
  std::set<std::string> complete_tables_;
};

/// The parts of a client session that change how names resolve.
struct SessionContext {
  /// Schemas as Postgres stores them; "$user" stands for `user`.
  std::vector<std::string> search_path = {"$user", "public"};
  std::string user;
};

}  // namespace switchyard::rewrite
