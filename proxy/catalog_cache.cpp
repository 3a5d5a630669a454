#include "proxy/catalog_cache.hpp"

#include <mutex>

namespace switchyard::proxy {

void CatalogCache::add(const std::vector<RelationColumns>& relations,
                       const std::vector<std::string>& tables) {
  std::unique_lock lock(mutex_);
  for (const auto& table : tables) {
    by_table_[table].clear();
  }
  for (const auto& relation : relations) {
    by_table_[relation.name.table].push_back(relation);
  }
}

void CatalogCache::invalidate(const std::vector<std::string>& tables) {
  std::unique_lock lock(mutex_);
  for (const auto& table : tables) {
    by_table_.erase(table);
  }
  version_.fetch_add(1, std::memory_order_acq_rel);
}

std::optional<std::vector<std::string>> CatalogCache::columns(
    const rewrite::QualifiedName& name) const {
  std::shared_lock lock(mutex_);
  auto it = by_table_.find(name.table);
  if (it == by_table_.end()) {
    return std::nullopt;
  }
  for (const auto& relation : it->second) {
    if (relation.name.schema == name.schema) {
      return relation.columns;
    }
  }
  return std::nullopt;
}

std::optional<bool> CatalogCache::exists(const rewrite::QualifiedName& name) const {
  std::shared_lock lock(mutex_);
  auto it = by_table_.find(name.table);
  if (it == by_table_.end()) {
    return std::nullopt;
  }
  for (const auto& relation : it->second) {
    if (relation.name.schema == name.schema) {
      return true;
    }
  }
  return false;
}

}  // namespace switchyard::proxy
