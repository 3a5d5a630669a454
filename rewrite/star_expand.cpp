// `SELECT *` / `t.*` over a mapped table: the client sees the columns it saw before the migration
// began (DESIGN §3), so the star is expanded from the catalog without N, with to_old(N) in O's
// place when reads = new.

#include <algorithm>

#include "rewrite/analyzer.hpp"
#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite::detail {

namespace {

constexpr const char* kAliasNamesAlike =
    "* over a table alias whose column names name two of its columns alike";

}  // namespace

bool Analyzer::statement_mentions_table_read_new() const {
  const std::string lower = lower_ascii(std::string_view(sql_).substr(
      static_cast<std::size_t>(stmt_begin_), static_cast<std::size_t>(stmt_end_ - stmt_begin_)));
  return std::any_of(migrations_.begin(), migrations_.end(), [&](const Migration& m) {
    return reads_new(&m) && lower.find(name_as_written(m.table)) != std::string::npos;
  });
}

bool Analyzer::star_active(Relation& rel) {
  if (rel.range_function != nullptr) {
    columns_of(rel);  // the catalog tells whether it returns a mapped table's rows
  }
  if (rel.migrations.empty() || !rel.qname.has_value()) {
    return false;
  }
  for (const Migration* m : rel.migrations) {
    if (reads_new(m)) {
      return true;
    }
  }
  const auto cols = catalog_columns(*rel.qname);
  if (!cols.has_value()) {
    return false;  // recorded as missing: the retry decides
  }
  return std::any_of(rel.migrations.begin(), rel.migrations.end(), [&](const Migration* m) {
    return std::find(cols->begin(), cols->end(), m->new_column) != cols->end();
  });
}

const char* Analyzer::star_refusal(const Relation& r) {
  if (r.range_function == nullptr) {
    return nullptr;  // a table's alias column list: aliased_visible_columns
  }
  if (r.alias_colnames) {
    return "* over a function that returns the mapped table's rows, with column names in its "
           "alias (list the columns)";
  }
  if (r.range_function->ordinality) {
    return "* over a function WITH ORDINALITY that returns the mapped table's rows (list the "
           "columns)";
  }
  return nullptr;
}

std::string Analyzer::star_column_text(Relation& r, const std::string& col) {
  const std::string qual = qualifier(r) + ".";
  const std::string named = aliased_column(r, col);
  auto m = std::find_if(r.migrations.begin(), r.migrations.end(), [&](const Migration* mm) {
    return mm->old_column == named && reads_new(mm);
  });
  if (m == r.migrations.end()) {
    return qual + quote_ident(col);
  }
  use(*m).reads_of_old++;
  return (*m)->as_old_type(apply_template((*m)->to_old, qual + quote_ident((*m)->new_column))) +
         " AS " + quote_ident(col);
}

void Analyzer::append_star_columns(Relation& r, const std::vector<std::string>& cols,
                                   std::string& text) {
  for (const std::string& col : cols) {
    text += (text.empty() ? "" : ", ") + star_column_text(r, col);
  }
  for (const Migration* m : r.migrations) {
    use(m).rewritten = true;
  }
}

// Postgres lists a USING join's merged columns first, in USING order, then the left input's
// other columns, then the right's; a join without USING lists the left's, then the right's;
// the FROM items follow one another.
Analyzer::StarColumns Analyzer::star_columns(const Scope& scope, int index, bool rewrite,
                                             std::string& why) {
  if (index < 0 || static_cast<size_t>(index) >= scope.from_nodes.size()) {
    why = "* over a FROM item the rewrite does not know";
    return std::nullopt;
  }
  const FromNode& node = scope.from_nodes[static_cast<size_t>(index)];
  std::vector<StarColumn> out;
  if (node.rel != nullptr) {
    Relation& r = *node.rel;
    if (r.refname.empty()) {
      why = "* over a FROM item without a name";
      return std::nullopt;
    }
    if (star_active(r)) {
      if (const char* refusal = star_refusal(r)) {
        why = refusal;
        return std::nullopt;
      }
      if (!column_list_usable(r)) {
        return std::nullopt;
      }
      bool known = false;
      bool alike = false;
      const std::vector<std::string> cols = aliased_visible_columns(r, &known, &alike);
      if (!known) {
        if (alike) {
          why = kAliasNamesAlike;
        }
        return std::nullopt;  // asked of the catalog, or refused
      }
      for (const std::string& col : cols) {
        out.push_back({col, rewrite ? star_column_text(r, col) : std::string()});
      }
      for (const Migration* m : r.migrations) {
        use(m).rewritten = use(m).rewritten || rewrite;
      }
    } else if (const Names& cols = columns_of(r); cols.has_value()) {
      for (const std::string& col : *cols) {
        out.push_back({col, qualifier(r) + "." + quote_ident(col), false, &r});
      }
    } else {
      out.push_back({"", qualifier(r) + ".*"});
    }
    return out;
  }
  if (node.merges_unknown) {
    why = "* over a NATURAL join of inputs without a migration beside a mapped table";
    return std::nullopt;
  }
  StarColumns left = star_columns(scope, node.left, rewrite, why);
  if (!left.has_value()) {
    return std::nullopt;
  }
  StarColumns right = star_columns(scope, node.right, rewrite, why);
  if (!right.has_value()) {
    return std::nullopt;
  }
  const auto unknown = [](const StarColumn& c) { return c.name.empty(); };
  if (!node.merged.empty() && (std::any_of(left->begin(), left->end(), unknown) ||
                               std::any_of(right->begin(), right->end(), unknown))) {
    why = "* over a USING join with a FROM item whose columns are unknown";
    return std::nullopt;
  }
  for (const std::string& merged : node.merged) {
    out.push_back({merged, quote_ident(merged), true});
  }
  for (const auto* side : {&*left, &*right}) {
    for (const StarColumn& c : *side) {
      if (std::find(node.merged.begin(), node.merged.end(), c.name) == node.merged.end()) {
        out.push_back(c);
      }
    }
  }
  return out;
}

