// INSERT: the write rule over the column list and every VALUES row (or the SELECT's target
// list), ON CONFLICT DO UPDATE through the SET-list rule, RETURNING through the read rule.

#include <algorithm>

#include "rewrite/analyzer.hpp"
#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite::detail {

namespace {

std::string join_idents(const std::vector<std::string>& cols) {
  std::string out;
  for (const std::string& c : cols) {
    if (!out.empty()) {
      out += ", ";
    }
    out += quote_ident(c);
  }
  return out;
}

int index_of(const std::vector<std::string>& v, std::string_view s) {
  auto it = std::find(v.begin(), v.end(), s);
  return it == v.end() ? -1 : static_cast<int>(it - v.begin());
}

bool mentions_column(const Node* n, std::string_view column) {
  if (n == nullptr) {
    return false;
  }
  if (n->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) {
    const PgQuery__ColumnRef* cr = n->column_ref;
    return cr->n_fields > 0 &&
           cr->fields[cr->n_fields - 1]->node_case == PG_QUERY__NODE__NODE_STRING &&
           string_value(cr->fields[cr->n_fields - 1]) == column;
  }
  bool found = false;
  const auto visit = [&](const Node* child) { found = found || mentions_column(child, column); };
  for_each_child(node_payload(n), visit, [&](const ProtobufCMessage* typed) {
    for_each_child(typed, visit, [](const ProtobufCMessage*) {});
  });
  return found;
}

bool has_star_target(const PgQuery__SelectStmt* s) {
  for (size_t i = 0; i < s->n_target_list; ++i) {
    if (expands_a_row(s->target_list[i]->res_target->val)) {
      return true;
    }
  }
  return false;
}

bool values_expand_a_row(PgQuery__Node* const* items, size_t n) {
  return std::any_of(items, items + n, [](const Node* item) { return expands_a_row(item); });
}

}  // namespace

Names Analyzer::insert_stmt(const PgQuery__InsertStmt* ins, const Scope* outer) {
  Scope scope;
  scope.parent = outer;
  process_with(ins->with_clause, scope);
  Relation target = make_table(ins->relation, scope, true);
  Names query_names;
  if (ins->select_stmt != nullptr) {
    // Without a column list the query's width says which columns it fills, and a `*` gives
    // its names (hence its width) only when asked.
    const bool was_wanted = star_names_wanted_;
    star_names_wanted_ = ins->n_cols == 0 && !target.migrations.empty();
    query_names = walk_query_node(ins->select_stmt, &scope);
    star_names_wanted_ = was_wanted;
  }
  const PgQuery__OnConflictClause* oc = ins->on_conflict_clause;
  if (oc != nullptr && oc->infer != nullptr) {
    conflict_target(oc->infer, target);
  }
  if (oc != nullptr && oc->action == PG_QUERY__ON_CONFLICT_ACTION__ONCONFLICT_UPDATE) {
    // The conflict target (index inference) names index columns, not reads (conflict_target).
    Scope ocs;
    ocs.parent = &scope;
    ocs.rels.push_back(target);
    Relation excluded = target;
    excluded.refname = "excluded";
    ocs.rels.push_back(excluded);
    walk_set_values(oc->target_list, oc->n_target_list, ocs);
    walk_expr(oc->where_clause, ocs);
    set_list_writes(oc->target_list, oc->n_target_list, target);
  }
  Names returning;
  if (ins->n_returning_list > 0) {
    Scope rs;
    rs.parent = &scope;
    rs.rels.push_back(target);
    returning = walk_targets(ins->returning_list, ins->n_returning_list, rs);
  }
  if (names_a_column_twice(ins->cols, ins->n_cols)) {
    return returning;
  }
  share_column_list(ins->n_cols == 0 && target.migrations.size() > 1);
  for (const Migration* m : target.migrations) {
    insert_writes(ins, target, m, query_names);
  }
  put_shared_column_list();
  return returning;
}

void Analyzer::share_column_list(bool shared) {
  shared_list_.reset();
  if (shared) {
    // Spelled out: clang does not count the nested struct as default-constructible here.
    shared_list_ = SharedColumnList{{}, -1};
  }
}

void Analyzer::put_shared_column_list() {
  if (shared_list_.has_value() && shared_list_->at >= 0 &&
      !edits_.insert(shared_list_->at, " (" + join_idents(shared_list_->cols) + ")")) {
    unsupported(nullptr, "overlapping rewrites in an INSERT");
  }
  shared_list_.reset();
}

