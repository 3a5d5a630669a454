#pragma once

#include <atomic>
#include <shared_mutex>

#include "proxy/catalog_client.hpp"
#include "rewrite/catalog.hpp"

namespace switchyard::proxy {

/// The rewrite engine's view of one database, shared by every session of a config generation.
/// Filled at load for the mapped tables; relations met later (a join with another table) are
/// fetched on demand and added. `version` changes whenever content is dropped, so cached
/// rewrites made from the old content are not reused.
class CatalogCache final : public rewrite::Catalog {
 public:
  /// Adds relations and declares every name in `tables` complete (absent where not listed).
  void add(const std::vector<RelationColumns>& relations, const std::vector<std::string>& tables);
  /// Forgets what is known of these table names (after DDL on them passed through).
  void invalidate(const std::vector<std::string>& tables);
  std::uint64_t version() const { return version_.load(std::memory_order_acquire); }

  std::optional<std::vector<std::string>> columns(const rewrite::QualifiedName&) const override;
  std::optional<bool> exists(const rewrite::QualifiedName&) const override;

 private:
  mutable std::shared_mutex mutex_;
  std::map<std::string, std::vector<RelationColumns>> by_table_;  // known table names
  std::atomic<std::uint64_t> version_{0};
};

}  // namespace switchyard::proxy
