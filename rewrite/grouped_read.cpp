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

bool one_argument_call(const PgQuery__FuncCall* fc) {
  return fc->n_funcname > 0 && fc->n_args == 1 &&
         fc->args[0]->node_case != PG_QUERY__NODE__NODE_NAMED_ARG_EXPR && !fc->agg_star &&
         !fc->agg_distinct && fc->n_agg_order == 0 && fc->agg_filter == nullptr &&
         fc->over == nullptr && !fc->func_variadic && !fc->agg_within_group;
}

// A grouped item beneath its casts: the column, the type names of the casts around it (empty for
// one with a modifier or an array bound), and whether one is written as a call (`int4(col)`),
// which the parser takes for a cast only when no function of that name takes the column's type.
struct CastColumn {
  const PgQuery__ColumnRef* column = nullptr;
  std::vector<std::string_view> types;
  bool called = false;
};

CastColumn cast_column(const Node* n) {
  CastColumn c;
  while (n != nullptr) {
    if (n->node_case == PG_QUERY__NODE__NODE_TYPE_CAST && n->type_cast->type_name != nullptr) {
      const PgQuery__TypeName* tn = n->type_cast->type_name;
      const bool bare =
          tn->n_names > 0 && tn->n_typmods == 0 && tn->n_array_bounds == 0 && !tn->setof;
      c.types.push_back(bare ? string_value(tn->names[tn->n_names - 1]) : std::string_view());
      n = n->type_cast->arg;
    } else if (n->node_case == PG_QUERY__NODE__NODE_FUNC_CALL && one_argument_call(n->func_call)) {
      c.types.push_back(string_value(n->func_call->funcname[n->func_call->n_funcname - 1]));
      c.called = true;
      n = n->func_call->args[0];
    } else {
      break;
    }
  }
  c.column = plain_column(n);
  return c;
}

// `CAST(x AS type)`, which the parser places at CAST, before its argument; `x::type` at the `::`.
bool written_as_cast_call(const PgQuery__TypeCast* tc) {
  const PgQuery__ColumnRef* cr = cast_column(tc->arg).column;
  return cr != nullptr && tc->location < cr->location;
}

// Whether `name` (a cast's type name) is the type format_type() spells `type`: a cast of a column
// of that type to it is dropped by the parser (coerce_type), so Postgres groups by the column
// itself.
bool names_type(std::string_view name, std::string_view type) {
  static constexpr std::pair<std::string_view, std::string_view> kSpellings[] = {
      {"int2", "smallint"},   {"int4", "integer"},  {"int8", "bigint"}, {"smallint", "smallint"},
      {"integer", "integer"}, {"bigint", "bigint"}, {"text", "text"}};
  return std::any_of(std::begin(kSpellings), std::end(kSpellings),
                     [&](const auto& s) { return s.first == name && s.second == type; });
}

bool has_grouping_sets(const PgQuery__SelectStmt* s) {
  return std::any_of(s->group_clause, s->group_clause + s->n_group_clause, [](const Node* n) {
    return n->node_case == PG_QUERY__NODE__NODE_GROUPING_SET;
  });
}

constexpr const char* kOrdinalPastStar =
    "an ordinal that a `*` before it makes unknown, inside ROLLUP, CUBE or GROUPING SETS (name the "
    "column instead of its ordinal)";
constexpr const char* kCalledCast =
    "a call that may be a cast to its own type or a function (write the column, or `::type`)";

}  // namespace

bool Analyzer::names_old_column_read_new(const PgQuery__ColumnRef* cr) const {
  const std::string_view col = string_value(cr->fields[cr->n_fields - 1]);
  return std::any_of(migrations_.begin(), migrations_.end(),
                     [&](const Migration& m) { return m.old_column == col && reads_new(&m); });
}