// Under writes = new the INSERT leaves O out, so a unique index on O never sees the row: an
// upsert inferring that index would never find its conflict, and insert a second row where
// the app meant to update one. It infers N's instead (Postgres refuses the statement when N has
// no such index, which beats a silent duplicate). An index expression or predicate over O has
// no counterpart the rewrite could name: refused.
void Analyzer::conflict_target(const PgQuery__InferClause* infer, const Relation& target) {
  for (const Migration* m : target.migrations) {
    if (m->writes != Writes::new_column) {
      continue;
    }
    std::vector<size_t> named;
    bool expression = mentions_column(infer->where_clause, m->old_column);
    for (size_t i = 0; i < infer->n_index_elems; ++i) {
      const Node* elem = infer->index_elems[i];
      if (elem->node_case != PG_QUERY__NODE__NODE_INDEX_ELEM) {
        continue;
      }
      const PgQuery__IndexElem* ie = elem->index_elem;
      if (ie->name != nullptr && ie->name == m->old_column) {
        named.push_back(i);
      }
      expression = expression || mentions_column(ie->expr, m->old_column);
    }
    if (expression) {
      unsupported(m,
                  "ON CONFLICT inferring an index by an expression or predicate over the old "
                  "column under writes = \"new\"");
      continue;
    }
    if (named.empty()) {
      continue;
    }
    const int open = tokens_.index_at(infer->location);
    const std::vector<Span> items =
        open >= 0 && tokens_.is_char(open, '(') ? tokens_.paren_items(open) : std::vector<Span>{};
    bool ok = items.size() == infer->n_index_elems;
    for (size_t i = 0; ok && i < named.size(); ++i) {
      const int name = tokens_.index_from(items[named[i]].begin);
      ok = tokens_.is_word(name) &&
           edits_.replace(tokens_.at(name).start, tokens_.at(name).end, quote_ident(m->new_column));
    }
    if (!ok) {
      unsupported(m, "cannot locate the ON CONFLICT target in the text");
      continue;
    }
    use(m).rewritten = true;
  }
}

bool Analyzer::insert_column_names(PgQuery__Node* const* targets, size_t n, const Migration* m,
                                   std::vector<std::string>* cols) {
  for (size_t i = 0; i < n; ++i) {
    const PgQuery__ResTarget* rt = targets[i]->res_target;
    cols->emplace_back(rt->name != nullptr ? rt->name : "");
    if (rt->n_indirection > 0 && (cols->back() == m->old_column || cols->back() == m->new_column) &&
        m->writes != Writes::old_column) {
      unsupported(m, "INSERT into a field or element of a mapped column");
      return false;
    }
  }
  return true;
}

bool Analyzer::first_columns(Relation& target, size_t k, std::vector<std::string>* cols) {
  if (!column_list_usable(target)) {
    return false;
  }
  bool known = false;
  const std::vector<std::string> visible = visible_columns(target, &known);
  if (!known) {
    return false;  // missing: the retry decides
  }
  if (k <= visible.size()) {
    cols->assign(visible.begin(), visible.begin() + static_cast<long>(k));
    return true;
  }
  const auto full = catalog_columns(*target.qname);
  if (!full.has_value() || k > full->size()) {
    return false;  // more values than columns: the server reports it
  }
  // The values past the app's columns go to the table's next ones (N at its end), which is
  // what Postgres does only while the app's columns are the table's first: once a dropped O
  // is put back in its place, the table's order is another, and the values would shift.
  if (!std::equal(visible.begin(), visible.end(), full->begin())) {
    for (const Migration* m : target.migrations) {
      if (std::find(visible.begin(), visible.end(), m->old_column) != visible.end() &&
          std::find(full->begin(), full->end(), m->old_column) == full->end()) {
        involved.insert(m);
        problems.push_back(Problem{
            m, "migration \"" + m->name + "\": an INSERT without a column list with " +
                   std::to_string(k) + " values, more than the " + std::to_string(visible.size()) +
                   " columns of " + target.qname->table + " the app knows (" + m->old_column +
                   " where it stood), would put the values past them in other columns: name " +
                   "the columns"});
        return false;
      }
    }
  }
  cols->assign(full->begin(), full->begin() + static_cast<long>(k));
  return true;
}

