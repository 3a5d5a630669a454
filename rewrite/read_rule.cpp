// The read rule (DESIGN §3): with reads = new, a read of O becomes to_old(N), keeping the name
// the client sees. Walks every query level with its scope so that references resolve as in
// Postgres.

#include <algorithm>
#include <cstring>

#include "rewrite/analyzer.hpp"
#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite::detail {

namespace {

bool is_system_column(std::string_view name) {
  return name == "ctid" || name == "xmin" || name == "xmax" || name == "cmin" || name == "cmax" ||
         name == "tableoid";
}

}  // namespace

int min_location(const ProtobufCMessage* msg) {
  if (msg == nullptr) {
    return -1;
  }
  int best = -1;
  const ProtobufCMessageDescriptor* desc = msg->descriptor;
  const char* base = reinterpret_cast<const char*>(msg);
  for (unsigned i = 0; i < desc->n_fields; ++i) {
    const ProtobufCFieldDescriptor& f = desc->fields[i];
    if (f.type == PROTOBUF_C_TYPE_INT32 && f.label != PROTOBUF_C_LABEL_REPEATED &&
        std::strcmp(f.name, "location") == 0) {
      const int loc = *reinterpret_cast<const int32_t*>(base + f.offset);
      if (loc >= 0 && (best < 0 || loc < best)) {
        best = loc;
      }
    }
  }
  auto consider = [&](const ProtobufCMessage* child) {
    const int loc = min_location(child);
    if (loc >= 0 && (best < 0 || loc < best)) {
      best = loc;
    }
  };
  for_each_child(
      msg, [&](const Node* n) { consider(node_payload(n)); },
      [&](const ProtobufCMessage* typed) { consider(typed); });
  return best;
}

Names Analyzer::walk_query_node(const Node* n, const Scope* outer) {
  if (n == nullptr) {
    return std::nullopt;
  }
  switch (n->node_case) {
    case PG_QUERY__NODE__NODE_SELECT_STMT:
      return walk_select(n->select_stmt, outer);
    case PG_QUERY__NODE__NODE_INSERT_STMT:
      return insert_stmt(n->insert_stmt, outer);
    case PG_QUERY__NODE__NODE_UPDATE_STMT:
      return update_stmt(n->update_stmt, outer);
    case PG_QUERY__NODE__NODE_DELETE_STMT:
      return delete_stmt(n->delete_stmt, outer);
    default:
      if (outer != nullptr) {
        walk_expr(n, *outer);
      }
      return std::nullopt;
  }
}