void Analyzer::note_grouped_old_column(const PgQuery__ColumnRef* cr, const Scope& scope, int first,
                                       int last, bool element) {
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
  for (const Migration* m : rel->migrations) {
    if (m->old_column == fields.back() && reads_new(m) && served_as_expression(*m)) {
      GroupedOld g{&scope, rel, m, -1, -1, element, false, false, nullptr};
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
    // at the top (parse_agg.c, flatten_grouping_sets); not `ROW(a, b)`, one value. Each member
    // is read as an item at the top (an ordinal, an output name, a cast), and N joins the row
    // beside it: left out, N would be NULL in this set's rows wherever another set adds it.
    for (size_t i = 0; i < item->row_expr->n_args; ++i) {
      note_grouped_item(item->row_expr->args[i], s, scope, false);
    }
    return;
  }
  // A bare name is an input column first, else an output name (findTargetlistEntrySQL92).
  if (const PgQuery__ColumnRef* cr = plain_column(item); cr != nullptr && cr->n_fields == 1) {
    for (size_t i = 0; i < s->n_target_list; ++i) {
      const Node* t = s->target_list[i];
      if (t->node_case != PG_QUERY__NODE__NODE_RES_TARGET || t->res_target->name == nullptr ||
          string_value(cr->fields[0]) != t->res_target->name) {
        continue;
      }
      const PgQuery__ColumnRef* target = cast_column(t->res_target->val).column;
      Relation* rel = nullptr;
      if (target != nullptr && names_old_column_read_new(target) &&
          resolve_column({string_value(cr->fields[0])}, scope, &rel) == Found::no) {
        const int at = tokens_.index_at(cr->location);
        note_grouped_expr(t->res_target->val, scope, at, at, element);
        return;
      }
      break;
    }
  }
  // GROUP BY k: the k-th target, counted only where no `*` before it widens the list. Postgres
  // reads an ordinal inside ROLLUP, CUBE or GROUPING SETS so too (transformGroupClauseExpr).
  if (item->node_case == PG_QUERY__NODE__NODE_A_CONST &&
      item->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL && item->a_const->ival != nullptr) {
    const int k = item->a_const->ival->ival;
    for (int i = 0; i < k && static_cast<size_t>(i) < s->n_target_list; ++i) {
      const Node* t = s->target_list[i];
      if (t->node_case != PG_QUERY__NODE__NODE_RES_TARGET || t->res_target->val == nullptr) {
        return;
      }
      if (t->res_target->val->node_case == PG_QUERY__NODE__NODE_COLUMN_REF &&
          plain_column(t->res_target->val) == nullptr) {
        // Grouped by a column perhaps O, perhaps not: within a grouping set, N cannot be left
        // out (NULL in this set's rows where another adds it) nor added for certain.
        if (has_grouping_sets(s)) {
          grouped_olds_.push_back(GroupedOld{&scope, nullptr, nullptr, -1, -1, element, false,
                                             false, kOrdinalPastStar});
        }
        return;
      }
    }
    if (k < 1 || static_cast<size_t>(k) > s->n_target_list) {
      return;
    }
    const int at = tokens_.index_at(item->a_const->location);
    note_grouped_expr(s->target_list[k - 1]->res_target->val, scope, at, at, element);
    return;
  }
  if (cast_column(item).column != nullptr) {
    note_grouped_expr(item, scope, expression_start(item), expression_end(item), element);
  }
}

void Analyzer::note_grouped_expr(const Node* expr, const Scope& scope, int first, int last,
                                 bool element) {
  const CastColumn c = cast_column(expr);
  if (c.column == nullptr) {
    return;
  }
  const auto before = static_cast<std::ptrdiff_t>(grouped_olds_.size());
  note_grouped_old_column(c.column, scope, first, last, element);
  // A cast to another type is grouped by Postgres as an expression: its own sub-select read
  // fails as before.
  grouped_olds_.erase(std::remove_if(grouped_olds_.begin() + before, grouped_olds_.end(),
                                     [&](const GroupedOld& g) {
                                       return std::any_of(c.types.begin(), c.types.end(),
                                                          [&](std::string_view type) {
                                                            return !names_type(type, g.m->old_type);
                                                          });
                                     }),
                      grouped_olds_.end());
  if (c.called) {
    for (auto g = grouped_olds_.begin() + before; g != grouped_olds_.end(); ++g) {
      g->refusal = kCalledCast;
    }
  }
}

int Analyzer::expression_start(const Node* n) const {
  if (n->node_case == PG_QUERY__NODE__NODE_FUNC_CALL) {
    return -1;  // refused, never edited
  }
  if (n->node_case == PG_QUERY__NODE__NODE_TYPE_CAST) {
    const PgQuery__TypeCast* tc = n->type_cast;
    return written_as_cast_call(tc) ? tokens_.index_at(tc->location) : expression_start(tc->arg);
  }
  return tokens_.index_at(n->column_ref->location);
}

int Analyzer::expression_end(const Node* n) const {
  if (n->node_case == PG_QUERY__NODE__NODE_FUNC_CALL) {
    return -1;
  }
  if (n->node_case == PG_QUERY__NODE__NODE_TYPE_CAST) {
    const PgQuery__TypeCast* tc = n->type_cast;
    if (written_as_cast_call(tc)) {
      const int cast = tokens_.index_at(tc->location);
      return cast < 0 || !tokens_.is_char(cast + 1, '(') ? -1 : tokens_.matching_close(cast + 1);
    }
    const int type_at = tokens_.index_at(tc->type_name->location);
    return type_at < 0 ? -1 : tokens_.dotted_name_end(type_at);
  }
  const int at = tokens_.index_at(n->column_ref->location);
  return at < 0 ? -1 : tokens_.dotted_name_end(at);
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
    // Where what the item groups by is not known, any read of an O of the grouped level.
    const bool unknown =
        g.m == nullptr && std::any_of(g.scope->rels.begin(), g.scope->rels.end(),
                                      [&](const Relation& r) { return &r == &rel; });
    if (g.applies && g.scope != &scope && (unknown || (g.rel == &rel && g.m == m)) &&
        std::find(aggregate_levels_.begin(), aggregate_levels_.end(), g.scope) ==
            aggregate_levels_.end()) {
      g.rel = &rel;
      g.m = m;
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
    if (g.refusal != nullptr) {
      unsupported(
          m, "a sub-select reading \"" + m->old_column + "\" of a select grouped by " + g.refusal);
      continue;
    }
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