Analyzer::WriteOp Analyzer::insert_op(const Migration* m, const std::vector<std::string>& cols,
                                      int* io, int* in) {
  *io = index_of(cols, m->old_column);
  *in = index_of(cols, m->new_column);
  if (*io >= 0) {
    use(m).writes_of_old++;
  }
  if (*in >= 0) {
    use(m).writes_of_new++;
  }
  return decide_write(m, *io >= 0, *in >= 0);
}

void Analyzer::insert_writes(const PgQuery__InsertStmt* ins, Relation& target, const Migration* m,
                             const Names& query_names) {
  InsertSite site;
  site.synthesized = ins->n_cols == 0;
  if (!insert_column_names(ins->cols, ins->n_cols, m, &site.cols)) {
    return;
  }
  if (!site.synthesized) {
    site.list_open = tokens_.index_at(ins->cols[0]->res_target->location) - 1;
  }
  const PgQuery__SelectStmt* sel = (ins->select_stmt != nullptr &&
                                    ins->select_stmt->node_case == PG_QUERY__NODE__NODE_SELECT_STMT)
                                       ? ins->select_stmt->select_stmt
                                       : nullptr;
  if (site.synthesized && m->writes == Writes::old_column) {
    if (sel != nullptr) {
      hidden_new_column_list(ins, target, sel, query_names);
    }
    return;
  }
  if (site.synthesized) {
    if (sel == nullptr) {
      return;  // DEFAULT VALUES writes neither column
    }
    std::string unknown;
    const std::optional<size_t> k = insert_width(sel, query_names, &unknown);
    if (!k.has_value()) {
      unsupported(m, unknown);
      return;
    }
    if (!first_columns(target, *k, &site.cols)) {
      return;
    }
    const int e = column_list_token(ins);
    site.list_at = e >= 0 ? tokens_.at(e).end : -1;
    site.list_end_token = e;
  }
  int io = -1;
  int in = -1;
  const WriteOp op = insert_op(m, site.cols, &io, &in);
  if (sel == nullptr) {
    return;
  }
  if (op == WriteOp::none) {
    // Under writes = both a VALUES row that lists both columns still writes one alone where
    // the other's item is DEFAULT (insert_edits).
    bool any = false;
    for (size_t r = 0;
         !any && sel->op == PG_QUERY__SET_OPERATION__SETOP_NONE && r < sel->n_values_lists; ++r) {
      const PgQuery__List* list = sel->values_lists[r]->list;
      any = defaults_one(m, list->items, list->n_items, io, in);
    }
    if (!any) {
      return;
    }
  }
  // Rows whose items can be edited one by one: an untyped item among them, or any under a
  // length-limited O, is typed as O would type it (transformed_write).
  const bool itemwise = sel->op == PG_QUERY__SET_OPERATION__SETOP_NONE &&
                        (sel->n_values_lists > 0 || !has_star_target(sel));
  if (op == WriteOp::rename_to_new && m->to_new.empty() && m->same_values() &&
      (!m->types_differ() || (!itemwise && !limits_length(m->old_type)))) {
    // Only the column list changes: the values go to N as they are, whatever produces them
    // (SELECT *, UNION), so the rows need not be located.
    insert_edits(m, op, io, in, site);
    return;
  }
  // Locate every source row's items.
  if (sel->n_values_lists > 0 && sel->op == PG_QUERY__SET_OPERATION__SETOP_NONE) {
    // Two migrations of the table would each add a WITH: one CTE place only with one.
    const int insert_kw = tokens_.index_at(ins->relation->location) - 2;
    if (target.migrations.size() == 1 && insert_kw >= 0 &&
        tokens_.is_keyword(insert_kw, "insert") && tokens_.is_keyword(insert_kw + 1, "into")) {
      site.cte_at = tokens_.at(insert_kw).start;
      site.has_with = ins->with_clause != nullptr;
    }
    const Node* first_item = sel->values_lists[0]->list->items[0];
    const int loc = min_location(node_payload(first_item));
    const int v = loc < 0 ? -1 : tokens_.keyword_at_or_before(tokens_.index_before(loc), "values");
    int k = v + 1;
    for (size_t r = 0; v >= 0 && r < sel->n_values_lists; ++r) {
      int close = -1;
      std::vector<Span> items = tokens_.paren_items(k, &close);
      const PgQuery__List* list = sel->values_lists[r]->list;
      if (items.size() != list->n_items) {
        break;
      }
      site.append_at.push_back(items.back().end);
      site.rows.push_back(std::move(items));
      site.nodes.emplace_back(list->items, list->items + list->n_items);
      k = close + 1;
      if (r + 1 < sel->n_values_lists) {
        if (!tokens_.is_char(k, ',')) {
          break;
        }
        ++k;
      }
    }
    if (site.rows.size() != sel->n_values_lists) {
      unsupported(m, "cannot locate the VALUES rows in the text");
      return;
    }
  } else if (sel->op == PG_QUERY__SET_OPERATION__SETOP_NONE && !has_star_target(sel)) {
    // Nor can it change in place when ORDER BY, DISTINCT [ON] or GROUP BY may name it (by its
    // output name or position): they would sort or compare to_new's values, and LIMIT keep
    // other rows.
    const bool changes_item =
        op == WriteOp::remove_old ||
        (op == WriteOp::rename_to_new && (!m->to_new.empty() || m->types_differ()));
    if (changes_item &&
        (sel->n_sort_clause > 0 || sel->n_group_clause > 0 || sel->n_distinct_clause > 0)) {
      // The item cannot leave the query (ORDER BY 2, DISTINCT): the query is read back
      // through a subquery that leaves it out (or gives it to to_new), unless an item takes its
      // type from its column ($1, NULL, '2024-01-01'): one level down it would be text.
      bool typed = true;
      for (size_t i = 0; i < sel->n_target_list; ++i) {
        typed = typed && !is_untyped(sel->target_list[i]->res_target->val);
      }
      if (typed && sel->n_target_list == site.cols.size()) {
        wrapped_query_writes(ins, target, m, op, io, in, site);
        return;
      }
      unsupported(m,
                  std::string(op == WriteOp::remove_old ? "dropping the old column from"
                                                        : "writing to_new of the old column in") +
                      " an INSERT ... SELECT with ORDER/GROUP/DISTINCT beside an untyped item");
      return;
    }
    std::vector<Span> spans = select_target_spans(sel);
    const std::optional<Span> last_full =
        sel->n_target_list > 0
            ? target_span(sel->target_list[sel->n_target_list - 1]->res_target, false)
            : std::nullopt;
    if (spans.size() != sel->n_target_list || !last_full.has_value()) {
      unsupported(m, "cannot locate the SELECT targets of an INSERT in the text");
      return;
    }
    std::vector<const Node*> vals;
    for (size_t i = 0; i < sel->n_target_list; ++i) {
      vals.push_back(sel->target_list[i]->res_target->val);
    }
    // A value that may differ when evaluated twice is computed once, in a subquery, unless
    // another item takes its type from its column ($1, NULL, '2024-01-01'): one level down it
    // would be text.
    const int written = op == WriteOp::add_new ? io : in;
    if ((op == WriteOp::add_new || op == WriteOp::add_old) &&
        written < static_cast<int>(vals.size()) &&
        !unrepeatable(vals[static_cast<size_t>(written)]).empty() &&
        std::none_of(vals.begin(), vals.end(), is_untyped)) {
      wrapped_query_writes(ins, target, m, op, io, in, site);
      return;
    }
    site.rows.push_back(std::move(spans));
    site.nodes.push_back(std::move(vals));
    site.append_at.push_back(last_full->end);
  } else if (op == WriteOp::add_new || op == WriteOp::add_old) {
    // SELECT * or a set operation: the query's rows cannot be edited item by item, so they are
    // read back through a subquery with the written column added.
    wrapped_query_writes(ins, target, m, op, io, in, site);
    return;
  } else if (query_names.has_value() && query_names->size() == site.cols.size()) {
    // writes = new: O's item leaves the query or goes to N through to_new, in a subquery that
    // lists every column (the width is known, so none is dropped unseen).
    wrapped_query_writes(ins, target, m, op, io, in, site);
    return;
  } else {
    unsupported(m, std::string(sel->op != PG_QUERY__SET_OPERATION__SETOP_NONE
                                   ? "INSERT ... SELECT with UNION/INTERSECT/EXCEPT"
                                   : "INSERT ... SELECT *") +
                       " writing a mapped column, whose width is not known or differs from the "
                       "column list");
    return;
  }
  insert_edits(m, op, io, in, site);
}

