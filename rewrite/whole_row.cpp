// A whole-row reference to a mapped table under reads = new (`row_to_json(u)`, `json_agg(u.*)`,
// `SELECT u`): the record as stored carries O's stale value, so it is built again from the
// columns with to_old(N) in O's field. Cast to the table's row type, it keeps the field names
// and the type a client was told; O's field is cast to O's type, as every other read of it
// that reaches the client is.

#include <algorithm>

#include "rewrite/analyzer.hpp"
#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite::detail {

void Analyzer::whole_row_read(const PgQuery__ColumnRef* cr, Relation& rel, bool rebuildable) {
  std::vector<const Migration*> active;
  for (const Migration* m : rel.migrations) {
    if (reads_new(m)) {
      active.push_back(m);
    }
  }
  if (active.empty()) {
    return;
  }
  auto refuse = [&](const std::string& why) {
    for (const Migration* m : active) {
      unsupported(m, "whole-row reference to the mapped table (" + rel.refname + ")" + why);
    }
  };
  // A function's rows of the table's type (`FROM all_users() f`) are rebuilt alike.
  if (!rebuildable || (rel.kind != Relation::Kind::table && rel.range_function == nullptr) ||
      rel.alias_colnames || star_refusal(rel) != nullptr || !rel.qname.has_value()) {
    refuse("");
    return;
  }
  if (!column_list_usable(rel)) {
    return;
  }
  const auto cols = catalog_columns(*rel.qname);
  if (!cols.has_value()) {
    return;  // recorded as missing: the retry decides
  }
  for (const Migration* m : active) {
    if (std::find(cols->begin(), cols->end(), m->old_column) == cols->end()) {
      refuse(" once \"" + m->old_column + "\" is dropped: the row type has no field for it");
      return;
    }
  }
  const std::string record = qualifier(rel);
  std::string fields;
  for (const std::string& col : *cols) {
    if (!fields.empty()) {
      fields += ", ";
    }
    auto m = std::find_if(active.begin(), active.end(),
                          [&](const Migration* a) { return a->old_column == col; });
    const std::string column =
        record + "." + quote_ident(m != active.end() ? (*m)->new_column : col);
    if (m == active.end()) {
      fields += column;
    } else {
      fields += (*m)->as_old_type(transformed((*m)->to_old, column));
    }
  }
  // An outer join's missing row is NULL, not a row of NULLs; `IS NULL` cannot tell the two
  // apart, num_nulls() can. `u.*` there (the whole row, as a function's argument) needs no
  // name resolution, unlike a bare `u`, which might be a column.
  const std::string text = "(CASE WHEN pg_catalog.num_nulls(" + record + ".*) = 0 THEN ROW(" +
                           fields + ")::" + quote_ident(rel.qname->schema) + "." +
                           quote_ident(rel.qname->table) + " END)";
  const int first = tokens_.index_at(cr->location);
  const int last = first < 0 ? -1 : tokens_.dotted_name_end(first);
  if (first < 0 || !edits_.replace(tokens_.at(first).start, tokens_.at(last).end, text)) {
    refuse(": cannot locate it in the text");
    return;
  }
  rewritten_.insert(cr);
  for (const Migration* m : active) {
    use(m).reads_of_old++;
    use(m).rewritten = true;
  }
}

void Analyzer::row_columns(const PgQuery__ColumnRef* cr, Relation& rel) {
  if (!star_active(rel)) {
    return;  // the table's columns are the app's (or the catalog is asked)
  }
  auto refuse = [&](const std::string& why) {
    for (const Migration* m : rel.migrations) {
      unsupported(m, "ROW(" + rel.refname + ".*) " + why);
    }
  };
  if ((rel.kind != Relation::Kind::table && rel.range_function == nullptr) || rel.alias_colnames ||
      star_refusal(rel) != nullptr) {
    refuse("through a column alias list or WITH ORDINALITY");
    return;
  }
  if (!column_list_usable(rel)) {
    return;
  }
  bool known = false;
  const std::vector<std::string> cols = visible_columns(rel, &known);
  if (!known) {
    return;
  }
  const std::string record = qualifier(rel) + ".";
  std::string fields;
  for (const std::string& col : cols) {
    fields += fields.empty() ? "" : ", ";
    auto m = std::find_if(rel.migrations.begin(), rel.migrations.end(), [&](const Migration* mm) {
      return mm->old_column == col && reads_new(mm);
    });
    if (m == rel.migrations.end()) {
      fields += record + quote_ident(col);
    } else {
      fields +=
          (*m)->as_old_type(transformed((*m)->to_old, record + quote_ident((*m)->new_column)));
      use(*m).reads_of_old++;
    }
  }
  const int first = tokens_.index_at(cr->location);
  const int last = first < 0 ? -1 : tokens_.dotted_name_end(first);
  if (first < 0 || !edits_.replace(tokens_.at(first).start, tokens_.at(last).end, fields)) {
    refuse("that cannot be located in the text");
    return;
  }
  rewritten_.insert(cr);
  for (const Migration* m : rel.migrations) {
    use(m).rewritten = true;
  }
}

}  // namespace switchyard::rewrite::detail
