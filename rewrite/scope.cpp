// Name resolution: which relation a FROM item is, and which relation a column reference means,
// following Postgres' rules (parse_relation.c) closely enough that a doubt is always reported.

#include <algorithm>

#include "rewrite/analyzer.hpp"
#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite::detail {

namespace {

std::string cstr(const char* s) { return s != nullptr ? std::string(s) : std::string(); }

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

const Cte* Analyzer::find_cte(const Scope* scope, std::string_view name) const {
  for (const Scope* s = scope; s != nullptr; s = s->parent) {
    // Later CTEs of one WITH may shadow nothing; the innermost level wins.
    for (auto it = s->ctes.rbegin(); it != s->ctes.rend(); ++it) {
      if (it->name == name) {
        return &*it;
      }
    }
  }
  return nullptr;
}

std::optional<QualifiedName> Analyzer::resolve_table_name(const PgQuery__RangeVar* rv,
                                                          bool* unknown) {
  *unknown = false;
  const std::string table = cstr(rv->relname);
  if (rv->schemaname != nullptr && rv->schemaname[0] != '\0') {
    return QualifiedName{rv->schemaname, table};
  }
  if (path_unknown_) {
    problems.push_back(
        Problem{nullptr,
                "the search_path after RESET search_path, DISCARD ALL or a transaction end "
                "earlier in the same text is not known to the rewrite, so \"" +
                    table +
                    "\" cannot be resolved: send the statements after it in a query "
                    "of their own, or qualify the table with its schema"});
    return std::nullopt;
  }
  // The server searches pg_catalog before the path whenever the path does not name it
  // (namespace.c, recomputeNamespacePath): a user table named like a catalog relation is
  // reached unqualified only through a path that lists it before pg_catalog.
  static const std::string kPgCatalog{"pg_catalog"};
  const auto& path = current_session_->search_path;
  const bool catalog_first = std::find(path.begin(), path.end(), kPgCatalog) == path.end();
  for (std::size_t i = catalog_first ? 0 : 1; i <= path.size(); ++i) {
    const std::string& entry = i == 0 ? kPgCatalog : path[i - 1];
    std::string schema = entry == "$user" ? current_session_->user : entry;
    if (schema.empty()) {
      continue;
    }
    QualifiedName q{schema, table};
    const std::optional<bool> ex = catalog_.exists(q);
    if (!ex.has_value()) {
      missing.push_back(q);
      *unknown = true;
      return std::nullopt;
    }
    if (*ex) {
      return q;
    }
  }
  return std::nullopt;  // does not exist: the server will say so
}

std::optional<std::vector<std::string>> Analyzer::catalog_columns(const QualifiedName& name) {
  auto cols = catalog_.columns(name);
  if (!cols.has_value()) {
    const std::optional<bool> ex = catalog_.exists(name);
    if (ex.has_value() && !*ex) {
      return std::vector<std::string>{};
    }
    if (std::find(missing.begin(), missing.end(), name) == missing.end()) {
      missing.push_back(name);
    }
  }
  return cols;
}

Relation Analyzer::make_table(const PgQuery__RangeVar* rv, const Scope& scope, bool dml_target) {
  Relation rel;
  rel.range_var = rv;
  const std::string relname = cstr(rv->relname);
  rel.refname =
      (rv->alias != nullptr && rv->alias->aliasname != nullptr) ? rv->alias->aliasname : relname;
  rel.alias_colnames = rv->alias != nullptr && rv->alias->n_colnames > 0;
  const bool qualified = rv->schemaname != nullptr && rv->schemaname[0] != '\0';
  if (!qualified && !dml_target) {
    if (const Cte* cte = find_cte(&scope, relname)) {
      rel.kind = Relation::Kind::cte;
      rel.columns = cte->columns;
      rel.columns_loaded = true;
      if (rel.alias_colnames && rel.columns.has_value()) {
        for (size_t i = 0; i < rv->alias->n_colnames && i < rel.columns->size(); ++i) {
          (*rel.columns)[i] = std::string(string_value(rv->alias->colnames[i]));
        }
      }
      return rel;
    }
  }
  // Only names equal to a mapped table's name need resolving now; the rest resolve lazily
  // when their columns are needed.
  const bool maybe_mapped = std::any_of(migrations_.begin(), migrations_.end(),
                                        [&](const Migration& m) { return m.table == relname; });
  if (!maybe_mapped) {
    return rel;
  }
  bool unknown = false;
  rel.qname = resolve_table_name(rv, &unknown);
  if (rel.qname.has_value()) {
    for (const Migration& m : migrations_) {
      if (m.schema == rel.qname->schema && m.table == rel.qname->table) {
        rel.migrations.push_back(&m);
        involved.insert(&m);
      }
    }
  }
  if (rel.alias_colnames && !rel.migrations.empty()) {
    check_alias_list(rel);
  }
  return rel;
}

void Analyzer::refuse_rows_of(const std::vector<QualifiedName>& types,
                              const std::string& construct) {
  for (const Migration& m : migrations_) {
    if (std::none_of(types.begin(), types.end(), [&](const QualifiedName& t) {
          return t.schema == m.schema && t.table == m.table;
        })) {
      continue;
    }
    involved.insert(&m);
    if (shows_new_column(&m)) {
      unsupported(&m, construct);
    }
  }
}

std::optional<FunctionOutput> Analyzer::looked_up_output(const QualifiedName& function) {
  std::optional<FunctionOutput> output = catalog_.function_output(function);
  if (!output.has_value() && std::find(missing_functions.begin(), missing_functions.end(),
                                       function) == missing_functions.end()) {
    missing_functions.push_back(function);
  }
  return output;
}

const Names& Analyzer::columns_of(Relation& rel) {
  if (rel.columns_loaded) {
    return rel.columns;
  }
  rel.columns_loaded = true;
  if (rel.range_function != nullptr) {
    const QualifiedName function = *catalog_function(rel.range_function);
    if (const auto output = looked_up_output(function)) {
      rel.columns = function_columns(rel.range_function, *output);
      if (!rel.columns.has_value()) {
        refuse_rows_of(output->candidate_row_types,
                       function.table +
                           "(...) in FROM, a name shared by functions one of which returns the "
                           "mapped table's rows (cannot tell which function: call it "
                           "schema-qualified, or give it a name of its own)");
      }
      if (rel.columns.has_value() && output->row_type.has_value() && rel.alias_colnames) {
        // The list's names fall on the row type's attributes, N among them: another name for O
        // would be read as stored.
        refuse_rows_of({*output->row_type},
                       function.table +
                           "(...) in FROM with a column alias list, returning the mapped table's "
                           "rows (drop the list, or select the columns by name)");
      } else if (rel.columns.has_value() && output->row_type.has_value()) {
        // Rows of a mapped table's type: read as the table's, O served from N, no N in a `*`.
        for (const Migration& m : migrations_) {
          if (m.schema == output->row_type->schema && m.table == output->row_type->table) {
            rel.qname = output->row_type;
            rel.migrations.push_back(&m);
            involved.insert(&m);
          }
        }
      }
    }
    return rel.columns;
  }
  if (rel.kind != Relation::Kind::table || rel.range_var == nullptr) {
    return rel.columns;
  }
  if (rel.migrations.empty() && rel.range_var->relname != nullptr &&
      (contains(text_ddl_.tables, rel.range_var->relname) ||
       contains(text_ddl_.created, rel.range_var->relname))) {
    // DDL earlier in the text: a mapped table has its own check (column_list_usable).
    return rel.columns;
  }
  if (!rel.qname.has_value()) {
    bool unknown = false;
    rel.qname = resolve_table_name(rel.range_var, &unknown);
    if (!rel.qname.has_value()) {
      // Not in the catalog: a temporary table (the catalog's own connection cannot see the
      // session's), one created since the catalog looked, or none (the server says so). Its
      // columns stay unknown: a bare O beside it or below it is not taken as T's.
      return rel.columns;
    }
  }
  rel.columns = catalog_columns(*rel.qname);
  if (rel.columns.has_value()) {
    for (const Migration* m : rel.migrations) {
      // The app sees both names whatever the catalog says (O may be dropped, N not added yet).
      if (!contains(*rel.columns, m->old_column)) {
        rel.columns->push_back(m->old_column);
      }
      if (!contains(*rel.columns, m->new_column)) {
        rel.columns->push_back(m->new_column);
      }
    }
    if (rel.alias_colnames) {
      const PgQuery__Alias* a = rel.range_var->alias;
      for (size_t i = 0; i < a->n_colnames && i < rel.columns->size(); ++i) {
        (*rel.columns)[i] = std::string(string_value(a->colnames[i]));
      }
    }
  }
  return rel.columns;
}

std::vector<std::string> Analyzer::visible_columns(Relation& rel, bool* known) {
  *known = false;
  if (!rel.qname.has_value()) {
    return {};
  }
  auto cols = catalog_columns(*rel.qname);
  if (!cols.has_value()) {
    return {};
  }
  const std::optional<ColumnSlots> slots = catalog_.column_slots(*rel.qname);
  const bool placed = slots.has_value() && slots->live.size() == cols->size();
  // Each column with its attnum (its index when the catalog gives none), so that O, once
  // dropped, goes back where it stood and not where N is (the end of the table, for a column
  // added at step 1): an old app's positional INSERT and its cached `*` mean what they meant.
  std::vector<std::pair<int, std::string>> out;
  for (std::size_t i = 0; i < cols->size(); ++i) {
    out.emplace_back(placed ? slots->live[i] : static_cast<int>(i), (*cols)[i]);
  }
  auto named = [&](const std::string& name) {
    return std::find_if(out.begin(), out.end(), [&](const auto& c) { return c.second == name; });
  };
  for (const Migration* m : rel.migrations) {
    const auto n = named(m->new_column);
    if (n == out.end()) {
      continue;
    }
    if (named(m->old_column) != out.end()) {
      out.erase(n);
      continue;
    }
    // O was dropped (DESIGN §1 step 7), or renamed away: the app still sees O, where O stood.
    const int slot = placed ? old_column_slot(*m, *slots) : 0;
    if (slot == 0) {
      refuse_unknown_order(*m, placed ? &*slots : nullptr);
      return {};
    }
    out.erase(n);
    // A live column in O's slot of the same relation is O renamed (to retire it): the app never
    // saw that name.
    std::erase_if(out, [&](const auto& c) { return c.first == slot; });
    out.emplace_back(slot, m->old_column);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  *known = true;
  std::vector<std::string> names;
  names.reserve(out.size());
  for (auto& c : out) {
    names.push_back(std::move(c.second));
  }
  return names;
}

int Analyzer::old_column_slot(const Migration& m, const ColumnSlots& slots) {
  const auto has = [](const std::vector<int>& v, int x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  if (m.old_attnum > 0) {
    // Another relation under the name (a table rebuilt and swapped in) numbers its own
    // columns: O never stood in it, and its slot may hold any of them.
    return m.old_relid == slots.relid &&
                   (has(slots.live, m.old_attnum) || has(slots.dropped, m.old_attnum))
               ? m.old_attnum
               : 0;
  }
  // Not remembered (the proxy started after the drop): O existed and is gone, so a single
  // dropped attribute is O's.
  return slots.dropped.size() == 1 ? slots.dropped.front() : 0;
}

void Analyzer::refuse_unknown_order(const Migration& m, const ColumnSlots* slots) {
  involved.insert(&m);
  const std::string why =
      slots != nullptr && m.old_attnum > 0 && m.old_relid != slots->relid
          ? m.table + " was rebuilt under its name after " + m.old_column +
                " was dropped, and the new table has no place of it"
          : "it was dropped or renamed before this proxy read the catalog, and " + m.table +
                " has " + std::to_string(slots != nullptr ? slots->dropped.size() : 0) +
                " dropped columns";
  std::string reason = "migration \"" + m.name + "\": where " + m.old_column + " stood among " +
                       m.table + "'s columns is not known (" + why +
                       "), so a *, an INSERT or COPY without a column list, or a whole-row " +
                       "reference of " + m.table +
                       " cannot keep the column order the app knew: name the columns";
  if (std::none_of(problems.begin(), problems.end(),
                   [&](const Problem& p) { return p.reason == reason; })) {
    problems.push_back(Problem{&m, std::move(reason)});
  }
}

std::vector<std::string> Analyzer::copy_columns(Relation& rel, bool* known) {
  std::vector<std::string> out = visible_columns(rel, known);
  if (!*known) {
    return out;
  }
  const auto cols = catalog_.columns(*rel.qname);
  const auto details = catalog_.column_details(*rel.qname);
  if (!cols.has_value() || !details.has_value() || details->size() != cols->size()) {
    return out;  // no detail: no generated column known (a catalog without them, in tests)
  }
  for (std::size_t i = 0; i < cols->size(); ++i) {
    if ((*details)[i].generated) {
      std::erase(out, (*cols)[i]);
    }
  }
  return out;
}

void Analyzer::process_with(const PgQuery__WithClause* with, Scope& scope) {
  if (with == nullptr) {
    return;
  }
  for (size_t i = 0; i < with->n_ctes; ++i) {
    const Node* n = with->ctes[i];
    if (n->node_case != PG_QUERY__NODE__NODE_COMMON_TABLE_EXPR) {
      continue;
    }
    const PgQuery__CommonTableExpr* cte = n->common_table_expr;
    Cte entry;
    entry.name = cstr(cte->ctename);
    const size_t n_alias = cte->n_aliascolnames;
    if (with->recursive) {
      // The recursive term sees the CTE: its columns are those of an explicit list, else those
      // of the non-recursive term, the first arm of the UNION (as Postgres names them).
      entry.columns = std::nullopt;
      if (n_alias > 0) {
        std::vector<std::string> names;
        for (size_t k = 0; k < n_alias; ++k) {
          names.emplace_back(string_value(cte->aliascolnames[k]));
        }
        entry.columns = names;
      }
      scope.ctes.push_back(entry);
      const Node* q = cte->ctequery;
      if (n_alias == 0 && q != nullptr && q->node_case == PG_QUERY__NODE__NODE_SELECT_STMT &&
          q->select_stmt->op == PG_QUERY__SET_OPERATION__SETOP_UNION &&
          q->select_stmt->with_clause == nullptr) {
        // What walk_select does for a set operation, with the CTE's columns known between the
        // arms; the UNION's own scope holds nothing, so the arms see this one.
        scope.ctes.back().columns = walk_select(q->select_stmt->larg, &scope);
        walk_select(q->select_stmt->rarg, &scope);
        continue;
      }
      Names out = walk_query_node(cte->ctequery, &scope);
      if (n_alias == 0) {
        scope.ctes.back().columns = out;
      }
      continue;
    }
    Names out = walk_query_node(cte->ctequery, &scope);
    if (n_alias > 0 && out.has_value()) {
      for (size_t k = 0; k < n_alias && k < out->size(); ++k) {
        (*out)[k] = std::string(string_value(cte->aliascolnames[k]));
      }
    }
    entry.columns = out;
    scope.ctes.push_back(std::move(entry));
  }
}

namespace {

int add_leaf(Scope& scope, Relation* rel) {
  FromNode node;
  node.rel = rel;
  scope.from_nodes.push_back(std::move(node));
  return static_cast<int>(scope.from_nodes.size()) - 1;
}

}  // namespace

void Analyzer::add_from_item(const Node* item, Scope& scope, std::vector<Relation*>* added) {
  const int node = add_from_node(item, scope, added);
  if (added == nullptr) {
    scope.from_items.push_back(node);
  }
}

int Analyzer::add_from_node(const Node* item, Scope& scope, std::vector<Relation*>* added) {
  if (item == nullptr) {
    return -1;
  }
  auto push = [&](Relation rel) {
    scope.rels.push_back(std::move(rel));
    if (added != nullptr) {
      added->push_back(&scope.rels.back());
    }
    return add_leaf(scope, &scope.rels.back());
  };
  switch (item->node_case) {
    case PG_QUERY__NODE__NODE_RANGE_VAR:
      return push(make_table(item->range_var, scope));
    case PG_QUERY__NODE__NODE_RANGE_SUBSELECT: {
      const PgQuery__RangeSubselect* rs = item->range_subselect;
      Names out;
      if (rs->lateral) {
        out = walk_query_node(rs->subquery, &scope);
      } else {
        // A plain subquery sees the enclosing levels and the CTEs, not its siblings.
        Scope bridge;
        bridge.parent = scope.parent;
        bridge.ctes = scope.ctes;
        out = walk_query_node(rs->subquery, &bridge);
      }
      Relation rel;
      rel.kind = Relation::Kind::subquery;
      rel.columns_loaded = true;
      if (rs->alias != nullptr) {
        rel.refname = cstr(rs->alias->aliasname);
        if (out.has_value()) {
          for (size_t k = 0; k < rs->alias->n_colnames && k < out->size(); ++k) {
            (*out)[k] = std::string(string_value(rs->alias->colnames[k]));
          }
        }
      }
      rel.columns = out;
      return push(std::move(rel));
    }
    case PG_QUERY__NODE__NODE_JOIN_EXPR: {
      const PgQuery__JoinExpr* j = item->join_expr;
      std::vector<Relation*> inner;
      FromNode node;
      node.left = add_from_node(j->larg, scope, &inner);
      const std::size_t from_left = inner.size();
      node.right = add_from_node(j->rarg, scope, &inner);
      // ON sees the join's own inputs (and, harmlessly here, earlier items).
      walk_expr(j->quals, scope);
      const bool merged = j->is_natural || j->n_using_clause > 0;
      // The USING columns: as written, or those a natural join over a mapped table is written
      // out with once N exists or reads = new (natural_join.cpp).
      std::vector<std::string> using_columns;
      for (size_t k = 0; k < j->n_using_clause; ++k) {
        using_columns.emplace_back(string_value(j->using_clause[k]));
      }
      bool natural_written_out = false;
      if (j->is_natural &&
          std::any_of(inner.begin(), inner.end(), [&](Relation* r) { return star_active(*r); })) {
        // nullopt: refused, or the catalog is asked (the text is analysed again then).
        if (auto written = natural_to_using(j, inner, from_left)) {
          using_columns = std::move(*written);
          natural_written_out = true;
        }
      }
      for (Relation* r : inner) {
        r->merged_join = r->merged_join || merged;
        std::vector<const Migration*> in_using;
        for (const Migration* m : r->migrations) {
          if (reads_new(m) && std::find(using_columns.begin(), using_columns.end(),
                                        m->old_column) != using_columns.end()) {
            in_using.push_back(m);
          }
        }
        if (!in_using.empty() && !r->wrapped) {
          wrap_for_using(*r, j, in_using);
        }
      }
      if (j->alias == nullptr && (j->n_using_clause > 0 || natural_written_out)) {
        scope.merged.insert(scope.merged.end(), using_columns.begin(), using_columns.end());
      }
      if (j->alias == nullptr && j->join_using_alias != nullptr &&
          j->join_using_alias->aliasname != nullptr) {
        scope.using_aliases.emplace_back(j->join_using_alias->aliasname);
      }
      node.merged = std::move(using_columns);
      node.merges_unknown = j->is_natural && !natural_written_out;
      if (added != nullptr) {
        added->insert(added->end(), inner.begin(), inner.end());
      }
      if (j->alias == nullptr) {
        scope.from_nodes.push_back(std::move(node));
        return static_cast<int>(scope.from_nodes.size()) - 1;
      }
      Relation rel;
      rel.kind = Relation::Kind::join;
      rel.refname = cstr(j->alias->aliasname);
      rel.columns_loaded = true;
      for (Relation* r : inner) {
        r->hidden = true;
        for (const Migration* m : r->migrations) {
          rel.migrations.push_back(m);
        }
      }
      scope.rels.push_back(std::move(rel));
      return add_leaf(scope, &scope.rels.back());
    }
    case PG_QUERY__NODE__NODE_RANGE_FUNCTION: {
      const PgQuery__RangeFunction* rf = item->range_function;
      // Functions in FROM are implicitly LATERAL.
      for (size_t k = 0; k < rf->n_functions; ++k) {
        walk_expr(rf->functions[k], scope);
      }
      Relation rel;
      rel.kind = Relation::Kind::function;
      rel.columns_loaded = true;
      if (rf->alias != nullptr) {
        rel.refname = cstr(rf->alias->aliasname);
      } else if (rf->n_functions == 1 && rf->functions[0]->node_case == PG_QUERY__NODE__NODE_LIST &&
                 rf->functions[0]->list->n_items > 0 &&
                 rf->functions[0]->list->items[0]->node_case == PG_QUERY__NODE__NODE_FUNC_CALL) {
        const PgQuery__FuncCall* fc = rf->functions[0]->list->items[0]->func_call;
        if (fc->n_funcname > 0) {
          rel.refname = std::string(string_value(fc->funcname[fc->n_funcname - 1]));
        }
      }
      rel.columns = function_columns(rf);
      rel.alias_colnames = rf->alias != nullptr && rf->alias->n_colnames > 0;
      if (!rel.columns.has_value() && catalog_function(rf).has_value()) {
        rel.range_function = rf;
        rel.columns_loaded = false;
        if (rel.alias_colnames) {
          columns_of(rel);  // a list over a mapped table's rows is refused whatever it names
        }
      }
      // The rewrite reads only a call alone as the table whose rows it returns.
      for (const QualifiedName& function : rows_from_functions(rf)) {
        if (const auto output = looked_up_output(function)) {
          std::vector<QualifiedName> types = output->candidate_row_types;
          if (output->row_type.has_value()) {
            types.push_back(*output->row_type);
          }
          refuse_rows_of(types, "ROWS FROM (...) of several calls, one of them " + function.table +
                                    "(...) returning the mapped table's rows (call it alone in "
                                    "FROM and join the others to it)");
        }
      }
      return push(std::move(rel));
    }
    case PG_QUERY__NODE__NODE_RANGE_TABLE_SAMPLE: {
      const PgQuery__RangeTableSample* ts = item->range_table_sample;
      const int node = add_from_node(ts->relation, scope, added);
      walk_expr(ts->repeatable, scope);
      for (size_t k = 0; k < ts->n_args; ++k) {
        walk_expr(ts->args[k], scope);
      }
      return node;
    }
    default: {
      // XMLTABLE and anything newer: columns unknown, expressions walked in scope.
      for_each_child(
          node_payload(item), [&](const Node* child) { walk_expr(child, scope); },
          [&](const ProtobufCMessage*) {});
      Relation rel;
      rel.kind = Relation::Kind::function;
      rel.columns_loaded = true;
      return push(std::move(rel));
    }
  }
}

Relation* Analyzer::find_refname(const Scope& scope, std::string_view name, int* levels) const {
  int level = 0;
  for (const Scope* s = &scope; s != nullptr; s = s->parent, ++level) {
    for (const Relation& r : s->rels) {
      if (!r.hidden && !r.refname.empty() && r.refname == name) {
        *levels = level;
        return const_cast<Relation*>(&r);
      }
    }
  }
  return nullptr;
}

bool Analyzer::mapped_in_chain(const Scope& scope, const Migration* m) const {
  for (const Scope* s = &scope; s != nullptr; s = s->parent) {
    for (const Relation& r : s->rels) {
      if (std::find(r.migrations.begin(), r.migrations.end(), m) != r.migrations.end()) {
        return true;
      }
    }
  }
  return false;
}

bool Analyzer::bare_name_captured(const Scope& scope, const Relation& rel,
                                  std::string_view column) {
  for (const Scope* s = &scope; s != nullptr; s = s->parent) {
    if (contains(s->merged, column)) {
      return true;
    }
    bool rel_here = false;
    for (const Relation& r : s->rels) {
      if (&r == &rel) {
        rel_here = true;
        continue;
      }
      if (r.kind == Relation::Kind::join) {
        continue;  // its columns are those of its (hidden) inputs
      }
      const Names& cols = columns_of(const_cast<Relation&>(r));
      if (!cols.has_value() || contains(*cols, column)) {
        return true;
      }
    }
    if (rel_here) {
      return false;
    }
  }
  return false;
}

bool Analyzer::refname_reaches(const Scope& scope, const Relation& rel) const {
  if (rel.hidden || rel.refname.empty()) {
    return false;
  }
  for (const Scope* s = &scope; s != nullptr; s = s->parent) {
    if (contains(s->using_aliases, rel.refname)) {
      return false;
    }
    bool rel_here = false;
    for (const Relation& r : s->rels) {
      rel_here = rel_here || &r == &rel;
      if (&r != &rel && !r.hidden && r.refname == rel.refname) {
        return false;
      }
    }
    if (rel_here) {
      return true;
    }
  }
  return false;
}

Analyzer::Found Analyzer::resolve_column(const std::vector<std::string_view>& fields,
                                         const Scope& scope, Relation** rel) {
  *rel = nullptr;
  const std::string_view col = fields.back();
  if (fields.size() == 1) {
    for (const Scope* s = &scope; s != nullptr; s = s->parent) {
      if (contains(s->merged, col)) {
        return Found::merged;
      }
      Relation* hit = nullptr;
      int hits = 0;
      bool uncertain = false;
      for (const Relation& r : s->rels) {
        auto& rr = const_cast<Relation&>(r);
        if (rr.kind == Relation::Kind::join) {
          continue;  // its columns are those of its (hidden) inputs
        }
        const Names& cols = columns_of(rr);
        if (!cols.has_value()) {
          uncertain = true;
        } else if (contains(*cols, col)) {
          hit = &rr;
          ++hits;
        }
      }
      if (uncertain) {
        *rel = hit;
        return Found::uncertain;
      }
      if (hits > 1) {
        return Found::ambiguous;
      }
      if (hits == 1) {
        *rel = hit;
        return Found::yes;
      }
    }
    return Found::no;
  }
  bool uncertain = false;
  Relation* r = find_qualified(scope, {fields.begin(), fields.end() - 1}, &uncertain);
  if (uncertain) {
    return Found::uncertain;
  }
  if (r == nullptr) {
    return Found::no;
  }
  if (r->range_function != nullptr) {
    columns_of(*r);  // ties a function returning a mapped table's rows to its migration
  }
  *rel = r;
  return Found::yes;
}

Relation* Analyzer::find_qualified(const Scope& scope, const std::vector<std::string_view>& names,
                                   bool* uncertain) {
  *uncertain = false;
  if (names.size() == 1) {
    int levels = 0;
    Relation* r = find_refname(scope, names[0], &levels);
    const Scope* level = &scope;
    for (; levels > 0; --levels) {
      level = level->parent;
    }
    // Two un-aliased tables of different schemas share the refname: the server's 42P09.
    const bool ambiguous =
        r != nullptr && std::any_of(level->rels.begin(), level->rels.end(), [&](const Relation& o) {
          return &o != r && !o.hidden && o.refname == r->refname;
        });
    return ambiguous ? nullptr : r;
  }
  // schema.table (or db.schema.table): an un-aliased table of that schema, as Postgres'
  // refnameNamespaceItem matches it; another schema's table of that name is another relation.
  const std::string_view schema = names[names.size() - 2];
  const std::string_view table = names.back();
  for (const Scope* s = &scope; s != nullptr; s = s->parent) {
    for (const Relation& cand : s->rels) {
      auto& c = const_cast<Relation&>(cand);
      if (c.kind != Relation::Kind::table || c.hidden || c.range_var == nullptr ||
          c.range_var->alias != nullptr || c.refname != table) {
        continue;
      }
      columns_of(c);
      if (c.qname.has_value() && c.qname->schema == schema) {
        return &c;
      }
      if (!c.qname.has_value()) {
        *uncertain = true;
        return nullptr;
      }
    }
  }
  return nullptr;
}

void Analyzer::mark_shared_refnames(const Scope& scope) {
  for (const Scope* s = &scope; s != nullptr; s = s->parent) {
    for (const Relation& r : s->rels) {
      const bool shared = std::any_of(s->rels.begin(), s->rels.end(), [&](const Relation& o) {
        return &o != &r && !o.hidden && o.refname == r.refname;
      });
      const_cast<Relation&>(r).refname_shared = shared && !r.refname.empty();
    }
  }
}

std::string Analyzer::qualifier(Relation& rel) {
  if (!rel.refname_shared || rel.kind != Relation::Kind::table || rel.range_var == nullptr) {
    return quote_ident(rel.refname);
  }
  columns_of(rel);  // resolves the schema of a table without a migration
  if (rel.qname.has_value()) {
    return quote_ident(rel.qname->schema) + "." + quote_ident(rel.refname);
  }
  if (rel.range_var->schemaname != nullptr && rel.range_var->schemaname[0] != '\0') {
    return quote_ident(rel.range_var->schemaname) + "." + quote_ident(rel.refname);
  }
  return quote_ident(rel.refname);  // the server reports the ambiguity
}

}  // namespace switchyard::rewrite::detail