Names Analyzer::walk_select(const PgQuery__SelectStmt* s, const Scope* outer) {
  if (s == nullptr) {
    return std::nullopt;
  }
  // A nested select's outputs are its targets, whatever surrounds it.
  struct RestoreOutput {
    bool& flag;
    bool saved;
    ~RestoreOutput() { flag = saved; }
  } restore{in_output_, in_output_};
  in_output_ = false;
  Scope scope;
  scope.parent = outer;
  process_with(s->with_clause, scope);
  if (s->op != PG_QUERY__SET_OPERATION__SETOP_NONE) {
    Names left = walk_select(s->larg, &scope);
    walk_select(s->rarg, &scope);
    // ORDER BY of a set operation names output columns only; LIMIT has no column references.
    return left;
  }
  if (s->n_values_lists > 0) {
    std::vector<std::string> names;
    for (size_t r = 0; r < s->n_values_lists; ++r) {
      const Node* row = s->values_lists[r];
      if (row->node_case != PG_QUERY__NODE__NODE_LIST) {
        continue;
      }
      for (size_t k = 0; k < row->list->n_items; ++k) {
        walk_expr(row->list->items[k], scope);
        if (r == 0) {
          names.push_back("column" + std::to_string(k + 1));
        }
      }
    }
    return names;
  }
  for (size_t i = 0; i < s->n_from_clause; ++i) {
    add_from_item(s->from_clause[i], scope, nullptr);
  }
  note_grouped_olds(s, scope);
  set_grouping_applies(scope, true);
  Names out = walk_targets(s->target_list, s->n_target_list, scope);
  set_grouping_applies(scope, false);
  walk_expr(s->where_clause, scope);
  set_grouping_applies(scope, true);
  // A grouped select's targets are cast (walk_targets), so what they are grouped by, and what
  // else must be a grouped expression, is cast the same. So is an ORDER BY expression under
  // SELECT DISTINCT, which must be one of the targets. WHERE and the rest stay bare, where an
  // index on N serves them.
  const bool grouped = s->n_group_clause > 0 || s->having_clause != nullptr;
  const bool plain_distinct = s->n_distinct_clause == 1 &&
                              (s->distinct_clause[0] == nullptr ||
                               s->distinct_clause[0]->node_case == PG_QUERY__NODE__NODE__NOT_SET);
  in_output_ = grouped;
  for (size_t i = 0; i < s->n_group_clause; ++i) {
    walk_sort_like(s->group_clause[i], scope, out, true);
  }
  walk_expr(s->having_clause, scope);
  for (size_t i = 0; i < s->n_window_clause; ++i) {
    walk_expr(s->window_clause[i], scope);
  }
  in_output_ = grouped || plain_distinct;
  for (size_t i = 0; i < s->n_sort_clause; ++i) {
    const Node* sb = s->sort_clause[i];
    if (sb->node_case == PG_QUERY__NODE__NODE_SORT_BY) {
      walk_sort_like(sb->sort_by->node, scope, out, false);
    } else {
      walk_expr(sb, scope);
    }
  }
  in_output_ = grouped;
  for (size_t i = 0; i < s->n_distinct_clause; ++i) {
    walk_sort_like(s->distinct_clause[i], scope, out, false);
  }
  in_output_ = false;
  group_by_new_columns(s, scope);
  walk_expr(s->limit_offset, scope);
  walk_expr(s->limit_count, scope);
  return out;
}

void Analyzer::walk_sort_like(const Node* expr, const Scope& scope, const Names& outputs,
                              bool group) {
  if (expr == nullptr || expr->node_case == PG_QUERY__NODE__NODE__NOT_SET) {
    return;
  }
  // SQL92 rule: a bare name in ORDER BY / DISTINCT ON means an output column first; in GROUP BY
  // an input column first (parse_clause.c, findTargetlistEntrySQL92).
  if (expr->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && expr->column_ref->n_fields == 1 &&
      expr->column_ref->fields[0]->node_case == PG_QUERY__NODE__NODE_STRING) {
    const std::string_view name = string_value(expr->column_ref->fields[0]);
    if (!outputs.has_value()) {
      for (const Migration& m : migrations_) {
        if (m.old_column == name && reads_new(&m) && mapped_in_chain(scope, &m)) {
          unsupported(&m, "ORDER BY/GROUP BY \"" + std::string(name) +
                              "\" over a target list whose names are unknown");
        }
      }
      return;
    }
    const bool is_output = std::find(outputs->begin(), outputs->end(), name) != outputs->end();
    if (is_output) {
      if (!group) {
        return;
      }
      Relation* rel = nullptr;
      if (resolve_column({name}, scope, &rel) == Found::no) {
        return;
      }
    }
    if (!group) {
      sort_name_ = expr->column_ref;
      sort_outputs_ = &*outputs;
      walk_expr(expr, scope);
      sort_name_ = nullptr;
      sort_outputs_ = nullptr;
      return;
    }
  }
  walk_expr(expr, scope);
}

