// A sub-select of a grouped select that reads the old column the select groups by. Postgres
// matches a grouped expression only at its own level: inside a sub-select an outer reference
// must be a grouped column (parse_agg.c, check_ungrouped_columns), so once GROUP BY O is served
// as an expression of N (to_old(N), a cast back, a COLLATE), the sub-select's read of N fails
// with 42803. N is then grouped by too, beside the expression, where that cannot split a group.

#include <algorithm>

#include "rewrite/analyzer.hpp"
#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite::detail {

namespace {

// Grouping by N beside the read of O served from it gives the same groups only if two N values
// that read as one O value are one N value. A cast back to another integer width, or to a text
// type without a length limit, is such a read (a value out of range fails instead); to_old, a
// cast that rounds or cuts, and a collation that may compare unequal values equal are not.
bool grouping_by_new_keeps_groups(const Migration& m) {
  return m.to_old.empty() && !m.casts_every_read() && !m.collates_reads() &&
         !limits_length(m.old_type);
}

// Whether a grouped read of O is served as an expression of N rather than as N itself.
bool served_as_expression(const Migration& m) {
  return !m.to_old.empty() || m.casts_every_read() || m.collates_reads() || m.types_differ();
}

const PgQuery__ColumnRef* plain_column(const Node* n) {
  if (n == nullptr || n->node_case != PG_QUERY__NODE__NODE_COLUMN_REF) {
    return nullptr;
  }
  const PgQuery__ColumnRef* cr = n->column_ref;
  for (size_t i = 0; i < cr->n_fields; ++i) {
    if (cr->fields[i]->node_case != PG_QUERY__NODE__NODE_STRING) {
      return nullptr;
    }
  }
  return cr->n_fields > 0 ? cr : nullptr;
}

// Whether `tn` names the type format_type() spells `type`, with no modifier or array bound: a
// cast of a column of that type to it is dropped by the parser (coerce_type), so Postgres groups
// by the column itself.
bool names_type(const PgQuery__TypeName* tn, std::string_view type) {
  static constexpr std::pair<std::string_view, std::string_view> kSpellings[] = {
      {"int2", "smallint"},   {"int4", "integer"},  {"int8", "bigint"}, {"smallint", "smallint"},
      {"integer", "integer"}, {"bigint", "bigint"}, {"text", "text"}};
  if (tn == nullptr || tn->n_names == 0 || tn->n_typmods > 0 || tn->n_array_bounds > 0 ||
      tn->setof) {
    return false;
  }
  const std::string_view name = string_value(tn->names[tn->n_names - 1]);
  return std::any_of(std::begin(kSpellings), std::end(kSpellings),
                     [&](const auto& s) { return s.first == name && s.second == type; });
}

}  // namespace

bool Analyzer::names_old_column_read_new(const PgQuery__ColumnRef* cr) const {
  const std::string_view col = string_value(cr->fields[cr->n_fields - 1]);
  return std::any_of(migrations_.begin(), migrations_.end(),
                     [&](const Migration& m) { return m.old_column == col && reads_new(&m); });
}

void Analyzer::note_grouped_old_column(const PgQuery__ColumnRef* cr, const Scope& scope,
                                       std::optional<int> at, bool element) {
  if (!names_old_column_read_new(cr)) {
    return;
  }
  std::vector<std::string_view> fields;
  for (size_t i = 0; i < cr->n_fields; ++i) {
    fields.push_back(string_value(cr->fields[i]));
  }
  Relation* rel = nullptr;
  if (resolve_column(fields, scope, &rel) != Found::yes || rel == nullptr ||
      std::none_of(scope.rels.begin(), scope.rels.end(),
                   [&](const Relation& r) { return &r == rel; })) {
    return;
  }
  const int first = at.has_value() ? *at : tokens_.index_at(cr->location);
  const int last = at.has_value() || first < 0 ? first : tokens_.dotted_name_end(first);
  for (const Migration* m : rel->migrations) {
    if (m->old_column == fields.back() && reads_new(m) && served_as_expression(*m)) {
      GroupedOld g{&scope, rel, m, -1, -1, element, false, false};
      if (first >= 0 && last >= 0) {
        g.open_at = tokens_.at(first).start;
        g.close_at = tokens_.at(last).end;
      }
      grouped_olds_.push_back(g);
    }
  }
}

