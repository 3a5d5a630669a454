// `NATURAL JOIN` over a mapped table once N exists (or reads = new). A natural join compares
// and merges every column both inputs have, by name, as stored: since N was added it may join
// on N too (when the other input has a column of that name), which the app never meant, its
// `*` would show N, and under reads = new O is stale. So the join is written out as the app
// meant it, with the columns both inputs have as the app sees them (O, not N), and then served
// like any `JOIN ... USING` (using_join.cpp; O is read from N only under reads = new):
//
//   FROM users u NATURAL LEFT JOIN labels        (both have id and status)
//   FROM users u LEFT JOIN labels USING (id, status)
//
// No common column makes it `ON TRUE`, as Postgres reads a natural join without one. Only the
// shape `a NATURAL JOIN b` of two named FROM items is written out; others stay refused.

#include <algorithm>

#include "rewrite/analyzer.hpp"
#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite::detail {

std::optional<std::vector<std::string>> Analyzer::natural_to_using(
    const PgQuery__JoinExpr* join, const std::vector<Relation*>& inner, std::size_t from_left) {
  const Migration* first = nullptr;  // the one a refusal names: reads = new first
  for (const Relation* r : inner) {
    for (const Migration* m : r->migrations) {
      if (first == nullptr || (reads_new(m) && !reads_new(first))) {
        first = m;
      }
    }
  }
  // Under reads = old, O as stored is current: a shape not written out is left as written, as
  // before N existed to be written out for.
  auto refuse = [&](const std::string& why) -> std::optional<std::vector<std::string>> {
    if (first != nullptr && reads_new(first)) {
      unsupported(first, "NATURAL JOIN with the mapped table " + why);
    }
    return std::nullopt;
  };
  if (from_left != 1 || inner.size() != 2 || join->alias != nullptr ||
      join->join_using_alias != nullptr || join->rarg == nullptr ||
      join->rarg->node_case != PG_QUERY__NODE__NODE_RANGE_VAR) {
    return refuse("other than `a NATURAL JOIN b` of a table b without a join alias");
  }
  // Each input's columns as the app sees them: a mapped table's without N (O in its place).
  bool asked = false;
  auto app_columns = [&](Relation& r) -> Names {
    if (r.kind == Relation::Kind::table && !r.migrations.empty()) {
      if (r.alias_colnames) {
        return std::nullopt;
      }
      if (!column_list_usable(r)) {
        return std::nullopt;
      }
      bool known = false;
      std::vector<std::string> cols = visible_columns(r, &known);
      if (!known) {
        asked = asked || !missing.empty();
        return std::nullopt;
      }
      return cols;
    }
    const Names& cols = columns_of(r);
    asked = asked || (!cols.has_value() && !missing.empty());
    return cols;
  };
  const Names left = app_columns(*inner[0]);
  const Names right = app_columns(*inner[1]);
  if (!left.has_value() || !right.has_value()) {
    if (asked) {
      return std::nullopt;  // the statement is analysed again with the catalog's answer
    }
    return refuse("beside an input whose columns are not known (a function, a column alias list)");
  }
  std::vector<std::string> common;
  for (const std::string& c : *left) {
    if (std::find(right->begin(), right->end(), c) != right->end() &&
        std::find(common.begin(), common.end(), c) == common.end()) {
      common.push_back(c);
    }
  }
  const PgQuery__RangeVar* rv = join->rarg->range_var;
  const int right_begin = tokens_.index_at(rv->location);
  int right_end = range_var_end(rv, right_begin);
  if (right_end >= 0 && rv->alias != nullptr && rv->alias->n_colnames > 0) {
    right_end = tokens_.is_char(right_end + 1, '(') ? tokens_.matching_close(right_end + 1) : -1;
  }
  const int natural = right_begin < 0 ? -1 : tokens_.keyword_at_or_before(right_begin, "natural");
  if (right_end < 0 || natural < 0 || tokens_.is_keyword(right_end + 1, "tablesample")) {
    return refuse("where the join cannot be located in the text");
  }
  std::string condition = " ON TRUE";
  if (!common.empty()) {
    condition = " USING (";
    for (std::size_t i = 0; i < common.size(); ++i) {
      condition += (i == 0 ? "" : ", ") + quote_ident(common[i]);
    }
    condition += ")";
  }
  if (!edits_.replace(tokens_.at(natural).start, tokens_.at(natural + 1).start, "") ||
      !edits_.insert(tokens_.at(right_end).end, condition)) {
    return refuse("where other rewrites overlap it");
  }
  for (const Relation* r : inner) {
    for (const Migration* m : r->migrations) {
      use(m).rewritten = true;
    }
  }
  return common;
}

}  // namespace switchyard::rewrite::detail