void Analyzer::walk_expr(const Node* n, const Scope& scope) {
  if (n == nullptr) {
    return;
  }
  switch (n->node_case) {
    case PG_QUERY__NODE__NODE_COLUMN_REF:
      column_ref(n->column_ref, scope);
      return;
    case PG_QUERY__NODE__NODE_SUB_LINK:
      walk_expr(n->sub_link->testexpr, scope);
      walk_query_node(n->sub_link->subselect, &scope);
      return;
    case PG_QUERY__NODE__NODE_SELECT_STMT:
    case PG_QUERY__NODE__NODE_INSERT_STMT:
    case PG_QUERY__NODE__NODE_UPDATE_STMT:
    case PG_QUERY__NODE__NODE_DELETE_STMT:
      walk_query_node(n, &scope);
      return;
    case PG_QUERY__NODE__NODE_FUNC_CALL: {
      const PgQuery__FuncCall* fc = n->func_call;
      if (in_output_ && min_or_max_of_a_column(fc)) {
        cast_min_or_max(fc, scope);
        return;
      }
      // num_nulls(u.*) reads whether the row is there, none of its fields (whole_row.cpp's test).
      const std::string_view name =
          fc->n_funcname > 0 ? string_value(fc->funcname[fc->n_funcname - 1]) : "";
      const bool nullness = name == "num_nulls" || name == "num_nonnulls";
      // Only references that may be whole rows are remembered: `t.*`, or a bare name.
      for (size_t i = 0; i < fc->n_args; ++i) {
        const Node* arg = fc->args[i];
        if (arg->node_case != PG_QUERY__NODE__NODE_COLUMN_REF) {
          continue;
        }
        const PgQuery__ColumnRef* cr = arg->column_ref;
        const bool star = cr->n_fields > 0 &&
                          cr->fields[cr->n_fields - 1]->node_case == PG_QUERY__NODE__NODE_A_STAR;
        if (nullness && (star || cr->n_fields == 1)) {
          nullness_args_.insert(cr);
        } else if (star) {
          whole_row_stars_.insert(cr);
        }
      }
    } break;
    case PG_QUERY__NODE__NODE_A_INDIRECTION:
      composite_star(n->a_indirection, scope);
      break;
    case PG_QUERY__NODE__NODE_ROW_EXPR:
      // ROW(t.*) lists t's columns (row_columns in whole_row.cpp).
      for (size_t i = 0; i < n->row_expr->n_args; ++i) {
        const Node* arg = n->row_expr->args[i];
        if (arg->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && arg->column_ref->n_fields > 0 &&
            arg->column_ref->fields[arg->column_ref->n_fields - 1]->node_case ==
                PG_QUERY__NODE__NODE_A_STAR) {
          row_stars_.insert(arg->column_ref);
        }
      }
      break;
    default:
      break;
  }
  const bool aggregate =
      n->node_case == PG_QUERY__NODE__NODE_FUNC_CALL && aggregate_call(n->func_call);
  if (aggregate) {
    aggregate_levels_.push_back(&scope);
  }
  for_each_child(
      node_payload(n), [&](const Node* child) { walk_expr(child, scope); },
      [&](const ProtobufCMessage* typed) {
        if (typed->descriptor == &pg_query__select_stmt__descriptor) {
          walk_select(reinterpret_cast<const PgQuery__SelectStmt*>(typed), &scope);
        } else {
          unsupported(nullptr, "a statement nested where it was not expected");
        }
      });
  if (aggregate) {
    aggregate_levels_.pop_back();
  }
  // After its operands, whose reads are then known.
  type_parameters_as_old(n);
}

bool Analyzer::min_or_max_of_a_column(const PgQuery__FuncCall* fc) {
  if (fc->n_args != 1 || fc->args[0]->node_case != PG_QUERY__NODE__NODE_COLUMN_REF ||
      fc->over != nullptr || fc->agg_filter != nullptr || fc->n_agg_order > 0 || fc->agg_distinct ||
      fc->agg_star || fc->func_variadic || fc->n_funcname == 0 || fc->n_funcname > 2) {
    return false;
  }
  const PgQuery__ColumnRef* arg = fc->args[0]->column_ref;
  if ((fc->n_funcname == 2 && string_value(fc->funcname[0]) != "pg_catalog") ||
      arg->n_fields == 0 ||
      arg->fields[arg->n_fields - 1]->node_case == PG_QUERY__NODE__NODE_A_STAR) {
    return false;
  }
  const std::string_view name = string_value(fc->funcname[fc->n_funcname - 1]);
  return name == "min" || name == "max";
}