std::optional<size_t> Analyzer::insert_width(const PgQuery__SelectStmt* sel,
                                             const Names& query_names, std::string* unknown) {
  if (sel->op == PG_QUERY__SET_OPERATION__SETOP_NONE && sel->n_values_lists > 0) {
    for (size_t r = 0; r < sel->n_values_lists; ++r) {
      const PgQuery__List* list = sel->values_lists[r]->list;
      if (values_expand_a_row(list->items, list->n_items)) {
        *unknown = kRowExpansionWithoutList;
        return std::nullopt;
      }
    }
    return sel->values_lists[0]->list->n_items;
  }
  if (sel->op == PG_QUERY__SET_OPERATION__SETOP_NONE && !has_star_target(sel)) {
    return sel->n_target_list;
  }
  if (query_names.has_value()) {
    return query_names->size();
  }
  *unknown = std::string("INSERT without a column list from ") +
             (sel->op != PG_QUERY__SET_OPERATION__SETOP_NONE ? "a set operation" : "SELECT *") +
             " whose columns are not known (a function in FROM without column names, or (x).*; "
             "name the columns)";
  return std::nullopt;
}

int Analyzer::column_list_token(const PgQuery__InsertStmt* ins) const {
  // The column list goes after the table name and its alias.
  const int r0 = tokens_.index_at(ins->relation->location);
  int e = r0 < 0 ? -1 : tokens_.dotted_name_end(r0);
  if (e >= 0 && tokens_.is_keyword(e + 1, "as")) {
    e += 2;
  }
  return e;
}