void Analyzer::note_grouped_item(const Node* item, const PgQuery__SelectStmt* s, const Scope& scope,
                                 bool element) {
  if (item == nullptr) {
    return;
  }
  if (item->node_case == PG_QUERY__NODE__NODE_GROUPING_SET) {
    const PgQuery__GroupingSet* gs = item->grouping_set;
    for (size_t i = 0; i < gs->n_content; ++i) {
      note_grouped_item(gs->content[i], s, scope, true);
    }
    return;
  }
  if (item->node_case == PG_QUERY__NODE__NODE_ROW_EXPR &&
      item->row_expr->row_format == PG_QUERY__COERCION_FORM__COERCE_IMPLICIT_CAST) {
    // `(a, b)`: one element of several columns in ROLLUP, CUBE or GROUPING SETS, two items
    // at the top (parse_agg.c, flatten_grouping_sets); not `ROW(a, b)`, one value.
    for (size_t i = 0; i < item->row_expr->n_args; ++i) {
      if (const PgQuery__ColumnRef* cr = plain_column(item->row_expr->args[i])) {
        note_grouped_old_column(cr, scope, std::nullopt, false);
      }
    }
    return;
  }
  if (item->node_case == PG_QUERY__NODE__NODE_TYPE_CAST) {
    note_grouped_cast(item->type_cast, scope, element);
    return;
  }
  if (const PgQuery__ColumnRef* cr = plain_column(item)) {
    if (cr->n_fields != 1) {
      note_grouped_old_column(cr, scope, std::nullopt, element);
      return;
    }
    // A bare name is an input column first, else an output name (findTargetlistEntrySQL92).
    const PgQuery__ColumnRef* target = nullptr;
    for (size_t i = 0; i < s->n_target_list && target == nullptr; ++i) {
      const Node* t = s->target_list[i];
      if (t->node_case == PG_QUERY__NODE__NODE_RES_TARGET && t->res_target->name != nullptr &&
          string_value(cr->fields[0]) == t->res_target->name) {
        target = plain_column(t->res_target->val);
      }
    }
    Relation* rel = nullptr;
    if (target != nullptr && names_old_column_read_new(target) &&
        resolve_column({string_value(cr->fields[0])}, scope, &rel) == Found::no) {
      note_grouped_old_column(target, scope, tokens_.index_at(cr->location), element);
    } else {
      note_grouped_old_column(cr, scope, std::nullopt, element);
    }
    return;
  }
  // GROUP BY k: the k-th target, counted only where no `*` before it widens the list. Postgres
  // reads an ordinal inside ROLLUP, CUBE or GROUPING SETS so too (transformGroupClauseExpr).
  if (item->node_case == PG_QUERY__NODE__NODE_A_CONST &&
      item->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL && item->a_const->ival != nullptr) {
    const int k = item->a_const->ival->ival;
    if (k < 1 || static_cast<size_t>(k) > s->n_target_list) {
      return;
    }
    for (int i = 0; i < k; ++i) {
      const Node* t = s->target_list[i];
      if (t->node_case != PG_QUERY__NODE__NODE_RES_TARGET || t->res_target->val == nullptr ||
          (t->res_target->val->node_case == PG_QUERY__NODE__NODE_COLUMN_REF &&
           plain_column(t->res_target->val) == nullptr)) {
        return;
      }
    }
    if (const PgQuery__ColumnRef* target = plain_column(s->target_list[k - 1]->res_target->val)) {
      note_grouped_old_column(target, scope, tokens_.index_at(item->a_const->location), element);
    }
  }
}

void Analyzer::note_grouped_cast(const PgQuery__TypeCast* tc, const Scope& scope, bool element) {
  const PgQuery__ColumnRef* cr = plain_column(tc->arg);
  // Only `col::type` (CAST(col AS type) starts before the column and ends after a parenthesis).
  if (cr == nullptr || tc->type_name == nullptr || tc->location < cr->location) {
    return;
  }
  const int type_at = tokens_.index_at(tc->type_name->location);
  const int type_end = type_at < 0 ? -1 : tokens_.dotted_name_end(type_at);
  const std::size_t before = grouped_olds_.size();
  note_grouped_old_column(cr, scope, std::nullopt, element);
  for (std::size_t i = before; i < grouped_olds_.size(); ++i) {
    GroupedOld& g = grouped_olds_[i];
    if (!names_type(tc->type_name, g.m->old_type) || type_end < 0) {
      // Another type: Postgres groups by the cast, and its own sub-select read fails as before.
      grouped_olds_.erase(grouped_olds_.begin() + static_cast<std::ptrdiff_t>(i--));
    } else if (g.close_at >= 0) {
      g.close_at = tokens_.at(type_end).end;
    }
  }
}

void Analyzer::note_grouped_olds(const PgQuery__SelectStmt* s, const Scope& scope) {
  for (size_t i = 0; i < s->n_group_clause; ++i) {
    note_grouped_item(s->group_clause[i], s, scope, false);
  }
}

