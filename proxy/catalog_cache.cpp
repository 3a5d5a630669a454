#include "proxy/catalog_cache.hpp"

#include <algorithm>
#include <iterator>
#include <map>
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

void CatalogCache::add_functions(const std::vector<CatalogFunction>& functions,
                                 const std::vector<std::string>& names) {
  std::unique_lock lock(mutex_);
  for (const auto& function : functions) {
    functions_[function.name] = function.facts;
  }
  function_names_.insert(names.begin(), names.end());
}

void CatalogCache::invalidate(const std::vector<std::string>& tables) {
  std::unique_lock lock(mutex_);
  for (const auto& table : tables) {
    by_table_.erase(table);
  }
  version_.fetch_add(1, std::memory_order_acq_rel);
}

bool CatalogCache::names_relation(const std::string& table) const {
  std::shared_lock lock(mutex_);
  const auto known = by_table_.find(table);
  return known != by_table_.end() && !known->second.empty();
}

std::vector<std::string> CatalogCache::known_tables() const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> names;
  names.reserve(by_table_.size());
  for (const auto& [table, relations] : by_table_) {
    names.push_back(table);
  }
  return names;
}

std::vector<std::string> CatalogCache::changed_tables(
    const std::vector<RelationColumns>& relations, const std::vector<std::string>& tables) const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> changed;
  for (const auto& table : tables) {
    auto known = by_table_.find(table);
    if (known == by_table_.end()) {
      continue;  // forgotten since (DDL through the proxy): read again when next needed
    }
    // Both lists are in the catalog query's order, by schema.
    std::vector<RelationColumns> now;
    std::copy_if(relations.begin(), relations.end(), std::back_inserter(now),
                 [&](const RelationColumns& r) { return r.name.table == table; });
    if (now != known->second) {
      changed.push_back(table);
    }
  }
  return changed;
}

std::vector<std::string> CatalogCache::known_functions() const {
  std::shared_lock lock(mutex_);
  return {function_names_.begin(), function_names_.end()};
}

std::vector<std::string> CatalogCache::changed_functions(
    const std::vector<CatalogFunction>& functions, const std::vector<std::string>& names) const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> changed;
  for (const auto& name : names) {
    if (!function_names_.contains(name)) {
      continue;
    }
    std::map<rewrite::QualifiedName, rewrite::FunctionFacts> now;
    for (const auto& function : functions) {
      if (function.name.table == name) {
        now[function.name] = function.facts;
      }
    }
    std::map<rewrite::QualifiedName, rewrite::FunctionFacts> known;
    for (const auto& [function, facts] : functions_) {
      if (function.table == name) {
        known[function] = facts;
      }
    }
    if (now != known) {
      changed.push_back(name);
    }
  }
  return changed;
}

void CatalogCache::invalidate_functions(const std::vector<std::string>& names) {
  std::unique_lock lock(mutex_);
  for (const auto& name : names) {
    function_names_.erase(name);
    std::erase_if(functions_, [&](const auto& entry) { return entry.first.table == name; });
  }
  version_.fetch_add(1, std::memory_order_acq_rel);
}

const RelationColumns* CatalogCache::find(const rewrite::QualifiedName& name,
                                          bool* table_known) const {
  auto it = by_table_.find(name.table);
  *table_known = it != by_table_.end();
  if (!*table_known) {
    return nullptr;
  }
  for (const auto& relation : it->second) {
    if (relation.name.schema == name.schema) {
      return &relation;
    }
  }
  return nullptr;
}

std::optional<std::vector<std::string>> CatalogCache::columns(
    const rewrite::QualifiedName& name) const {
  std::shared_lock lock(mutex_);
  bool known = false;
  if (const RelationColumns* relation = find(name, &known)) {
    return relation->columns;
  }
  return std::nullopt;
}

std::optional<std::vector<rewrite::ColumnDetail>> CatalogCache::column_details(
    const rewrite::QualifiedName& name) const {
  std::shared_lock lock(mutex_);
  bool known = false;
  const RelationColumns* relation = find(name, &known);
  if (relation == nullptr || relation->types.size() != relation->columns.size() ||
      relation->generated.size() != relation->columns.size()) {
    return std::nullopt;
  }
  std::vector<rewrite::ColumnDetail> details;
  details.reserve(relation->columns.size());
  for (std::size_t i = 0; i < relation->columns.size(); ++i) {
    details.push_back({relation->types[i], relation->generated[i]});
  }
  return details;
}

std::optional<rewrite::ColumnSlots> CatalogCache::column_slots(
    const rewrite::QualifiedName& name) const {
  std::shared_lock lock(mutex_);
  bool known = false;
  const RelationColumns* relation = find(name, &known);
  if (relation == nullptr || relation->attnums.size() != relation->columns.size()) {
    return std::nullopt;
  }
  return rewrite::ColumnSlots{relation->attnums, relation->dropped, relation->oid};
}

std::optional<bool> CatalogCache::exists(const rewrite::QualifiedName& name) const {
  std::shared_lock lock(mutex_);
  bool known = false;
  const RelationColumns* relation = find(name, &known);
  if (!known) {
    return std::nullopt;
  }
  return relation != nullptr;
}

std::optional<char> CatalogCache::function_volatility(const rewrite::QualifiedName& name) const {
  std::shared_lock lock(mutex_);
  if (!function_names_.contains(name.table)) {
    return std::nullopt;
  }
  return rewrite::most_volatile(functions_, name);
}

std::optional<rewrite::FunctionOutput> CatalogCache::function_output(
    const rewrite::QualifiedName& name) const {
  std::shared_lock lock(mutex_);
  if (!function_names_.contains(name.table)) {
    return std::nullopt;
  }
  return rewrite::common_output(functions_, name);
}

CatalogWants CatalogWants::of(const rewrite::RewriteResult& result) {
  CatalogWants wants;
  auto add = [](std::vector<std::string>& names, const std::string& name) {
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      names.push_back(name);
    }
  };
  for (const auto& name : result.missing) {
    add(wants.tables, name.table);
  }
  for (const auto& name : result.missing_functions) {
    add(wants.functions, name.table);
  }
  return wants;
}

std::string CatalogCache::fetch(const config::Config& config, const std::string& database,
                                const CatalogWants& wants, bool* connect_failed) {
  auto connected = CatalogClient::connect(config, database);
  if (auto* e = std::get_if<backfill::DbError>(&connected)) {
    if (connect_failed != nullptr) {
      *connect_failed = true;
    }
    return e->message;
  }
  auto& client = *std::get<std::unique_ptr<CatalogClient>>(connected);
  if (!wants.tables.empty()) {
    auto loaded = client.load(wants.tables);
    if (auto* e = std::get_if<std::string>(&loaded)) {
      return *e;
    }
    add(std::get<std::vector<RelationColumns>>(loaded), wants.tables);
  }
  if (!wants.functions.empty()) {
    auto loaded = client.load_functions(wants.functions);
    if (auto* e = std::get_if<std::string>(&loaded)) {
      return *e;
    }
    add_functions(std::get<std::vector<CatalogFunction>>(loaded), wants.functions);
  }
  return {};
}

}  // namespace switchyard::proxy
