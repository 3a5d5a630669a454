#pragma once

#include <atomic>
#include <shared_mutex>

#include "proxy/catalog_client.hpp"
#include "rewrite/catalog.hpp"
#include "rewrite/result.hpp"

namespace switchyard::proxy {

/// What a needs_catalog result asks for, by name.
struct CatalogWants {
  std::vector<std::string> tables;
  std::vector<std::string> functions;
  static CatalogWants of(const rewrite::RewriteResult& result);
};

/// The rewrite engine's view of one database, shared by every session of a config generation.
/// Filled at load for the mapped tables; relations met later (a join with another table) and
/// functions called in written values are fetched on demand and added. A function's volatility
/// is read once per generation (a reload reads it again). `version` changes whenever content is
/// dropped, so cached rewrites made from the old content are not reused.
class CatalogCache final : public rewrite::Catalog {
 public:
  /// Reads what `wants` names on a connection of its own and adds it. Blocking; returns "" or
  /// the error, and sets `*connect_failed` when it is that the connection could not be made.
  std::string fetch(const config::Config& config, const std::string& database,
                    const CatalogWants& wants, bool* connect_failed = nullptr);
  /// Adds relations and declares every name in `tables` complete (absent where not listed).
  void add(const std::vector<RelationColumns>& relations, const std::vector<std::string>& tables);
  /// Adds functions and declares every name in `names` complete (absent where not listed).
  void add_functions(const std::vector<CatalogFunction>& functions,
                     const std::vector<std::string>& names);
  /// Forgets what is known of these table names (after DDL on them passed through).
  void invalidate(const std::vector<std::string>& tables);
  /// The table names whose relations are known (looked up, found or not).
  std::vector<std::string> known_tables() const;
  /// Whether a relation of this table name, in any schema, is known to exist.
  bool names_relation(const std::string& table) const;
  /// Of `tables` (names looked up again, giving `relations`), those known here with other
  /// relations or columns than these: what DDL on another connection changed.
  std::vector<std::string> changed_tables(const std::vector<RelationColumns>& relations,
                                          const std::vector<std::string>& tables) const;
  /// The same for functions (by name, every schema's): those whose volatility is known.
  std::vector<std::string> known_functions() const;
  std::vector<std::string> changed_functions(const std::vector<CatalogFunction>& functions,
                                             const std::vector<std::string>& names) const;
  /// Forgets the volatility of the functions of these names.
  void invalidate_functions(const std::vector<std::string>& names);
  std::uint64_t version() const { return version_.load(std::memory_order_acquire); }

  std::optional<std::vector<std::string>> columns(const rewrite::QualifiedName&) const override;
  std::optional<std::vector<rewrite::ColumnDetail>> column_details(
      const rewrite::QualifiedName&) const override;
  std::optional<rewrite::ColumnSlots> column_slots(const rewrite::QualifiedName&) const override;
  std::optional<bool> exists(const rewrite::QualifiedName&) const override;
  std::optional<char> function_volatility(const rewrite::QualifiedName&) const override;
  std::optional<rewrite::FunctionOutput> function_output(
      const rewrite::QualifiedName&) const override;

 private:
  // The relation `name`, if known; `table_known`: the table name was looked up at all. The
  // caller holds mutex_.
  const RelationColumns* find(const rewrite::QualifiedName& name, bool* table_known) const;

  mutable std::shared_mutex mutex_;
  std::map<std::string, std::vector<RelationColumns>> by_table_;  // known table names
  std::map<rewrite::QualifiedName, rewrite::FunctionFacts> functions_;
  std::set<std::string> function_names_;  // names whose functions are all in functions_
  std::atomic<std::uint64_t> version_{0};
};

}  // namespace switchyard::proxy