void Analyzer::cast_min_or_max(const PgQuery__FuncCall* fc, const Scope& scope) {
  aggregate_arg_ = fc->args[0]->column_ref;
  aggregate_cast_ = nullptr;
  column_ref(aggregate_arg_, scope);
  const Migration* m = aggregate_cast_;
  aggregate_arg_ = nullptr;
  aggregate_cast_ = nullptr;
  if (m == nullptr) {
    return;
  }
  // The call's text: from its name to the parenthesis that closes its arguments.
  const int first = tokens_.index_at(fc->location);
  int open = first;
  while (open >= 0 && open < tokens_.size() && !tokens_.is_char(open, '(')) {
    ++open;
  }
  const int close = first < 0 ? -1 : tokens_.matching_close(open);
  if (close < 0 || !edits_.insert(tokens_.at(first).start, "CAST(") ||
      !edits_.insert(tokens_.at(close).end, " AS " + m->old_type + ")")) {
    unsupported(m, "cannot locate min()/max() in the text");
  }
}

void Analyzer::column_ref(const PgQuery__ColumnRef* cr, const Scope& scope) {
  std::vector<std::string_view> fields;
  bool star = false;
  for (size_t i = 0; i < cr->n_fields; ++i) {
    if (cr->fields[i]->node_case == PG_QUERY__NODE__NODE_A_STAR) {
      star = true;
    } else {
      fields.push_back(string_value(cr->fields[i]));
    }
  }
  if (star || fields.size() == 1) {
    // `t.*` outside a target list, or a bare name that may be a whole-row reference: the record
    // would carry the mapped columns as stored.
    if (!fields.empty()) {
      bool uncertain = false;
      Relation* r = find_qualified(scope, fields, &uncertain);
      bool is_whole_row = star;
      if (r != nullptr && r->range_function != nullptr) {
        columns_of(*r);  // a function returning a mapped table's rows has its migrations
      }
      if (!star && r != nullptr && !r->migrations.empty()) {
        Relation* col_rel = nullptr;
        is_whole_row = resolve_column(fields, scope, &col_rel) == Found::no;
      }
      if (is_whole_row && r != nullptr && !nullness_args_.contains(cr)) {
        mark_shared_refnames(scope);
        // `t.*` is the whole row as a function's argument, t's columns in ROW(t.*); elsewhere
        // (a comparison) this rule does not rebuild it.
        if (star && row_stars_.contains(cr)) {
          row_columns(cr, *r);
        } else {
          whole_row_read(cr, *r, !star || whole_row_stars_.contains(cr));
        }
      }
    }
    if (star) {
      return;
    }
  }
  const std::string_view col = fields.back();
  // A table wrapped for USING has neither system columns nor a schema-qualified name.
  const bool through_wrap = wrapped_any_ && (fields.size() >= 3 || is_system_column(col));
  const bool relevant =
      through_wrap ||
      std::any_of(migrations_.begin(), migrations_.end(),
                  [&](const Migration& m) { return m.old_column == col || m.new_column == col; }) ||
      mapped_alias_names_.contains(col);
  if (!relevant) {
    return;
  }
  Relation* rel = nullptr;
  const Found found = resolve_column(fields, scope, &rel);
  if (through_wrap && found == Found::yes && rel != nullptr && rel->wrapped) {
    unsupported(rel->migrations.front(), "\"" + std::string(col) +
                                             "\" (a system column or a schema-qualified reference) "
                                             "on a table joined USING its old column");
    return;
  }
  if (found == Found::yes && rel != nullptr) {
    const std::string named = aliased_column(*rel, col);
    for (const Migration* m : rel->migrations) {
      if (named == m->old_column) {
        use(m).reads_of_old++;
        if (!reads_new(m)) {
          continue;
        }
        if (rel->kind == Relation::Kind::join) {
          unsupported(m, "reference to \"" + m->old_column + "\" through a join alias");
        } else {
          rewrite_read(cr, m, scope, *rel);
        }
      } else if (named == m->new_column) {
        use(m).reads_of_new++;
      }
    }
    return;
  }
  if (found == Found::ambiguous || found == Found::uncertain) {
    // A table the catalog did not find is named: the likely cause, and what to do about it.
    auto unseen = [&]() -> std::string {
      for (const Scope* s = &scope; s != nullptr; s = s->parent) {
        for (const Relation& r : s->rels) {
          if (r.kind == Relation::Kind::table && r.range_var != nullptr &&
              r.range_var->relname != nullptr && r.columns_loaded && !r.qname.has_value() &&
              !r.columns.has_value()) {
            return ": \"" + std::string(r.range_var->relname) +
                   "\" is not in the catalog Switchyard reads as it is now (a temporary table, "
                   "one created in this transaction or changed by DDL earlier in the text, or "
                   "none), so the name may be its column; qualify it with its table";
          }
        }
      }
      return {};
    };
    for (const Migration& m : migrations_) {
      if (m.old_column == col && reads_new(&m) && mapped_in_chain(scope, &m)) {
        unsupported(&m, "cannot resolve column reference \"" + std::string(col) +
                            "\" with certainty" + unseen());
      }
    }
  }
}