void Analyzer::hidden_new_column_list(const PgQuery__InsertStmt* ins, Relation& target,
                                      const PgQuery__SelectStmt* sel, const Names& query_names) {
  // Under writes = old a `*` leaves N out once it exists (star_active), so an app that learnt
  // the table's columns from one may send values for a column added after N: without a list
  // Postgres would put them in N, one column off. Whatever is not known here is forwarded as
  // written, as before N was added: this phase refuses nothing.
  if (!star_active(target)) {
    return;
  }
  std::string unknown;
  const std::optional<size_t> width = insert_width(sel, query_names, &unknown);
  if (!width.has_value()) {
    return;
  }
  const size_t k = *width;
  bool known = false;
  const std::vector<std::string> visible = visible_columns(target, &known);
  const auto full = catalog_columns(*target.qname);
  if (!known || !full.has_value() || k > visible.size() || k > full->size() ||
      std::equal(visible.begin(), visible.begin() + static_cast<long>(k), full->begin())) {
    return;
  }
  std::vector<std::string> cols(visible.begin(), visible.begin() + static_cast<long>(k));
  const int e = column_list_token(ins);
  const int at = e >= 0 ? tokens_.at(e).end : -1;
  if (shared_list_.has_value()) {
    if (shared_list_->cols.empty()) {
      shared_list_->cols = std::move(cols);
      shared_list_->at = at;
    }
    return;
  }
  if (at < 0 || !edits_.insert(at, " (" + join_idents(cols) + ")")) {
    unsupported(nullptr, "cannot place the column list of an INSERT in the text");
  }
}

