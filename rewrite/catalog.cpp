#include "rewrite/catalog.hpp"

namespace switchyard::rewrite {

void StaticCatalog::add(QualifiedName name, std::vector<std::string> columns) {
  absent_.erase(name);
  columns_[std::move(name)] = std::move(columns);
}

void StaticCatalog::add_absent(QualifiedName name) {
  columns_.erase(name);
  absent_.insert(std::move(name));
}

void StaticCatalog::mark_complete(std::string table) { complete_tables_.insert(std::move(table)); }

void StaticCatalog::clear() {
  columns_.clear();
  absent_.clear();
  complete_tables_.clear();
}

std::optional<std::vector<std::string>> StaticCatalog::columns(const QualifiedName& name) const {
  if (auto it = columns_.find(name); it != columns_.end()) {
    return it->second;
  }
  return std::nullopt;
}

std::optional<bool> StaticCatalog::exists(const QualifiedName& name) const {
  if (columns_.contains(name)) {
    return true;
  }
  if (absent_.contains(name) || complete_tables_.contains(name.table)) {
    return false;
  }
  return std::nullopt;
}

}  // namespace switchyard::rewrite
