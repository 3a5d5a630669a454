// The columns of a function in FROM, or of ROWS FROM's functions in turn. Known without the
// catalog: a column definition list, a built-in that returns one scalar column (named by the
// alias, else by the function) such as generate_series or unnest($1::int[]), or a built-in with
// OUT parameters (jsonb_each: key, value). Any other plain call (under ROWS FROM only alone) is
// looked up: its OUT parameters, its composite return type's columns, or one scalar column, when
// every function of that name agrees. An unqualified O next to a function whose columns stay
// unknown is unsupported.

#include <algorithm>
#include <array>

#include "rewrite/analyzer.hpp"

namespace switchyard::rewrite::detail {

namespace {

// Set-returning built-ins whose one column is a scalar (never a row type's columns), named by
// the alias, else by the function.
constexpr std::array<std::string_view, 8> kScalarSetFunctions = {
    "generate_series", "generate_subscripts", "regexp_split_to_table", "string_to_table",
    "regexp_matches",  "json_object_keys",    "jsonb_object_keys",     "jsonb_path_query"};

// Set-returning built-ins with OUT parameters: their columns keep these names under an alias
// (pg_proc.proargnames, the same for every overload).
struct OutColumns {
  std::string_view function;
  std::array<std::string_view, 2> columns;  // an empty second name: one column
};
constexpr std::array<OutColumns, 8> kOutColumnFunctions = {{
    {"json_each", {"key", "value"}},
    {"jsonb_each", {"key", "value"}},
    {"json_each_text", {"key", "value"}},
    {"jsonb_each_text", {"key", "value"}},
    {"json_array_elements", {"value", ""}},
    {"jsonb_array_elements", {"value", ""}},
    {"json_array_elements_text", {"value", ""}},
    {"jsonb_array_elements_text", {"value", ""}},
}};

// Element types of an array that unnest may expand to one column: a composite element
// would expand to its fields instead.
constexpr std::array<std::string_view, 16> kScalarTypes = {
    "int2",   "int4", "int8",    "integer", "bigint", "smallint", "numeric",     "float4",
    "float8", "text", "varchar", "bpchar",  "uuid",   "bool",     "timestamptz", "date"};

std::string_view last_name(PgQuery__Node* const* names, size_t n) {
  return n > 0 ? string_value(names[n - 1]) : std::string_view();
}

bool builtin_schema(PgQuery__Node* const* names, size_t n) {
  return n < 2 || string_value(names[n - 2]) == "pg_catalog";
}

// `$1::int[]`, `ARRAY[1, 2]::text[]` or `ARRAY[1, 2]`: an array whose elements are scalars.
bool scalar_array(const Node* arg) {
  if (arg->node_case == PG_QUERY__NODE__NODE_A_ARRAY_EXPR) {
    const PgQuery__AArrayExpr* a = arg->a_array_expr;
    return a->n_elements > 0 &&
           std::all_of(a->elements, a->elements + a->n_elements,
                       [](const Node* e) { return e->node_case == PG_QUERY__NODE__NODE_A_CONST; });
  }
  if (arg->node_case != PG_QUERY__NODE__NODE_TYPE_CAST || arg->type_cast->type_name == nullptr) {
    return false;
  }
  const PgQuery__TypeName* t = arg->type_cast->type_name;
  const std::string_view type = last_name(t->names, t->n_names);
  return t->n_array_bounds == 1 && builtin_schema(t->names, t->n_names) &&
         std::find(kScalarTypes.begin(), kScalarTypes.end(), type) != kScalarTypes.end();
}

// The one plain function call of `rf` (`ROWS FROM (f())` too, which has f's columns), or null.
const PgQuery__FuncCall* single_call(const PgQuery__RangeFunction* rf) {
  if (rf->n_functions != 1 || rf->functions[0]->node_case != PG_QUERY__NODE__NODE_LIST ||
      rf->functions[0]->list->n_items == 0 ||
      rf->functions[0]->list->items[0]->node_case != PG_QUERY__NODE__NODE_FUNC_CALL) {
    return nullptr;
  }
  const PgQuery__List* call = rf->functions[0]->list;
  if (call->n_items > 1 && call->items[1]->node_case == PG_QUERY__NODE__NODE_LIST &&
      call->items[1]->list->n_items > 0) {
    return nullptr;  // ROWS FROM (f() AS (a int)): its own column definition list
  }
  return call->items[0]->func_call;
}

// `count` scalar columns, each named as Postgres names a scalar function's column: by the
// alias when the call is the FROM item's only one (`alone`), else by the function.
std::vector<std::string> scalar_columns(const PgQuery__RangeFunction* rf, std::string_view name,
                                        size_t count, bool alone = true) {
  const bool aliased = alone && rf->alias != nullptr && rf->alias->aliasname != nullptr;
  return std::vector<std::string>(count,
                                  aliased ? std::string(rf->alias->aliasname) : std::string(name));
}

// One call of a FROM item, with its own column definition list (`ROWS FROM (f() AS (a int))`).
struct Call {
  const PgQuery__FuncCall* fc = nullptr;
  const PgQuery__List* coldefs = nullptr;
};

// The calls of `rf`, one or several (ROWS FROM); nullopt when one is no plain call.
std::optional<std::vector<Call>> calls_of(const PgQuery__RangeFunction* rf) {
  std::vector<Call> calls;
  for (size_t k = 0; k < rf->n_functions; ++k) {
    const Node* f = rf->functions[k];
    if (f->node_case != PG_QUERY__NODE__NODE_LIST || f->list->n_items == 0 ||
        f->list->items[0]->node_case != PG_QUERY__NODE__NODE_FUNC_CALL) {
      return std::nullopt;
    }
    Call call{f->list->items[0]->func_call, nullptr};
    if (f->list->n_items > 1 && f->list->items[1]->node_case == PG_QUERY__NODE__NODE_LIST) {
      call.coldefs = f->list->items[1]->list;
    }
    calls.push_back(call);
  }
  if (calls.empty()) {
    return std::nullopt;
  }
  return calls;
}

// The names of a column definition list, appended to `names`; false when one has none.
bool defined_columns(PgQuery__Node* const* defs, size_t n, std::vector<std::string>& names) {
  for (size_t i = 0; i < n; ++i) {
    if (defs[i]->node_case != PG_QUERY__NODE__NODE_COLUMN_DEF ||
        defs[i]->column_def->colname == nullptr) {
      return false;
    }
    names.emplace_back(defs[i]->column_def->colname);
  }
  return true;
}

// The columns of a built-in call known without the catalog, appended to `names`; false for any
// other call.
bool builtin_columns(const PgQuery__RangeFunction* rf, const PgQuery__FuncCall* fc, bool alone,
                     std::vector<std::string>& names) {
  const std::string_view name = last_name(fc->funcname, fc->n_funcname);
  if (!builtin_schema(fc->funcname, fc->n_funcname)) {
    return false;
  }
  const auto out = std::find_if(kOutColumnFunctions.begin(), kOutColumnFunctions.end(),
                                [name](const OutColumns& f) { return f.function == name; });
  std::vector<std::string> columns;
  if (out != kOutColumnFunctions.end()) {
    for (const std::string_view column : out->columns) {
      if (!column.empty()) {
        columns.emplace_back(column);
      }
    }
  } else if (std::find(kScalarSetFunctions.begin(), kScalarSetFunctions.end(), name) !=
             kScalarSetFunctions.end()) {
    columns = scalar_columns(rf, name, 1, alone);
  } else if (name == "unnest" && fc->n_args > 0 &&
             std::all_of(fc->args, fc->args + fc->n_args, scalar_array)) {
    columns = scalar_columns(rf, name, fc->n_args, alone);
  } else {
    return false;
  }
  names.insert(names.end(), columns.begin(), columns.end());
  return true;
}

// WITH ORDINALITY's column, then the alias' column names over the first columns.
Names with_aliases(const PgQuery__RangeFunction* rf, std::vector<std::string> names) {
  if (rf->ordinality) {
    names.emplace_back("ordinality");
  }
  // More aliases than columns is the server's error.
  const size_t renamed = rf->alias != nullptr ? rf->alias->n_colnames : 0;
  if (renamed > names.size()) {
    return std::nullopt;
  }
  for (size_t i = 0; i < renamed; ++i) {
    names[i] = std::string(string_value(rf->alias->colnames[i]));
  }
  return names;
}

}  // namespace

QualifiedName called_name(const PgQuery__FuncCall* fc) {
  QualifiedName name;
  name.table = std::string(last_name(fc->funcname, fc->n_funcname));
  if (fc->n_funcname > 1) {
    name.schema = std::string(string_value(fc->funcname[fc->n_funcname - 2]));
  }
  return name;
}

Names function_columns(const PgQuery__RangeFunction* rf) {
  const std::optional<std::vector<Call>> calls = calls_of(rf);
  if (!calls) {
    return std::nullopt;
  }
  // ROWS FROM's columns are its calls' in turn; a scalar one takes the alias only when alone.
  const bool alone = calls->size() == 1;
  std::vector<std::string> names;
  if (rf->n_coldeflist > 0) {
    if (!alone || !defined_columns(rf->coldeflist, rf->n_coldeflist, names)) {
      return std::nullopt;  // several calls under one list is the server's error
    }
    return with_aliases(rf, std::move(names));
  }
  for (const Call& call : *calls) {
    const bool defined = call.coldefs != nullptr && call.coldefs->n_items > 0;
    if (defined ? !defined_columns(call.coldefs->items, call.coldefs->n_items, names)
                : !builtin_columns(rf, call.fc, alone, names)) {
      return std::nullopt;
    }
  }
  return with_aliases(rf, std::move(names));
}

std::optional<QualifiedName> catalog_function(const PgQuery__RangeFunction* rf) {
  const PgQuery__FuncCall* fc = single_call(rf);
  if (fc == nullptr || rf->n_coldeflist > 0 || fc->n_funcname == 0) {
    return std::nullopt;
  }
  // The built-ins above are known here (an alias list they refuse is the server's error).
  const std::string_view last = last_name(fc->funcname, fc->n_funcname);
  if (builtin_schema(fc->funcname, fc->n_funcname) &&
      (std::find(kScalarSetFunctions.begin(), kScalarSetFunctions.end(), last) !=
           kScalarSetFunctions.end() ||
       std::any_of(kOutColumnFunctions.begin(), kOutColumnFunctions.end(),
                   [last](const OutColumns& f) { return f.function == last; }))) {
    return std::nullopt;
  }
  return called_name(fc);
}

std::vector<QualifiedName> rows_from_functions(const PgQuery__RangeFunction* rf) {
  std::vector<QualifiedName> names;
  const std::optional<std::vector<Call>> calls = calls_of(rf);
  if (!calls || calls->size() < 2) {
    return names;
  }
  for (const Call& call : *calls) {
    std::vector<std::string> builtin;
    if ((call.coldefs == nullptr || call.coldefs->n_items == 0) && call.fc->n_funcname > 0 &&
        !builtin_columns(rf, call.fc, false, builtin)) {
      names.push_back(called_name(call.fc));
    }
  }
  return names;
}

Names function_columns(const PgQuery__RangeFunction* rf, const FunctionOutput& output) {
  switch (output.kind) {
    case FunctionOutput::Kind::scalar: {
      const PgQuery__FuncCall* fc = single_call(rf);
      return with_aliases(rf, scalar_columns(rf, last_name(fc->funcname, fc->n_funcname), 1));
    }
    case FunctionOutput::Kind::columns:
      return with_aliases(rf, output.columns);
    case FunctionOutput::Kind::unknown:
      break;
  }
  return std::nullopt;
}

}  // namespace switchyard::rewrite::detail