void Analyzer::wrapped_query_writes(const PgQuery__InsertStmt* ins, const Relation& target,
                                    const Migration* m, WriteOp op, int io, int in,
                                    InsertSite& site) {
  const PgQuery__SelectStmt* sel = ins->select_stmt->select_stmt;
  const std::string what = sel->op != PG_QUERY__SET_OPERATION__SETOP_NONE
                               ? "INSERT ... SELECT with UNION/INTERSECT/EXCEPT"
                           : has_star_target(sel) ? "INSERT ... SELECT *"
                           : op == WriteOp::remove_old || op == WriteOp::rename_to_new
                               ? "INSERT ... SELECT with ORDER/GROUP/DISTINCT"
                               : "INSERT ... SELECT of a volatile value";
  // A WITH inside the query may hold a data-modifying statement, which a subquery may not; two
  // migrations of the table would each wrap the query.
  if (sel->with_clause != nullptr || target.migrations.size() != 1) {
    unsupported(m, what + " writing a mapped column" +
                       (sel->with_clause != nullptr ? " with a WITH inside the query"
                                                    : " of a table with two active migrations"));
    return;
  }
  // The query runs from after the column list, or the table name and alias without one (and
  // OVERRIDING ... VALUE), to RETURNING, ON CONFLICT (not a JOIN's `ON conflict = ...`, a
  // column may be named so), the statement's end or (in a WITH) the closing parenthesis.
  int close = site.list_end_token;
  const bool listed =
      site.synthesized ? close >= 0
                       : site.list_open >= 0 &&
                             tokens_.paren_items(site.list_open, &close).size() == site.cols.size();
  int first = close + 1;
  if (tokens_.is_keyword(first, "overriding")) {
    first += 3;
  }
  int end = first;
  for (int depth = 0; listed && end < tokens_.size() && tokens_.at(end).start < stmt_end_; ++end) {
    if (tokens_.is_char(end, '(')) {
      ++depth;
    } else if (tokens_.is_char(end, ')')) {
      if (depth-- == 0) {
        break;
      }
    } else if (depth == 0 &&
               (tokens_.is_char(end, ';') || tokens_.is_keyword(end, "returning") ||
                (tokens_.is_keyword(end, "on") && tokens_.is_keyword(end + 1, "conflict") &&
                 (tokens_.is_char(end + 2, '(') || tokens_.is_keyword(end + 2, "do") ||
                  tokens_.is_keyword(end + 2, "on"))))) {
      break;
    }
  }
  if (!listed || end <= first) {
    unsupported(m, "cannot locate the query of an " + what);
    return;
  }
  // `switchyard_rows.*` keeps every column the query gives, so a query with more or fewer
  // columns than the list still fails as it would have; each value is computed once, in the
  // subquery, so the written one may call any function.
  std::string aliases;
  for (size_t i = 0; i < site.cols.size(); ++i) {
    aliases += (i == 0 ? "c" : ", c") + std::to_string(i + 1);
  }
  std::string items;
  if (op == WriteOp::add_new || op == WriteOp::add_old) {
    items = "switchyard_rows.*, " +
            transformed_write(
                m, op, "switchyard_rows.c" + std::to_string((op == WriteOp::add_new ? io : in) + 1),
                false);
  } else {
    // writes = new, the query as wide as the list (the caller checked): every column by
    // name, O's through to_new (rename_to_new) or left out (remove_old).
    for (size_t i = 0; i < site.cols.size(); ++i) {
      const std::string column = "switchyard_rows.c" + std::to_string(i + 1);
      if (static_cast<int>(i) == io && op == WriteOp::remove_old) {
        continue;
      }
      items += (items.empty() ? "" : ", ") +
               (static_cast<int>(i) == io ? transformed_write(m, op, column, false) : column);
    }
  }
  if (!edits_.insert(tokens_.at(first).start, "SELECT " + items + " FROM (") ||
      !edits_.insert(tokens_.at(end - 1).end, ") AS switchyard_rows (" + aliases + ")")) {
    unsupported(m, "overlapping rewrites in an INSERT");
    return;
  }
  insert_edits(m, op, io, in, site);
}