Names Analyzer::using_star(const PgQuery__ColumnRef* cr, const std::vector<Relation*>& covered,
                           const Scope& scope, bool rewrite) {
  const auto refuse = [&](const std::string& why) {
    for (Relation* r : covered) {
      for (const Migration* m : r->migrations) {
        unsupported(m, why);
      }
    }
    return std::nullopt;
  };
  // The relations the FROM items hold must be the ones the * covers: RETURNING * also lists
  // an UPDATE's or DELETE's target, which is not one of them.
  std::vector<Relation*> held;
  std::vector<int> pending(scope.from_items.rbegin(), scope.from_items.rend());
  while (!pending.empty()) {
    const int index = pending.back();
    pending.pop_back();
    if (index < 0 || static_cast<size_t>(index) >= scope.from_nodes.size()) {
      continue;
    }
    const FromNode& node = scope.from_nodes[static_cast<size_t>(index)];
    if (node.rel != nullptr) {
      held.push_back(node.rel);
    } else {
      pending.push_back(node.right);
      pending.push_back(node.left);
    }
  }
  if (held != covered) {
    return rewrite ? refuse("* over a NATURAL/USING join and the target of an UPDATE or DELETE")
                   : std::nullopt;
  }
  std::vector<StarColumn> columns;
  for (int item : scope.from_items) {
    std::string why;
    StarColumns part = star_columns(scope, item, rewrite, why);
    if (!part.has_value()) {
      return rewrite && !why.empty() ? refuse(why) : std::nullopt;
    }
    columns.insert(columns.end(), part->begin(), part->end());
  }
  Names names = std::vector<std::string>{};
  for (const StarColumn& c : columns) {
    if (c.name.empty()) {
      names.reset();
      break;
    }
    names->push_back(c.name);
  }
  if (!rewrite) {
    return names;
  }
  // A merged column is written by its bare name, which must name one column of the result.
  for (const StarColumn& c : columns) {
    if (c.merged && (!names.has_value() || std::count(names->begin(), names->end(), c.name) != 1)) {
      return refuse("* over a USING join whose merged column \"" + c.name +
                    "\" another FROM item also has");
    }
  }
  std::string text;
  for (size_t i = 0; i < columns.size();) {
    const StarColumn& c = columns[i];
    size_t run = 1;
    while (c.plain != nullptr && i + run < columns.size() && columns[i + run].plain == c.plain) {
      ++run;
    }
    const bool whole = c.plain != nullptr && run == columns_of(*c.plain)->size();
    text += (text.empty() ? "" : ", ") + (whole ? qualifier(*c.plain) + ".*" : c.text);
    i += whole ? run : 1;
  }
  const int first = tokens_.index_at(cr->location);
  if (first < 0 || !tokens_.is_char(first, '*') ||
      !edits_.replace(tokens_.at(first).start, tokens_.at(first).end, text)) {
    unsupported(nullptr, "cannot locate a * in the text");
    return std::nullopt;
  }
  return names;
}

