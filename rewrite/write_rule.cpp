// The write rule's shared pieces (DESIGN §3 table "writes"): what to do for a statement that
// writes O and/or N, and how the written value is carried to the other column.

#include <algorithm>
#include <array>

#include "rewrite/analyzer.hpp"
#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite::detail {

namespace {

// Built-in functions that give the same result when evaluated twice in one statement, so a value
// using them may be written to both columns by repeating its text. Any other function is looked
// up in pg_proc: IMMUTABLE and STABLE ones are fine too, VOLATILE ones (nextval, random, most
// user functions) are unsupported rather than risking two different values.
constexpr std::array<std::string_view, 92> kRepeatable = {"abs",
                                                          "age",
                                                          "array_agg",
                                                          "array_append",
                                                          "array_cat",
                                                          "array_length",
                                                          "array_prepend",
                                                          "array_to_string",
                                                          "avg",
                                                          "bool_and",
                                                          "bool_or",
                                                          "btrim",
                                                          "cardinality",
                                                          "ceil",
                                                          "ceiling",
                                                          "char_length",
                                                          "character_length",
                                                          "coalesce",
                                                          "concat",
                                                          "concat_ws",
                                                          "count",
                                                          "current_date",
                                                          "current_setting",
                                                          "date",
                                                          "date_part",
                                                          "date_trunc",
                                                          "decode",
                                                          "dense_rank",
                                                          "encode",
                                                          "every",
                                                          "extract",
                                                          "first_value",
                                                          "floor",
                                                          "format",
                                                          "greatest",
                                                          "initcap",
                                                          "int2",
                                                          "int4",
                                                          "int8",
                                                          "json_agg",
                                                          "json_build_array",
                                                          "json_build_object",
                                                          "jsonb_agg",
                                                          "jsonb_build_array",
                                                          "jsonb_build_object",
                                                          "jsonb_set",
                                                          "lag",
                                                          "last_value",
                                                          "lead",
                                                          "least",
                                                          "left",
                                                          "length",
                                                          "lower",
                                                          "lpad",
                                                          "ltrim",
                                                          "make_date",
                                                          "make_interval",
                                                          "make_timestamp",
                                                          "max",
                                                          "md5",
                                                          "min",
                                                          "mod",
                                                          "now",
                                                          "nullif",
                                                          "numeric",
                                                          "octet_length",
                                                          "position",
                                                          "power",
                                                          "quote_ident",
                                                          "quote_literal",
                                                          "rank",
                                                          "regexp_replace",
                                                          "repeat",
                                                          "replace",
                                                          "reverse",
                                                          "right",
                                                          "round",
                                                          "row_number",
                                                          "rpad",
                                                          "rtrim",
                                                          "split_part",
                                                          "sqrt",
                                                          "statement_timestamp",
                                                          "string_agg",
                                                          "strpos",
                                                          "substr",
                                                          "substring",
                                                          "sum",
                                                          "text",
                                                          "to_char",
                                                          "to_date",
                                                          "to_json"};
constexpr std::array<std::string_view, 12> kRepeatable2 = {
    "to_jsonb",  "to_number", "to_timestamp", "transaction_timestamp",
    "translate", "trim",      "trunc",        "upper",
    "uuid",      "varchar",   "timezone",     "bool"};

// Built-in VOLATILE functions common in written values: refused without asking the catalog.
constexpr std::array<std::string_view, 6> kVolatile = {
    "nextval", "setval", "random", "gen_random_uuid", "clock_timestamp", "timeofday"};

bool builtin(const QualifiedName& name) {
  return name.schema.empty() || name.schema == "pg_catalog";
}

bool on_builtin_list(const QualifiedName& name) {
  return builtin(name) &&
         (std::find(kRepeatable.begin(), kRepeatable.end(), name.table) != kRepeatable.end() ||
          std::find(kRepeatable2.begin(), kRepeatable2.end(), name.table) != kRepeatable2.end());
}

bool on_volatile_list(const QualifiedName& name) {
  return builtin(name) &&
         std::find(kVolatile.begin(), kVolatile.end(), name.table) != kVolatile.end();
}

/// `judge` says why a call may not be repeated ("" if it may).
template <typename Judge>
void find_unrepeatable(const Node* n, std::string* bad, Judge& judge) {
  if (n == nullptr || !bad->empty()) {
    return;
  }
  if (n->node_case == PG_QUERY__NODE__NODE_FUNC_CALL) {
    *bad = judge(n->func_call);
    if (!bad->empty()) {
      return;
    }
  }
  for_each_child(
      node_payload(n), [&](const Node* child) { find_unrepeatable(child, bad, judge); },
      [&](const ProtobufCMessage* typed) {
        for_each_child(
            typed, [&](const Node* child) { find_unrepeatable(child, bad, judge); },
            [&](const ProtobufCMessage*) { *bad = "a nested statement"; });
      });
}

}  // namespace

