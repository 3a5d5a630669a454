// `JOIN ... USING (O)` under reads = new. USING compares the columns as stored and merges them
// into one, which the rest of the query names bare, so reads of O cannot be rewritten where they
// are written. Instead the mapped table itself is replaced by a subquery that serves O from N,
// under the table's name, with every other column as it is:
//
//   FROM orders o JOIN payments USING (user_id)
//   FROM (SELECT o.id, o.account_id AS user_id, o.account_id FROM orders o) AS o
//        JOIN payments USING (user_id)
//
// Postgres pulls such a subquery up into the query, so an index on N serves the join as it
// would serve `o.account_id = payments.user_id`. References through the name (`o.user_id`,
// `o.*`, a whole row) work on the subquery as on the table; system columns and schema-qualified
// references do not, and are refused (read_rule.cpp).

#include <algorithm>

#include "rewrite/analyzer.hpp"
#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite::detail {

int Analyzer::range_var_end(const PgQuery__RangeVar* rv, int begin) const {
  int end = begin < 0 ? -1 : tokens_.dotted_name_end(begin);
  if (end >= 0 && tokens_.is_char(end + 1, '*')) {
    ++end;  // `users*`: the old spelling of "with its descendants", the default
  }
  if (end >= 0 && rv->alias != nullptr) {
    end += tokens_.is_keyword(end + 1, "as") ? 2 : 1;
    // Unquoted, the alias is folded to lower case in the tree but not in the text.
    const std::string alias = rv->alias->aliasname != nullptr ? rv->alias->aliasname : "";
    const std::string_view written = end < tokens_.size() ? tokens_.text(end) : "";
    if (!iequals(written, alias) && written != quote_ident(alias) &&
        written != "\"" + alias + "\"") {
      end = -1;
    }
  }
  return end;
}

void Analyzer::wrap_for_using(Relation& rel, const PgQuery__JoinExpr* join,
                              const std::vector<const Migration*>& in_using) {
  const Migration* first = in_using.front();
  const std::string what = "JOIN ... USING (" + first->old_column + ")";
  const PgQuery__RangeVar* rv = rel.range_var;
  if (rel.kind != Relation::Kind::table || rv == nullptr || rel.hidden || rel.alias_colnames ||
      !rv->inh || join->alias != nullptr || join->join_using_alias != nullptr ||
      !rel.qname.has_value()) {
    unsupported(first, what +
                           " on a table named through ONLY, a column alias list or a join "
                           "alias");
    return;
  }
  if (!column_list_usable(rel)) {
    return;
  }
  const std::optional<std::vector<std::string>> columns = catalog_columns(*rel.qname);
  if (!columns.has_value()) {
    return;  // asked of the catalog; the statement is analysed again with them
  }
  // The FROM item's text: the table's name and its alias, kept as written inside the subquery.
  const int begin = tokens_.index_at(rv->location);
  const int end = range_var_end(rv, begin);
  if (begin < 0 || end < 0) {
    unsupported(first, what + ": cannot locate the table in the text");
    return;
  }
  if (tokens_.is_keyword(end + 1, "tablesample")) {  // a subquery cannot be sampled
    unsupported(first, what + " on a sampled table");
    return;
  }
  const std::string ref = quote_ident(rel.refname);
  auto served = [&](const Migration* m) {
    return m->as_old_type(transformed(m->to_old, ref + "." + quote_ident(m->new_column))) + " AS " +
           quote_ident(m->old_column);
  };
  std::string list;
  std::vector<const Migration*> pending = in_using;
  for (const std::string& column : *columns) {
    list += list.empty() ? "" : ", ";
    const auto m = std::find_if(pending.begin(), pending.end(),
                                [&](const Migration* p) { return p->old_column == column; });
    if (m != pending.end()) {
      list += served(*m);
      pending.erase(m);
    } else {
      list += ref + "." + quote_ident(column);
    }
  }
  for (const Migration* m : pending) {  // O already dropped: served all the same
    list += (list.empty() ? "" : ", ") + served(m);
  }
  const int from = tokens_.at(begin).start;
  const int to = tokens_.at(end).end;
  const std::string item = sql_.substr(static_cast<size_t>(from), static_cast<size_t>(to - from));
  if (!edits_.replace(from, to, "(SELECT " + list + " FROM " + item + ") AS " + ref)) {
    unsupported(first, what + ": overlapping rewrites");
    return;
  }
  rel.wrapped = true;
  wrapped_any_ = true;
  for (const Migration* m : in_using) {
    use(m).reads_of_old++;
    use(m).rewritten = true;
  }
}

}  // namespace switchyard::rewrite::detail
