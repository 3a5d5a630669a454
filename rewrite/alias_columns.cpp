// A table alias with a column list (`FROM t AS a (x, y)`) over a mapped table. Postgres puts
// the names on the table's live columns in attnum order (buildRelationAliases), so where that
// order and the old app's view of the table (without N, O where it stood) differ, a name lands
// on another column than the app meant: such a list is refused. Before that point each name
// stands for the column under it, and a name over O is a read of O.

#include <algorithm>

#include "rewrite/analyzer.hpp"

namespace switchyard::rewrite::detail {

void Analyzer::check_alias_list(Relation& rel) {
  const PgQuery__Alias* alias = rel.range_var->alias;
  for (size_t i = 0; i < alias->n_colnames; ++i) {
    mapped_alias_names_.insert(std::string(string_value(alias->colnames[i])));
  }
  if (!star_active(rel) || !column_list_usable(rel)) {
    return;
  }
  const auto physical = catalog_columns(*rel.qname);
  bool known = false;
  const std::vector<std::string> app = visible_columns(rel, &known);
  if (!physical.has_value() || !known) {
    return;  // asked of the catalog, or refused already
  }
  size_t same = 0;
  while (same < app.size() && same < physical->size() && app[same] == (*physical)[same]) {
    ++same;
  }
  for (const Migration* m : rel.migrations) {
    // N keeps its own name past the list: a name of the list like it would be ambiguous, where
    // the old table had no such column.
    const bool names_new =
        std::any_of(alias->colnames, alias->colnames + alias->n_colnames,
                    [&](const Node* c) { return string_value(c) == m->new_column; });
    if (names_new &&
        std::find(physical->begin(), physical->end(), m->new_column) != physical->end()) {
      unsupported(m, "the column list of table alias \"" + rel.refname + "\" on " + m->table +
                         " naming a column \"" + m->new_column +
                         "\" (the table's own column of that name makes it ambiguous: rename it "
                         "in the list)");
    }
  }
  // The text names it past the list itself (or its case hides it from the look): referenced.
  auto referenced = [&](std::string_view name) {
    if (std::any_of(name.begin(), name.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
      return true;
    }
    const size_t first = ifind_name(sql_, name, 0);
    return first != std::string_view::npos &&
           ifind_name(sql_, name, first + 1) != std::string_view::npos;
  };
  for (const Migration* m : rel.migrations) {
    // A list that names O otherwise, in a text that uses that name: the checks that keep a read
    // of O from the stale column (USING joins, uncertain and grouped references) know O by its
    // own name. A `*` over the list is served (aliased_visible_columns).
    const auto at = std::find(app.begin(), app.end(), m->old_column);
    const auto i = static_cast<size_t>(at - app.begin());
    if (reads_new(m) && at != app.end() && i < alias->n_colnames &&
        string_value(alias->colnames[i]) != m->old_column &&
        referenced(string_value(alias->colnames[i]))) {
      unsupported(m, "the column list of table alias \"" + rel.refname + "\" on " + m->table +
                         " naming column \"" + m->old_column + "\" \"" +
                         std::string(string_value(alias->colnames[i])) + "\" (give it its own " +
                         "name in the list, or drop the list)");
    }
  }
  if (alias->n_colnames <= same) {
    return;
  }
  for (const Migration* m : rel.migrations) {
    unsupported(m, "the column list of table alias \"" + rel.refname + "\" on " + m->table +
                       " (its names from column " + std::to_string(same + 1) +
                       " on would fall on other columns than before the migration: "
                       "drop the column list, or name the columns in a sub-select)");
  }
}

std::string Analyzer::aliased_column(Relation& rel, std::string_view col) {
  if (!rel.alias_colnames || rel.migrations.empty() || rel.range_var == nullptr ||
      !rel.qname.has_value()) {
    return std::string(col);
  }
  const auto physical = catalog_columns(*rel.qname);
  const PgQuery__Alias* alias = rel.range_var->alias;
  for (size_t i = 0; i < alias->n_colnames; ++i) {
    if (string_value(alias->colnames[i]) == col) {
      // Unknown (asked of the catalog) or past the table's width (the server refuses it).
      return physical.has_value() && i < physical->size() ? (*physical)[i] : std::string();
    }
  }
  return std::string(col);
}

std::vector<std::string> Analyzer::aliased_visible_columns(Relation& rel, bool* known,
                                                           bool* alike) {
  *alike = false;
  std::vector<std::string> cols = visible_columns(rel, known);
  if (!*known || !rel.alias_colnames) {
    return cols;
  }
  // A list that reaches past where the app's view and the table agree is refused already
  // (check_alias_list); a shorter one renames the app's first columns.
  const PgQuery__Alias* alias = rel.range_var->alias;
  for (size_t i = 0; i < alias->n_colnames && i < cols.size(); ++i) {
    cols[i] = std::string(string_value(alias->colnames[i]));
  }
  // Written `u.name` each, a name given twice would be ambiguous where `u.*` was not.
  std::vector<std::string> sorted = cols;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    *known = false;
    *alike = true;
    return {};
  }
  return cols;
}

}  // namespace switchyard::rewrite::detail