Analyzer::WriteOp Analyzer::decide_write(const Migration* m, bool writes_old, bool writes_new) {
  switch (m->writes) {
    case Writes::old_column:
      return WriteOp::none;
    case Writes::both:
      if (writes_old && !writes_new) {
        return WriteOp::add_new;
      }
      if (writes_new && !writes_old) {
        return WriteOp::add_old;
      }
      return WriteOp::none;
    case Writes::new_column:
      if (writes_old && !writes_new) {
        return WriteOp::rename_to_new;
      }
      if (writes_old && writes_new) {
        return WriteOp::remove_old;
      }
      return WriteOp::none;
  }
  return WriteOp::none;
}

std::string Analyzer::unrepeatable(const Node* value) {
  auto judge = [&](const PgQuery__FuncCall* fc) -> std::string {
    // The parser stores names as Postgres does (folded unless quoted).
    QualifiedName name;
    name.table = fc->n_funcname > 0 ? std::string(string_value(fc->funcname[fc->n_funcname - 1]))
                                    : std::string();
    if (fc->n_funcname > 1) {
      name.schema = std::string(string_value(fc->funcname[fc->n_funcname - 2]));
    }
    if (on_builtin_list(name) && !name.schema.empty()) {
      return {};
    }
    const std::string shown = (name.schema.empty() ? "" : name.schema + ".") + name.table + "()";
    const std::optional<char> volatility =
        on_volatile_list(name) ? 'v' : catalog_.function_volatility(name);
    if (on_builtin_list(name) && volatility.has_value() && *volatility == '\0') {
      return {};  // syntax (coalesce, greatest) or a cast (uuid), not a function of pg_proc
    }
    if (!volatility.has_value()) {
      if (std::find(missing_functions.begin(), missing_functions.end(), name) ==
          missing_functions.end()) {
        missing_functions.push_back(name);
      }
      return {};  // the retry decides
    }
    if (*volatility == '\0') {
      return shown + ", which the catalog does not list";
    }
    return *volatility == 'v' ? shown + ", which is VOLATILE" : std::string();
  };
  std::string bad;
  find_unrepeatable(value, &bad, judge);
  return bad;
}

void Analyzer::refuse_repeat(const Migration* m, const std::string& bad) {
  unsupported(m, "a written value using " + bad +
                     " (it would be evaluated twice and could differ between the columns)");
}

bool is_untyped(const Node* node) {
  if (node == nullptr) {
    return false;
  }
  if (node->node_case == PG_QUERY__NODE__NODE_PARAM_REF) {
    return true;
  }
  if (node->node_case != PG_QUERY__NODE__NODE_A_CONST || node->a_const == nullptr) {
    return false;
  }
  return node->a_const->isnull || node->a_const->val_case == PG_QUERY__A__CONST__VAL_SVAL;
}

bool is_default(const Node* node) {
  return node != nullptr && node->node_case == PG_QUERY__NODE__NODE_SET_TO_DEFAULT;
}

bool expands_a_row(const Node* node) {
  if (node == nullptr) {
    return false;
  }
  if (node->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) {
    const PgQuery__ColumnRef* cr = node->column_ref;
    return cr->n_fields > 0 &&
           cr->fields[cr->n_fields - 1]->node_case == PG_QUERY__NODE__NODE_A_STAR;
  }
  if (node->node_case == PG_QUERY__NODE__NODE_A_INDIRECTION) {
    const PgQuery__AIndirection* ind = node->a_indirection;
    return ind->n_indirection > 0 &&
           ind->indirection[ind->n_indirection - 1]->node_case == PG_QUERY__NODE__NODE_A_STAR;
  }
  return false;
}