void Analyzer::rewrite_read(const PgQuery__ColumnRef* cr, const Migration* m, const Scope& scope,
                            const Relation& rel) {
  note_outer_read(scope, rel, m);
  const int first = tokens_.index_at(cr->location);
  if (first < 0) {
    unsupported(m, "cannot locate a column reference in the text");
    return;
  }
  const int last = tokens_.dotted_name_end(first);
  if ((last - first) / 2 + 1 != static_cast<int>(cr->n_fields)) {
    unsupported(m, "cannot locate a column reference in the text");
    return;
  }
  bool ok = false;
  const bool bare_fits = m->to_old.empty() && !m->casts_every_read() && !m->collates_reads();
  bool output = in_output_ && m->types_differ();
  if (output && bare_fits && cr == aggregate_arg_) {
    aggregate_cast_ = m;  // the enclosing min()/max() is cast instead
    output = false;
  }
  const bool bare = bare_fits && !output;
  // A bare O reached T past every other relation, but a bare N may not: another relation at a
  // level up to T's with a column N would take it (wrong rows, or 42702 beside T), and a whole
  // ORDER BY or DISTINCT ON item that is a bare name means an output of that name first. N is
  // then written qualified, and only then, so that a reference nothing can take keeps its text.
  std::string qualifier;
  // A bare O reaching T from a sub-select (correlated) is written qualified when T's reference
  // name reaches it: a relation of the sub-select that gains a column N later (DDL the catalog
  // has not seen yet, or a statement prepared before it, which the server analyses again)
  // cannot take it then.
  const bool correlated = std::none_of(scope.rels.begin(), scope.rels.end(),
                                       [&](const Relation& r) { return &r == &rel; });
  if (cr->n_fields == 1 && correlated && refname_reaches(scope, rel)) {
    qualifier = quote_ident(rel.refname) + ".";
  } else if (cr->n_fields == 1 && (bare_name_captured(scope, rel, m->new_column) ||
                                   (bare && cr == sort_name_ &&
                                    std::find(sort_outputs_->begin(), sort_outputs_->end(),
                                              m->new_column) != sort_outputs_->end()))) {
    if (!refname_reaches(scope, rel)) {
      unsupported(m, "a read of \"" + m->old_column + "\" where a bare \"" + m->new_column +
                         "\" would name another column, and \"" + rel.refname +
                         "\" (its table's reference name) names another relation or is hidden");
      return;
    }
    qualifier = quote_ident(rel.refname) + ".";
  }
  if (bare) {
    ok = edits_.replace(tokens_.at(last).start, tokens_.at(last).end,
                        qualifier + quote_ident(m->new_column));
  } else {
    const int begin = tokens_.at(first).start;
    const std::string prefix = sql_.substr(static_cast<size_t>(begin),
                                           static_cast<size_t>(tokens_.at(last).start - begin));
    const std::string column = prefix + qualifier + quote_ident(m->new_column);
    std::string read = m->as_old_type(transformed(m->to_old, column));
    // A column takes a subscript as it stands, a CAST(...) only in parentheses.
    if (tokens_.is_char(last + 1, '[')) {
      read = "(" + read + ")";
    }
    ok = edits_.replace(begin, tokens_.at(last).end, read);
  }
  if (!ok) {
    unsupported(m, "overlapping rewrites of one column reference");
    return;
  }
  rewritten_.insert(cr);
  if (bare && m->types_differ()) {
    bare_other_width_.emplace_back(cr, m);
  }
  use(m).rewritten = true;
}

