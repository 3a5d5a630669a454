#include "proxy/nested_migrations.hpp"

#include "config/identifier.hpp"

namespace switchyard::proxy {
namespace {

bool declared_on(const config::Migration& m, const rewrite::QualifiedName& table) {
  return config::identifier_name(m.schema) == table.schema &&
         config::identifier_name(m.table) == table.table;
}

// The column both rewrite, as written in the descendant's migration; "" when none.
std::string shared_column(const config::Migration& root, const config::Migration& nested) {
  for (const std::string* column : {&nested.old_column, &nested.new_column}) {
    const std::string name = config::identifier_name(*column);
    if (name == config::identifier_name(root.old_column) ||
        name == config::identifier_name(root.new_column)) {
      return *column;
    }
  }
  return "";
}

}  // namespace

std::vector<NestedMigrationError> nested_migration_errors(
    const std::vector<const config::Migration*>& migrations,
    const std::vector<Descendant>& descendants) {
  std::vector<NestedMigrationError> errors;
  for (const auto& descendant : descendants) {
    for (const auto* root : migrations) {
      if (!declared_on(*root, descendant.ancestor)) {
        continue;
      }
      for (const auto* nested : migrations) {
        if (!declared_on(*nested, descendant.name)) {
          continue;
        }
        const std::string column = shared_column(*root, *nested);
        if (column.empty()) {
          continue;
        }
        const std::string root_table = root->schema + "." + root->table;
        const std::string nested_table = nested->schema + "." + nested->table;
        errors.push_back(NestedMigrationError{
            nested, "migration \"" + nested->name + "\" on " + nested_table + " and migration \"" +
                        root->name + "\" on " + root_table + " both rewrite column " + column +
                        ": " + nested_table + " is a partition or inheritance child of " +
                        root_table + ", which \"" + root->name +
                        "\" covers too, so a row would be written and read by one rule or the "
                        "other depending on the name a statement uses, and its columns would "
                        "drift; a column can take part in one migration at a time: keep \"" +
                        root->name + "\" on " + root_table + " and remove \"" + nested->name +
                        "\""});
      }
    }
  }
  return errors;
}

}  // namespace switchyard::proxy