bool defaults_one(const Migration* m, PgQuery__Node* const* row, size_t n, int io, int in) {
  return m->writes == Writes::both && io >= 0 && in >= 0 &&
         static_cast<size_t>(std::max(io, in)) < n && is_default(row[io]) != is_default(row[in]);
}

std::string Analyzer::written_value(const Migration* m, WriteOp op, Span value, const Node* node) {
  if (is_default(node)) {
    // DEFAULT for one column means "writes neither" for that row: the other column takes its
    // own default too.
    return "DEFAULT";
  }
  return transformed_write(m, op, edits_.render(value.begin, value.end), is_untyped(node));
}

std::string Analyzer::transformed_write(const Migration* m, WriteOp op, const std::string& value,
                                        bool untyped) {
  const std::string& tmpl = transform_of(m, op);
  // The value is written to N for add_old, to O otherwise: its type is that column's.
  const std::string& type = op == WriteOp::add_old ? m->new_type : m->old_type;
  if (tmpl.empty() && m->same_values()) {
    // N holds the value as it is, but typed as the column the app wrote: an untyped one would
    // otherwise be given two types (`integer versus bigint`) or N's (a parameter described
    // otherwise than without the rewrite), and under writes = new nothing else checks a value
    // against O's length or range.
    const bool typed_as_written =
        m->types_differ() && (untyped || (op == WriteOp::rename_to_new && m->old_type_narrower()));
    return typed_as_written ? assigned_as(value, type, untyped) : value;
  }
  const std::string typed = type.empty() ? value : assigned_as(value, type, untyped);
  return tmpl.empty() ? typed : "(" + apply_template(tmpl, typed) + ")";
}

std::vector<Span> Analyzer::select_target_spans(const PgQuery__SelectStmt* s) {
  if (s == nullptr || s->n_target_list == 0 ||
      s->target_list[0]->node_case != PG_QUERY__NODE__NODE_RES_TARGET) {
    return {};
  }
  const int first = tokens_.index_at(s->target_list[0]->res_target->location);
  if (first < 0) {
    return {};
  }
  std::vector<Span> items = tokens_.split_list(first, stmt_end_, kTargetListStops);
  if (items.size() != s->n_target_list) {
    return {};
  }
  for (size_t i = 0; i < items.size(); ++i) {
    const PgQuery__ResTarget* rt = s->target_list[i]->res_target;
    if (rt->name != nullptr && rt->name[0] != '\0') {
      const int last = tokens_.index_before(items[i].end);
      const int keep = tokens_.is_keyword(last - 1, "as") ? last - 2 : last - 1;
      items[i].end = tokens_.at(keep).end;
    }
  }
  return items;
}

bool names_a_column_twice(const std::vector<std::string>& columns) {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (std::find(columns.begin() + static_cast<long>(i) + 1, columns.end(), columns[i]) !=
        columns.end()) {
      return true;
    }
  }
  return false;
}

bool names_a_column_twice(PgQuery__Node* const* targets, size_t n) {
  std::vector<std::string> plain;
  for (size_t i = 0; i < n; ++i) {
    const PgQuery__ResTarget* rt = targets[i]->res_target;
    // `SET c.f = 1, c.g = 2` assigns two fields of one column: valid.
    if (rt->name != nullptr && rt->n_indirection == 0) {
      plain.emplace_back(rt->name);
    }
  }
  return names_a_column_twice(plain);
}

}  // namespace switchyard::rewrite::detail

namespace switchyard::rewrite {

std::vector<std::string> repeatable_builtin_names() {
  std::vector<std::string> names(detail::kRepeatable.begin(), detail::kRepeatable.end());
  names.insert(names.end(), detail::kRepeatable2.begin(), detail::kRepeatable2.end());
  return names;
}

}  // namespace switchyard::rewrite