void Analyzer::insert_edits(const Migration* m, WriteOp op, int io, int in,
                            const InsertSite& site) {
  const std::vector<std::string>& cols = site.cols;
  for (const auto& row : site.rows) {
    if (row.size() != cols.size()) {
      unsupported(m, "INSERT whose column and value counts differ");
      return;
    }
  }
  // Column list (kept as written when both columns stay: writes = both, a DEFAULT beside a value).
  bool ok = true;
  if (op != WriteOp::none && site.synthesized) {
    std::vector<std::string> own = cols;
    std::vector<std::string>& out = shared_list_.has_value() ? shared_list_->cols : own;
    if (out.empty()) {
      out = cols;
    }
    // By name: another migration's edit may have moved O's place.
    const auto old_at = std::find(out.begin(), out.end(), m->old_column);
    if (op == WriteOp::add_new) {
      out.push_back(m->new_column);
    } else if (op == WriteOp::add_old) {
      out.push_back(m->old_column);
    } else if (old_at != out.end() && op == WriteOp::rename_to_new) {
      *old_at = m->new_column;
    } else if (old_at != out.end()) {
      out.erase(old_at);
    }
    if (shared_list_.has_value()) {
      ok = site.list_at >= 0;
      shared_list_->at = site.list_at;
    } else {
      ok = site.list_at >= 0 && edits_.insert(site.list_at, " (" + join_idents(out) + ")");
    }
  } else if (op != WriteOp::none) {
    std::vector<Span> names =
        site.list_open < 0 ? std::vector<Span>{} : tokens_.paren_items(site.list_open);
    if (names.size() != cols.size()) {
      unsupported(m, "cannot locate the INSERT column list in the text");
      return;
    }
    if (op == WriteOp::add_new || op == WriteOp::add_old) {
      ok =
          edits_.insert(names.back().end,
                        ", " + quote_ident(op == WriteOp::add_new ? m->new_column : m->old_column));
    } else if (op == WriteOp::rename_to_new) {
      ok = edits_.replace(names[io].begin, names[io].end, quote_ident(m->new_column));
    } else {
      ok = io > 0 ? edits_.replace(names[io - 1].end, names[io].end, "")
                  : edits_.replace(names[0].begin, names[1].begin, "");
    }
  }
  // Values.
  bool changed = op != WriteOp::none;
  std::vector<std::string> ctes;
  std::vector<std::pair<int, int>> moved;  // the values moved into them, as rendered
  for (size_t r = 0; ok && r < site.rows.size(); ++r) {
    const auto& row = site.rows[r];
    // A DEFAULT beside the other column's value writes that value alone, row by row: the
    // DEFAULT item takes the value carried as for a write of that column alone (writes = both),
    // or O's value goes to N as the write of O alone would (writes = new, where O leaves).
    WriteOp row_op = op;
    int into = -1;
    if (io >= 0 && in >= 0) {
      const bool old_default = is_default(site.nodes[r][static_cast<size_t>(io)]);
      const bool new_default = is_default(site.nodes[r][static_cast<size_t>(in)]);
      if (old_default != new_default && op == WriteOp::none && m->writes == Writes::both) {
        row_op = old_default ? WriteOp::add_old : WriteOp::add_new;
        into = old_default ? io : in;
      } else if (new_default && !old_default && op == WriteOp::remove_old) {
        into = in;
      }
    }
    if (row_op == WriteOp::add_new || row_op == WriteOp::add_old) {
      changed = true;
      const int src = row_op == WriteOp::add_new ? io : in;
      const auto place = [&](const std::string& text) {
        return into >= 0 ? edits_.replace(row[into].begin, row[into].end, text)
                         : edits_.insert(site.append_at[r], ", " + text);
      };
      const Node* node = site.nodes[r][static_cast<size_t>(src)];
      const std::string bad = unrepeatable(node);
      if (!bad.empty() && site.cte_at < 0) {
        refuse_repeat(m, bad);
        return;
      }
      if (!bad.empty()) {
        // Computed once, in a MATERIALIZED CTE of its own (one per row: each row's value is
        // its own), which both columns read. Only the value moves: the row's other items keep
        // the types their columns give them.
        const std::string name = "switchyard_value" + std::to_string(r + 1);
        const std::string v = name + ".v";
        ctes.push_back(name + " AS MATERIALIZED (SELECT " +
                       edits_.render(row[src].begin, row[src].end) + " AS v)");
        const auto value = edits_.take_rendered();
        moved.insert(moved.end(), value.begin(), value.end());
        ok = edits_.replace(row[src].begin, row[src].end, "(SELECT " + v + " FROM " + name + ")") &&
             place("(SELECT " + transformed_write(m, row_op, v, false) + " FROM " + name + ")");
        continue;
      }
      ok = place(written_value(m, row_op, row[src], node));
    } else if (row_op == WriteOp::rename_to_new) {
      const Node* node = site.nodes[r][static_cast<size_t>(io)];
      if ((!m->to_new.empty() || m->types_differ()) && !is_default(node)) {
        ok = edits_.replace(row[io].begin, row[io].end, written_value(m, op, row[io], node));
      }
    } else if (row_op == WriteOp::remove_old) {
      if (into >= 0) {
        ok = edits_.replace(row[in].begin, row[in].end,
                            written_value(m, WriteOp::rename_to_new, row[io],
                                          site.nodes[r][static_cast<size_t>(io)]));
      }
      ok = ok && (io > 0 ? edits_.replace(row[io - 1].end, row[io].end, "")
                         : edits_.replace(row[0].begin, row[1].begin, ""));
    }
  }
  if (ok && !ctes.empty()) {
    std::string with = site.has_with ? ", " : "WITH ";
    for (size_t i = 0; i < ctes.size(); ++i) {
      with += (i == 0 ? "" : ", ") + ctes[i];
    }
    // An error inside a moved value is told where the client wrote it.
    edits_.add_rendered(moved);
    ok = edits_.insert(site.cte_at, with + " ");
  }
  if (!ok) {
    unsupported(m, "overlapping rewrites in an INSERT");
    return;
  }
  if (changed) {
    use(m).rewritten = true;
  }
}

}  // namespace switchyard::rewrite::detail
