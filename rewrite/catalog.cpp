#include "rewrite/catalog.hpp"

#include <algorithm>

namespace switchyard::rewrite {

namespace {

bool called(const QualifiedName& function, const QualifiedName& name) {
  return function.table == name.table && (name.schema.empty() || function.schema == name.schema);
}

}  // namespace

FunctionOutput combine_outputs(const FunctionOutput& a, const FunctionOutput& b) {
  if (a == b) {
    return a;
  }
  FunctionOutput unknown;
  for (const FunctionOutput* o : {&a, &b}) {
    std::vector<QualifiedName> types = o->candidate_row_types;
    if (o->row_type.has_value()) {
      types.push_back(*o->row_type);
    }
    for (QualifiedName& type : types) {
      if (std::find(unknown.candidate_row_types.begin(), unknown.candidate_row_types.end(), type) ==
          unknown.candidate_row_types.end()) {
        unknown.candidate_row_types.push_back(std::move(type));
      }
    }
  }
  return unknown;
}

char most_volatile(const std::map<QualifiedName, FunctionFacts>& functions,
                   const QualifiedName& name) {
  auto rank = [](char v) { return v == 'i' ? 1 : v == 's' ? 2 : 3; };
  char most = '\0';
  for (const auto& [function, facts] : functions) {
    if (called(function, name) && (most == '\0' || rank(facts.volatility) > rank(most))) {
      most = facts.volatility;
    }
  }
  return most;
}

FunctionOutput common_output(const std::map<QualifiedName, FunctionFacts>& functions,
                             const QualifiedName& name) {
  std::optional<FunctionOutput> common;
  for (const auto& [function, facts] : functions) {
    if (called(function, name)) {
      common = common.has_value() ? combine_outputs(*common, facts.output) : facts.output;
    }
  }
  return common.value_or(FunctionOutput{});
}

void StaticCatalog::add(QualifiedName name, std::vector<std::string> columns,
                        std::vector<ColumnDetail> details) {
  absent_.erase(name);
  slots_.erase(name);
  if (details.size() == columns.size()) {
    details_[name] = std::move(details);
  } else {
    details_.erase(name);
  }
  columns_[std::move(name)] = std::move(columns);
}

void StaticCatalog::add_slots(QualifiedName name, ColumnSlots slots) {
  slots_[std::move(name)] = std::move(slots);
}

void StaticCatalog::add_absent(QualifiedName name) {
  columns_.erase(name);
  details_.erase(name);
  slots_.erase(name);
  absent_.insert(std::move(name));
}

void StaticCatalog::mark_complete(std::string table) { complete_tables_.insert(std::move(table)); }

void StaticCatalog::add_function(QualifiedName name, char volatility, FunctionOutput output) {
  functions_[std::move(name)] = FunctionFacts{volatility, std::move(output)};
}

void StaticCatalog::mark_function_complete(std::string name) {
  complete_functions_.insert(std::move(name));
}

void StaticCatalog::clear() {
  columns_.clear();
  details_.clear();
  slots_.clear();
  absent_.clear();
  complete_tables_.clear();
  functions_.clear();
  complete_functions_.clear();
}

std::optional<std::vector<std::string>> StaticCatalog::columns(const QualifiedName& name) const {
  if (auto it = columns_.find(name); it != columns_.end()) {
    return it->second;
  }
  return std::nullopt;
}

std::optional<std::vector<ColumnDetail>> StaticCatalog::column_details(
    const QualifiedName& name) const {
  if (auto it = details_.find(name); it != details_.end()) {
    return it->second;
  }
  return std::nullopt;
}

std::optional<ColumnSlots> StaticCatalog::column_slots(const QualifiedName& name) const {
  if (auto it = slots_.find(name); it != slots_.end()) {
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

std::optional<char> StaticCatalog::function_volatility(const QualifiedName& name) const {
  if (!complete_functions_.contains(name.table)) {
    return std::nullopt;
  }
  return most_volatile(functions_, name);
}

std::optional<FunctionOutput> StaticCatalog::function_output(const QualifiedName& name) const {
  if (!complete_functions_.contains(name.table)) {
    return std::nullopt;
  }
  return common_output(functions_, name);
}

}  // namespace switchyard::rewrite
