// MERGE: the read rule over the join condition, every WHEN condition and every action's values;
// the write rule over each action, as for an UPDATE's SET list (WHEN MATCHED THEN UPDATE) and an
// INSERT's single VALUES row (WHEN NOT MATCHED THEN INSERT).

#include <algorithm>

#include "rewrite/analyzer.hpp"

namespace switchyard::rewrite::detail {

namespace {

const PgQuery__MergeWhenClause* when_clause(const Node* n) {
  return (n != nullptr && n->node_case == PG_QUERY__NODE__NODE_MERGE_WHEN_CLAUSE)
             ? n->merge_when_clause
             : nullptr;
}

}  // namespace

void Analyzer::merge_stmt(const PgQuery__MergeStmt* mg, const Scope* outer) {
  Scope scope;
  scope.parent = outer;
  process_with(mg->with_clause, scope);
  // WHEN MATCHED sees the target and the source; WHEN NOT MATCHED only the source, as in
  // Postgres (the target row does not exist), so an unqualified name there is the source's.
  Scope matched;
  matched.parent = &scope;
  matched.rels.push_back(make_table(mg->relation, scope, true));
  add_from_item(mg->source_relation, matched, nullptr);
  Scope not_matched;
  not_matched.parent = &scope;
  not_matched.rels.assign(matched.rels.begin() + 1, matched.rels.end());
  walk_expr(mg->join_condition, matched);
  for (size_t i = 0; i < mg->n_merge_when_clauses; ++i) {
    const PgQuery__MergeWhenClause* wc = when_clause(mg->merge_when_clauses[i]);
    if (wc == nullptr) {
      continue;
    }
    const Scope& sees = wc->matched ? matched : not_matched;
    walk_expr(wc->condition, sees);
    walk_set_values(wc->target_list, wc->n_target_list, sees);
    for (size_t k = 0; k < wc->n_values; ++k) {
      walk_expr(wc->values[k], sees);
    }
  }
  Relation& target = matched.rels.front();
  for (size_t i = 0; i < mg->n_merge_when_clauses; ++i) {
    const PgQuery__MergeWhenClause* wc = when_clause(mg->merge_when_clauses[i]);
    if (wc == nullptr) {
      continue;
    }
    if (wc->command_type == PG_QUERY__CMD_TYPE__CMD_UPDATE) {
      // The SET list ends where the next WHEN clause (or the statement) begins.
      set_list_writes(wc->target_list, wc->n_target_list, target, {"when"});
    } else if (wc->command_type == PG_QUERY__CMD_TYPE__CMD_INSERT &&
               !names_a_column_twice(wc->target_list, wc->n_target_list)) {
      share_column_list(wc->n_target_list == 0 && target.migrations.size() > 1);
      for (const Migration* m : target.migrations) {
        merge_insert_writes(wc, target, m);
      }
      put_shared_column_list();
    }
  }
}

void Analyzer::merge_insert_writes(const PgQuery__MergeWhenClause* wc, Relation& target,
                                   const Migration* m) {
  if (wc->n_values == 0) {
    return;  // DEFAULT VALUES writes neither column
  }
  InsertSite site;
  site.synthesized = wc->n_target_list == 0;
  if (!insert_column_names(wc->target_list, wc->n_target_list, m, &site.cols)) {
    return;
  }
  if (site.synthesized && m->writes != Writes::old_column &&
      std::any_of(wc->values, wc->values + wc->n_values,
                  [](const Node* v) { return expands_a_row(v); })) {
    unsupported(m, kRowExpansionWithoutList);
    return;
  }
  if (site.synthesized &&
      (m->writes == Writes::old_column || !first_columns(target, wc->n_values, &site.cols))) {
    return;
  }
  int io = -1;
  int in = -1;
  const WriteOp op = insert_op(m, site.cols, &io, &in);
  // Under writes = both a row that lists both columns still writes one alone where the other's
  // item is DEFAULT (insert_edits).
  if (op == WriteOp::none && !defaults_one(m, wc->values, wc->n_values, io, in)) {
    return;
  }
  // `INSERT [(cols)] [OVERRIDING ... VALUE] VALUES (row)`: one row.
  const int loc = min_location(node_payload(wc->values[0]));
  const int v = loc < 0 ? -1 : tokens_.keyword_at_or_before(tokens_.index_before(loc), "values");
  std::vector<Span> items = v < 0 ? std::vector<Span>{} : tokens_.paren_items(v + 1);
  if (items.size() != wc->n_values) {
    unsupported(m, "cannot locate the VALUES row of a MERGE INSERT in the text");
    return;
  }
  site.append_at.push_back(items.back().end);
  site.rows.push_back(std::move(items));
  site.nodes.emplace_back(wc->values, wc->values + wc->n_values);
  if (site.synthesized) {
    const int ins = tokens_.keyword_at_or_before(v, "insert");
    site.list_at = ins >= 0 ? tokens_.at(ins).end : -1;
  } else {
    site.list_open = tokens_.index_at(wc->target_list[0]->res_target->location) - 1;
  }
  insert_edits(m, op, io, in, site);
}

}  // namespace switchyard::rewrite::detail
