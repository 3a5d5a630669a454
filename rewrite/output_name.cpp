// The name Postgres gives a select target without an alias (parse_target.c,
// FigureColnameInternal), and the column reference that name comes from: the read rule keeps
// that name when it rewrites the reference.

#include "rewrite/analyzer.hpp"

namespace switchyard::rewrite::detail {

namespace {

// Postgres' strengths: a name from a column, a function or a keyword construct (2) outweighs a
// type's name from a cast (1), which outweighs none (0).
struct OutputName {
  int strength = 0;
  std::string name;
  const PgQuery__ColumnRef* giver = nullptr;
};

OutputName figured(const Node* node);

OutputName named(std::string_view name, int strength = 2) {
  return {strength, std::string(name), nullptr};
}

std::string_view sql_value_function_name(PgQuery__SQLValueFunctionOp op) {
  switch (op) {
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_DATE:
      return "current_date";
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIME:
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIME_N:
      return "current_time";
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIMESTAMP:
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIMESTAMP_N:
      return "current_timestamp";
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIME:
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIME_N:
      return "localtime";
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIMESTAMP:
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIMESTAMP_N:
      return "localtimestamp";
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_ROLE:
      return "current_role";
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_USER:
      return "current_user";
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_USER:
      return "user";
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_SESSION_USER:
      return "session_user";
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_CATALOG:
      return "current_catalog";
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_SCHEMA:
      return "current_schema";
    default:
      return "";
  }
}

std::string_view xml_function_name(PgQuery__XmlExprOp op) {
  switch (op) {
    case PG_QUERY__XML_EXPR_OP__IS_XMLCONCAT:
      return "xmlconcat";
    case PG_QUERY__XML_EXPR_OP__IS_XMLELEMENT:
      return "xmlelement";
    case PG_QUERY__XML_EXPR_OP__IS_XMLFOREST:
      return "xmlforest";
    case PG_QUERY__XML_EXPR_OP__IS_XMLPARSE:
      return "xmlparse";
    case PG_QUERY__XML_EXPR_OP__IS_XMLPI:
      return "xmlpi";
    case PG_QUERY__XML_EXPR_OP__IS_XMLROOT:
      return "xmlroot";
    case PG_QUERY__XML_EXPR_OP__IS_XMLSERIALIZE:
      return "xmlserialize";
    default:
      return "";
  }
}

// A scalar subquery is named after its first output (a set operation's leftmost branch), which
// the subquery's own walk keeps under its name.
OutputName subquery_name(const Node* subselect) {
  const PgQuery__SelectStmt* s =
      subselect != nullptr && subselect->node_case == PG_QUERY__NODE__NODE_SELECT_STMT
          ? subselect->select_stmt
          : nullptr;
  while (s != nullptr && s->op != PG_QUERY__SET_OPERATION__SETOP_NONE) {
    s = s->larg;
  }
  if (s == nullptr) {
    return {};
  }
  if (s->n_values_lists > 0) {
    return named("column1");
  }
  if (s->n_target_list == 0 || s->target_list[0]->node_case != PG_QUERY__NODE__NODE_RES_TARGET) {
    return {};
  }
  const PgQuery__ResTarget* rt = s->target_list[0]->res_target;
  if (rt->name != nullptr && rt->name[0] != '\0') {
    return named(rt->name);
  }
  const Node* val = rt->val;
  if (val != nullptr && val->node_case == PG_QUERY__NODE__NODE_COLUMN_REF &&
      val->column_ref->n_fields > 0 &&
      val->column_ref->fields[val->column_ref->n_fields - 1]->node_case ==
          PG_QUERY__NODE__NODE_A_STAR) {
    return {};  // the first column of the star's relation
  }
  return named(figure_colname(val));
}

OutputName figured(const Node* node) {
  if (node == nullptr) {
    return {};
  }
  switch (node->node_case) {
    case PG_QUERY__NODE__NODE_COLUMN_REF: {
      const PgQuery__ColumnRef* cr = node->column_ref;
      for (size_t i = cr->n_fields; i > 0; --i) {
        if (cr->fields[i - 1]->node_case == PG_QUERY__NODE__NODE_STRING) {
          return {2, std::string(string_value(cr->fields[i - 1])), cr};
        }
      }
      return {};
    }
    case PG_QUERY__NODE__NODE_A_INDIRECTION: {
      const PgQuery__AIndirection* ind = node->a_indirection;
      for (size_t i = ind->n_indirection; i > 0; --i) {
        if (ind->indirection[i - 1]->node_case == PG_QUERY__NODE__NODE_STRING) {
          return named(string_value(ind->indirection[i - 1]));
        }
      }
      return figured(ind->arg);
    }
    case PG_QUERY__NODE__NODE_FUNC_CALL: {
      const PgQuery__FuncCall* fc = node->func_call;
      return fc->n_funcname > 0 ? named(string_value(fc->funcname[fc->n_funcname - 1]))
                                : OutputName{};
    }
    case PG_QUERY__NODE__NODE_A_EXPR:
      return node->a_expr->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NULLIF ? named("nullif")
                                                                         : OutputName{};
    case PG_QUERY__NODE__NODE_TYPE_CAST: {
      OutputName inner = figured(node->type_cast->arg);
      const PgQuery__TypeName* tn = node->type_cast->type_name;
      if (inner.strength <= 1 && tn != nullptr && tn->n_names > 0) {
        return named(string_value(tn->names[tn->n_names - 1]), 1);
      }
      return inner;
    }
    case PG_QUERY__NODE__NODE_COLLATE_CLAUSE:
      return figured(node->collate_clause->arg);
    case PG_QUERY__NODE__NODE_GROUPING_FUNC:
      return named("grouping");
    case PG_QUERY__NODE__NODE_SUB_LINK:
      switch (node->sub_link->sub_link_type) {
        case PG_QUERY__SUB_LINK_TYPE__EXISTS_SUBLINK:
          return named("exists");
        case PG_QUERY__SUB_LINK_TYPE__ARRAY_SUBLINK:
          return named("array");
        case PG_QUERY__SUB_LINK_TYPE__EXPR_SUBLINK:
          return subquery_name(node->sub_link->subselect);
        default:
          return {};
      }
    case PG_QUERY__NODE__NODE_CASE_EXPR: {
      OutputName result = figured(node->case_expr->defresult);
      return result.strength <= 1 ? named("case", 1) : result;
    }
    case PG_QUERY__NODE__NODE_A_ARRAY_EXPR:
      return named("array");
    case PG_QUERY__NODE__NODE_ROW_EXPR:
      return named("row");
    case PG_QUERY__NODE__NODE_COALESCE_EXPR:
      return named("coalesce");
    case PG_QUERY__NODE__NODE_MIN_MAX_EXPR:
      return named(node->min_max_expr->op == PG_QUERY__MIN_MAX_OP__IS_GREATEST ? "greatest"
                                                                               : "least");
    case PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION: {
      const std::string_view name = sql_value_function_name(node->sqlvalue_function->op);
      return name.empty() ? OutputName{} : named(name);
    }
    case PG_QUERY__NODE__NODE_XML_EXPR: {
      const std::string_view name = xml_function_name(node->xml_expr->op);
      return name.empty() ? OutputName{} : named(name);
    }
    case PG_QUERY__NODE__NODE_XML_SERIALIZE:
      return named("xmlserialize");
    default:
      return {};
  }
}

}  // namespace

std::string figure_colname(const Node* node) {
  OutputName n = figured(node);
  return n.strength == 0 ? "?column?" : std::move(n.name);
}

const PgQuery__ColumnRef* name_giving_colref(const Node* node) { return figured(node).giver; }

}  // namespace switchyard::rewrite::detail