Names Analyzer::expand_star(const PgQuery__ResTarget* rt, const PgQuery__ColumnRef* cr,
                            const Scope& scope) {
  (void)rt;
  mark_shared_refnames(scope);
  std::vector<Relation*> covered;
  if (cr->n_fields == 1) {
    for (const Relation& r : scope.rels) {
      if (!r.hidden) {
        covered.push_back(const_cast<Relation*>(&r));
      }
    }
  } else {
    std::vector<std::string_view> names;
    for (size_t i = 0; i + 1 < cr->n_fields; ++i) {
      names.push_back(string_value(cr->fields[i]));
    }
    bool uncertain = false;
    Relation* r = find_qualified(scope, names, &uncertain);
    if (r == nullptr) {
      return std::nullopt;  // the server reports the missing FROM entry (or the retry decides)
    }
    covered.push_back(r);
  }
  bool need = false;
  bool merged = false;
  for (Relation* r : covered) {
    if (r->kind == Relation::Kind::join && !r->migrations.empty()) {
      for (const Migration* m : r->migrations) {
        unsupported(m, "* over a join alias that includes the mapped table");
      }
      return std::nullopt;
    }
    need = need || star_active(*r);
    merged = merged || r->merged_join;
  }
  if (merged && cr->n_fields == 1) {
    // A merged column is listed once, first: not the inputs' columns one after the other.
    return using_star(cr, covered, scope, /*rewrite=*/need);
  }
  // A mapped table named later in the statement (`FROM (SELECT * FROM tags) s, users`) is not
  // involved yet, and a bare O beside this item would not resolve without its names.
  const bool want_names = star_names_wanted_ ||
                          std::any_of(involved.begin(), involved.end(),
                                      [&](const Migration* m) { return reads_new(m); }) ||
                          statement_mentions_table_read_new();
  if (!need) {
    if (!want_names) {
      return std::nullopt;
    }
    std::vector<std::string> names;
    for (Relation* r : covered) {
      const Names& cols = columns_of(*r);
      if (!cols.has_value()) {
        return std::nullopt;
      }
      names.insert(names.end(), cols->begin(), cols->end());
    }
    return names;
  }
  std::vector<std::string> names;
  bool names_known = true;
  std::string text;
  for (Relation* r : covered) {
    if (r->refname.empty()) {
      unsupported(nullptr, "* over a FROM item without a name");
      return std::nullopt;
    }
    const std::string qual = qualifier(*r) + ".";
    if (!star_active(*r)) {
      text += (text.empty() ? "" : ", ") + qual + "*";
      const Names& cols = columns_of(*r);
      if (cols.has_value()) {
        names.insert(names.end(), cols->begin(), cols->end());
      } else {
        names_known = false;
      }
      continue;
    }
    if (const char* refusal = star_refusal(*r)) {
      for (const Migration* m : r->migrations) {
        unsupported(m, refusal);
      }
      return std::nullopt;
    }
    if (!column_list_usable(*r)) {
      return std::nullopt;
    }
    bool known = false;
    bool alike = false;
    const std::vector<std::string> cols = aliased_visible_columns(*r, &known, &alike);
    if (!known) {
      for (const Migration* m : r->migrations) {
        if (alike) {
          unsupported(m, kAliasNamesAlike);
        }
      }
      return std::nullopt;
    }
    append_star_columns(*r, cols, text);
    names.insert(names.end(), cols.begin(), cols.end());
  }
  if (!replace_star(cr, covered, text)) {
    unsupported(nullptr, "cannot locate a * in the text");
    return std::nullopt;
  }
  if (!names_known) {
    return std::nullopt;
  }
  return names;
}

bool Analyzer::shows_new_column(const Migration* m) {
  if (reads_new(m)) {
    return true;
  }
  const auto cols = catalog_columns({m->schema, m->table});
  return cols.has_value() && std::find(cols->begin(), cols->end(), m->new_column) != cols->end();
}

void Analyzer::function_field(const PgQuery__FuncCall* fc, std::string_view field) {
  if (std::none_of(migrations_.begin(), migrations_.end(),
                   [&](const Migration& m) { return m.old_column == field && reads_new(&m); })) {
    return;  // no catalog look-up for the fields nothing serves from N
  }
  const QualifiedName name = called_name(fc);
  const std::optional<FunctionOutput> output = looked_up_output(name);
  if (!output.has_value()) {
    return;
  }
  std::vector<QualifiedName> types = output->candidate_row_types;
  if (output->row_type.has_value()) {
    types.push_back(*output->row_type);
  }
  for (const Migration& m : migrations_) {
    const bool mapped = std::any_of(types.begin(), types.end(), [&](const QualifiedName& t) {
      return t.schema == m.schema && t.table == m.table;
    });
    if (mapped && m.old_column == field && reads_new(&m)) {
      unsupported(&m, "(" + name.table + "(...))." + m.old_column +
                          ", a field of the mapped table's row type read as stored (call it in "
                          "FROM: SELECT " +
                          m.old_column + " FROM " + name.table + "(...))");
    }
  }
}