std::optional<Span> Analyzer::target_span(const PgQuery__ResTarget* rt, bool strip_alias) const {
  const int first = tokens_.index_at(rt->location);
  if (first < 0) {
    return std::nullopt;
  }
  const std::vector<Span> items = tokens_.split_list(first, stmt_end_, kTargetListStops);
  if (items.empty()) {
    return std::nullopt;
  }
  Span span = items.front();
  if (strip_alias && rt->name != nullptr && rt->name[0] != '\0') {
    const int last = tokens_.index_before(span.end);
    const int keep = tokens_.is_keyword(last - 1, "as") ? last - 2 : last - 1;
    if (keep < first) {
      return std::nullopt;
    }
    span.end = tokens_.at(keep).end;
  }
  return span;
}

Names Analyzer::walk_targets(PgQuery__Node* const* targets, size_t n, const Scope& scope) {
  std::vector<std::string> names;
  bool known = true;
  for (size_t i = 0; i < n; ++i) {
    const Node* t = targets[i];
    if (t->node_case != PG_QUERY__NODE__NODE_RES_TARGET) {
      walk_expr(t, scope);
      continue;
    }
    const PgQuery__ResTarget* rt = t->res_target;
    const Node* val = rt->val;
    if (val != nullptr && val->node_case == PG_QUERY__NODE__NODE_COLUMN_REF &&
        val->column_ref->n_fields > 0 &&
        val->column_ref->fields[val->column_ref->n_fields - 1]->node_case ==
            PG_QUERY__NODE__NODE_A_STAR) {
      Names expanded = expand_star(rt, val->column_ref, scope);
      if (expanded.has_value()) {
        names.insert(names.end(), expanded->begin(), expanded->end());
      } else {
        known = false;
      }
      continue;
    }
    const bool outer_output = in_output_;
    in_output_ = true;
    walk_expr(val, scope);
    in_output_ = outer_output;
    if (expands_a_row(val)) {
      known = false;  // (x).* gives as many columns as x's type has: not counted here
      continue;
    }
    const bool has_alias = rt->name != nullptr && rt->name[0] != '\0';
    const std::string name = has_alias ? std::string(rt->name) : figure_colname(val);
    names.push_back(name);
    if (has_alias) {
      continue;
    }
    const PgQuery__ColumnRef* giver = name_giving_colref(val);
    if (giver != nullptr && rewritten_.contains(giver)) {
      const std::optional<Span> span = target_span(rt, false);
      if (!span.has_value() || !edits_.insert(span->end, " AS " + quote_ident(name))) {
        unsupported(nullptr, "cannot locate the end of a select target");
      }
    }
  }
  if (!known) {
    return std::nullopt;
  }
  return names;
}

}  // namespace switchyard::rewrite::detail
