// Under reads = new, a read of O served bare from N of another integer width keeps N's index
// for WHERE and JOIN, but the server infers an untyped parameter beside it from N: `n2 = $1`
// describes $1 as int8 where `n = $1` described an int4, and a driver that binds by the
// described type would send another width. The parameter is given O's type the way the server
// gives it: COALESCE($1, NULL::integer) takes integer for an untyped $1, as `n = $1` did, and
// leaves a typed one (int8 declared at Parse or inferred elsewhere first) as it is, where a
// cast would narrow it.

#include <algorithm>
#include <array>
#include <functional>
#include <vector>

#include "rewrite/analyzer.hpp"

namespace switchyard::rewrite::detail {

namespace {

bool is_integer_type(std::string_view type) {
  return type == "smallint" || type == "integer" || type == "bigint";
}

bool is_param(const Node* n) {
  return n != nullptr && n->node_case == PG_QUERY__NODE__NODE_PARAM_REF;
}

bool is_row(const Node* n) { return n != nullptr && n->node_case == PG_QUERY__NODE__NODE_ROW_EXPR; }

// Operators that each integer type has with itself: the server takes the other operand's type
// for an untyped one. (Others, `^` or `<<`, resolve otherwise and are left to it.)
bool same_type_operator(const PgQuery__AExpr* e) {
  static constexpr std::array<std::string_view, 11> kOperators = {
      "=", "<>", "<", ">", "<=", ">=", "+", "-", "*", "/", "%"};
  if (e->n_name == 0 || e->name[e->n_name - 1]->node_case != PG_QUERY__NODE__NODE_STRING) {
    return false;
  }
  const std::string_view op = string_value(e->name[e->n_name - 1]);
  return std::find(kOperators.begin(), kOperators.end(), op) != kOperators.end();
}

bool comparison(const PgQuery__AExpr* e) {
  const std::string_view op = string_value(e->name[e->n_name - 1]);
  return op == "=" || op == "<>" || op == "<" || op == ">" || op == "<=" || op == ">=";
}

bool is_int4_constant(const Node* n) {
  return n != nullptr && n->node_case == PG_QUERY__NODE__NODE_A_CONST &&
         n->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL;
}

// Values of one list given one common type (select_common_type): an IN list's items (but
// those with a column of the query's own level, compared one by one: transformAExprIn), the
// arguments of COALESCE, GREATEST and LEAST, a CASE's results. The untyped ones take O's type
// only where nothing else there may make that type wider: an int4 constant does not (unless O
// is a smallint); another column, a subquery or another typed value may.
bool list_keeps_type(const std::vector<const Node*>& items, const std::string& old_type,
                     const std::function<bool(const Node*)>& bare) {
  for (const Node* item : items) {
    if (item == nullptr || is_untyped(item) || bare(item)) {
      continue;
    }
    if (!is_int4_constant(item) || old_type == "smallint") {
      return false;
    }
  }
  return true;
}

}  // namespace

const Migration* Analyzer::bare_other_width(const Node* n) const {
  if (n == nullptr) {
    return nullptr;
  }
  // Arithmetic over such a read and an int4 constant or a parameter is still of O's type (N's
  // with the rewrite) where O is an integer or a bigint: `n + 1 = $1`.
  if (n->node_case == PG_QUERY__NODE__NODE_A_EXPR &&
      n->a_expr->kind == PG_QUERY__A__EXPR__KIND__AEXPR_OP && same_type_operator(n->a_expr) &&
      !comparison(n->a_expr)) {
    const Node* l = n->a_expr->lexpr;
    const Node* r = n->a_expr->rexpr;
    const Migration* m = bare_other_width(l);
    const Node* other = l == nullptr ? nullptr : r;
    if (m == nullptr) {
      m = bare_other_width(r);
      other = l;
    }
    const bool keeps = other == nullptr || is_param(other) || bare_other_width(other) == m ||
                       (is_int4_constant(other) && m != nullptr && m->old_type != "smallint");
    return keeps ? m : nullptr;
  }
  if (n->node_case != PG_QUERY__NODE__NODE_COLUMN_REF) {
    return nullptr;
  }
  for (const auto& [cr, m] : bare_other_width_) {
    if (cr == n->column_ref && is_integer_type(m->old_type)) {
      return m;
    }
  }
  return nullptr;
}

void Analyzer::type_parameter_as_old(const Node* param, const Migration* m, bool array) {
  const int i = tokens_.index_at(param->param_ref->location);
  if (i < 0) {
    unsupported(m, "cannot locate a parameter in the text");
    return;
  }
  const std::string typed =
      "COALESCE(" + std::string(tokens_.text(i)) + ", NULL::" + m->old_type + (array ? "[])" : ")");
  if (!edits_.replace(tokens_.at(i).start, tokens_.at(i).end, typed)) {
    unsupported(m, "overlapping rewrites of a parameter");
  }
}

void Analyzer::type_parameter_beside(const Node* operand, const Node* other) {
  // Two rows compare field by field (make_row_comparison_op).
  if (is_row(operand) && is_row(other)) {
    if (operand->row_expr->n_args == other->row_expr->n_args) {
      for (size_t i = 0; i < operand->row_expr->n_args; ++i) {
        type_parameter_beside(operand->row_expr->args[i], other->row_expr->args[i]);
      }
    }
    return;
  }
  if (const Migration* m = bare_other_width(operand); m != nullptr && is_param(other)) {
    type_parameter_as_old(other, m, false);
  } else if (const Migration* m2 = bare_other_width(other); m2 != nullptr && is_param(operand)) {
    type_parameter_as_old(operand, m2, false);
  }
}

void Analyzer::type_operands_as_old(const PgQuery__AExpr* e) {
  const Node* list = e->rexpr;
  const bool has_list = list != nullptr && list->node_case == PG_QUERY__NODE__NODE_LIST;
  switch (e->kind) {
    case PG_QUERY__A__EXPR__KIND__AEXPR_OP:
      if (same_type_operator(e)) {
        type_parameter_beside(e->lexpr, e->rexpr);
      }
      return;
    case PG_QUERY__A__EXPR__KIND__AEXPR_DISTINCT:
    case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_DISTINCT:
    case PG_QUERY__A__EXPR__KIND__AEXPR_NULLIF:
      type_parameter_beside(e->lexpr, e->rexpr);
      return;
    case PG_QUERY__A__EXPR__KIND__AEXPR_OP_ANY:
    case PG_QUERY__A__EXPR__KIND__AEXPR_OP_ALL:
      if (const Migration* m = bare_other_width(e->lexpr);
          m != nullptr && same_type_operator(e) && is_param(e->rexpr)) {
        type_parameter_as_old(e->rexpr, m, true);
      }
      return;
    // BETWEEN compares with each bound (`a >= x AND a <= y`).
    case PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN:
    case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN:
    case PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN_SYM:
    case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN_SYM:
      for (size_t i = 0; has_list && i < list->list->n_items; ++i) {
        type_parameter_beside(e->lexpr, list->list->items[i]);
      }
      return;
    case PG_QUERY__A__EXPR__KIND__AEXPR_IN: {
      if (!has_list) {
        return;
      }
      if (is_row(e->lexpr) || list->list->n_items == 1) {
        for (size_t i = 0; i < list->list->n_items; ++i) {
          type_parameter_beside(e->lexpr, list->list->items[i]);
        }
        return;
      }
      if (const Migration* m = bare_other_width(e->lexpr); m != nullptr) {
        const std::vector<const Node*> items(list->list->items,
                                             list->list->items + list->list->n_items);
        type_common_parameters(items, m);
      }
      return;
    }
    default:
      return;
  }
}

void Analyzer::type_common_parameters(const std::vector<const Node*>& items, const Migration* m) {
  const auto bare = [&](const Node* n) {
    const Migration* other = bare_other_width(n);
    return other != nullptr && other->old_type == m->old_type;
  };
  if (!list_keeps_type(items, m->old_type, bare)) {
    return;
  }
  for (const Node* item : items) {
    if (is_param(item)) {
      type_parameter_as_old(item, m, false);
    }
  }
}

void Analyzer::type_parameters_as_old(const Node* n) {
  std::vector<const Node*> items;
  switch (n->node_case) {
    case PG_QUERY__NODE__NODE_A_EXPR:
      type_operands_as_old(n->a_expr);
      return;
    case PG_QUERY__NODE__NODE_COALESCE_EXPR:
      items.assign(n->coalesce_expr->args, n->coalesce_expr->args + n->coalesce_expr->n_args);
      break;
    case PG_QUERY__NODE__NODE_MIN_MAX_EXPR:
      items.assign(n->min_max_expr->args, n->min_max_expr->args + n->min_max_expr->n_args);
      break;
    case PG_QUERY__NODE__NODE_CASE_EXPR: {
      const PgQuery__CaseExpr* c = n->case_expr;
      for (size_t i = 0; i < c->n_args; ++i) {
        if (c->args[i]->node_case != PG_QUERY__NODE__NODE_CASE_WHEN) {
          continue;
        }
        // `CASE x WHEN v` compares `x = v`.
        if (c->arg != nullptr) {
          type_parameter_beside(c->arg, c->args[i]->case_when->expr);
        }
        items.push_back(c->args[i]->case_when->result);
      }
      items.push_back(c->defresult);
    } break;
    default:
      return;
  }
  for (const Node* item : items) {
    if (const Migration* m = bare_other_width(item); m != nullptr) {
      type_common_parameters(items, m);
      return;
    }
  }
}

}  // namespace switchyard::rewrite::detail