void Analyzer::composite_star(const PgQuery__AIndirection* ind, const Scope& scope) {
  if (ind->n_indirection == 1 && ind->indirection[0]->node_case == PG_QUERY__NODE__NODE_STRING &&
      ind->arg != nullptr && ind->arg->node_case == PG_QUERY__NODE__NODE_FUNC_CALL &&
      ind->arg->func_call->n_funcname > 0) {
    function_field(ind->arg->func_call, string_value(ind->indirection[0]));
    return;
  }
  if (ind->n_indirection == 0 ||
      ind->indirection[ind->n_indirection - 1]->node_case != PG_QUERY__NODE__NODE_A_STAR ||
      ind->arg == nullptr) {
    return;
  }
  // `(x).*` of the whole row of a table without a migration, a derived table or a CTE lists
  // their columns, which hold no N the rewrite has not already dealt with.
  if (ind->arg->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && ind->n_indirection == 1 &&
      ind->arg->column_ref->n_fields == 1 &&
      ind->arg->column_ref->fields[0]->node_case == PG_QUERY__NODE__NODE_STRING) {
    const std::string_view name = string_value(ind->arg->column_ref->fields[0]);
    int levels = 0;
    Relation* r = find_refname(scope, name, &levels);
    Relation* col_rel = nullptr;
    if (r != nullptr && r->migrations.empty() && r->kind != Relation::Kind::function &&
        r->kind != Relation::Kind::join && resolve_column({name}, scope, &col_rel) == Found::no) {
      return;
    }
  }
  // `(f(...)).*` lists the fields of f's result type: a mapped table's has N, and O as stored.
  if (ind->arg->node_case == PG_QUERY__NODE__NODE_FUNC_CALL && ind->n_indirection == 1) {
    const PgQuery__FuncCall* fc = ind->arg->func_call;
    if (fc->n_funcname == 0) {
      return;
    }
    const QualifiedName name = called_name(fc);
    const std::optional<FunctionOutput> output = looked_up_output(name);
    if (!output.has_value()) {
      return;
    }
    if (output->kind != FunctionOutput::Kind::unknown && !output->row_type.has_value()) {
      return;  // OUT parameters, a scalar, or another type's fields
    }
    for (const Migration& m : migrations_) {
      const bool mapped = output->row_type.has_value() && m.schema == output->row_type->schema &&
                          m.table == output->row_type->table;
      if (mapped && shows_new_column(&m)) {
        unsupported(&m, "(" + name.table +
                            "(...)).* over the mapped table's row type (it lists \"" +
                            m.new_column + "\", and \"" + m.old_column +
                            "\" as stored; call it in FROM, SELECT * FROM " + name.table +
                            "(...), or list the fields)");
      }
    }
    if (output->kind != FunctionOutput::Kind::unknown) {
      return;
    }
  }
  // Any other value's type (a whole row, a column of a derived table, a cast, a function
  // whose result type only its arguments tell) may be a mapped table's row type.
  for (const Migration* m : involved) {
    if (shows_new_column(m)) {
      unsupported(m, "(...).* over a value that may be a row of the mapped table (it lists \"" +
                         m->new_column + "\", and \"" + m->old_column +
                         "\" as stored; list the fields, or use t.* over the table)");
    }
  }
}

bool Analyzer::replace_star(const PgQuery__ColumnRef* cr, const std::vector<Relation*>& covered,
                            const std::string& columns) {
  if (cr->location >= 0) {
    int first = tokens_.index_at(cr->location);
    int last = first < 0 ? -1 : tokens_.dotted_name_end(first);
    if (first < 0 || !tokens_.is_char(last, '*')) {
      return false;
    }
    // `SELECT (u.*)` expands like `u.*`: the parentheses go with it, or the list inside them
    // would read as a row constructor (where `AS` cannot stand).
    while (tokens_.is_char(first - 1, '(') && tokens_.is_char(last + 1, ')')) {
      --first;
      ++last;
    }
    return edits_.replace(tokens_.at(first).start, tokens_.at(last).end, columns);
  }
  // `TABLE t` is `SELECT * FROM t` whose star the parser placed nowhere: the keyword becomes
  // `SELECT <columns> FROM`, and ONLY, the name and any ORDER BY or LIMIT stay as written.
  if (covered.size() != 1 || covered[0]->range_var == nullptr) {
    return false;
  }
  int keyword = tokens_.index_at(covered[0]->range_var->location) - 1;
  if (tokens_.is_keyword(keyword, "only")) {
    --keyword;
  }
  return tokens_.is_keyword(keyword, "table") &&
         edits_.replace(tokens_.at(keyword).start, tokens_.at(keyword).end,
                        "SELECT " + columns + " FROM");
}

}  // namespace switchyard::rewrite::detail