void Analyzer::set_grouping_applies(const Scope& scope, bool applies) {
  for (GroupedOld& g : grouped_olds_) {
    if (g.scope == &scope) {
      g.applies = applies;
    }
  }
}

bool Analyzer::aggregate_call(const PgQuery__FuncCall* fc) {
  static constexpr std::string_view kAggregates[] = {"count",
                                                     "sum",
                                                     "avg",
                                                     "min",
                                                     "max",
                                                     "array_agg",
                                                     "string_agg",
                                                     "bool_and",
                                                     "bool_or",
                                                     "every",
                                                     "json_agg",
                                                     "jsonb_agg",
                                                     "json_object_agg",
                                                     "jsonb_object_agg"};
  if (fc->over != nullptr) {
    return false;
  }
  if (fc->agg_star || fc->agg_distinct || fc->n_agg_order > 0 || fc->agg_filter != nullptr ||
      fc->agg_within_group) {
    return true;
  }
  if (fc->n_funcname == 0 ||
      (fc->n_funcname == 2 && string_value(fc->funcname[0]) != "pg_catalog")) {
    return false;
  }
  const std::string_view name = string_value(fc->funcname[fc->n_funcname - 1]);
  return std::find(std::begin(kAggregates), std::end(kAggregates), name) != std::end(kAggregates);
}

void Analyzer::note_outer_read(const Scope& scope, const Relation& rel, const Migration* m) {
  if (grouped_olds_.empty()) [[likely]] {
    return;
  }
  for (GroupedOld& g : grouped_olds_) {
    if (g.applies && g.scope != &scope && g.rel == &rel && g.m == m &&
        std::find(aggregate_levels_.begin(), aggregate_levels_.end(), g.scope) ==
            aggregate_levels_.end()) {
      g.needed = true;
    }
  }
}

bool Analyzer::groups_another_column(const PgQuery__SelectStmt* s, const Scope& scope,
                                     const Relation& rel, const Migration& m) {
  std::vector<const Node*> items(s->group_clause, s->group_clause + s->n_group_clause);
  for (size_t i = 0; i < items.size(); ++i) {
    const Node* item = items[i];
    if (item->node_case == PG_QUERY__NODE__NODE_ROW_EXPR &&
        item->row_expr->row_format == PG_QUERY__COERCION_FORM__COERCE_IMPLICIT_CAST) {
      items.insert(items.end(), item->row_expr->args,
                   item->row_expr->args + item->row_expr->n_args);
      continue;
    }
    const PgQuery__ColumnRef* cr = plain_column(item);
    if (cr == nullptr || string_value(cr->fields[cr->n_fields - 1]) == m.old_column) {
      continue;
    }
    std::vector<std::string_view> fields;
    for (size_t k = 0; k < cr->n_fields; ++k) {
      fields.push_back(string_value(cr->fields[k]));
    }
    Relation* found = nullptr;
    if (resolve_column(fields, scope, &found) == Found::yes && found == &rel) {
      return true;
    }
  }
  return false;
}

void Analyzer::group_by_new_columns(const PgQuery__SelectStmt* s, const Scope& scope) {
  for (const GroupedOld& g : grouped_olds_) {
    if (g.scope != &scope || !g.needed) {
      continue;
    }
    const Migration* m = g.m;
    if (!grouping_by_new_keeps_groups(*m)) {
      // Grouped by its primary key too, the table's every column counts as grouped for Postgres
      // (functional dependency), N as well: the read stands as it is and the server decides.
      if (groups_another_column(s, scope, *g.rel, *m)) {
        continue;
      }
      unsupported(m, "a sub-select reading \"" + m->old_column +
                         "\" of a select grouped by it, served through to_old or a cast that may "
                         "make two values one (Postgres needs a grouped column there: group in a "
                         "derived table and put the sub-select over its output, or read \"" +
                         m->new_column + "\")");
      continue;
    }
    std::string column;
    if (refname_reaches(scope, *g.rel)) {
      column = quote_ident(g.rel->refname) + "." + quote_ident(m->new_column);
    } else if (!bare_name_captured(scope, *g.rel, m->new_column)) {
      column = quote_ident(m->new_column);
    }
    if (column.empty() || g.open_at < 0 || (g.element && !edits_.insert(g.open_at, "(")) ||
        !edits_.insert(g.close_at, ", " + column + (g.element ? ")" : ""))) {
      unsupported(m, "a sub-select reading \"" + m->old_column +
                         "\" of a select grouped by it, where \"" + m->new_column +
                         "\" cannot be added to GROUP BY");
    }
  }
  std::erase_if(grouped_olds_, [&](const GroupedOld& g) { return g.scope == &scope; });
}

}  // namespace switchyard::rewrite::detail
