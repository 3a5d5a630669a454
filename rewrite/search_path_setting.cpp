#include "rewrite/search_path_setting.hpp"

#include <utility>

#include "rewrite/pg_query_handles.hpp"
#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite {

std::optional<SearchPathChange> detail::search_path_change_of(const PgQuery__VariableSetStmt& set) {
  if (set.kind == PG_QUERY__VARIABLE_SET_KIND__VAR_RESET_ALL) {
    return SearchPathChange{SearchPathChange::Kind::reset, false, {}};
  }
  if (set.name == nullptr || std::string_view(set.name) != "search_path") {
    return std::nullopt;
  }
  switch (set.kind) {
    case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_DEFAULT:
    case PG_QUERY__VARIABLE_SET_KIND__VAR_RESET:
      return SearchPathChange{SearchPathChange::Kind::reset, static_cast<bool>(set.is_local), {}};
    case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_VALUE: {
      SearchPathChange change{SearchPathChange::Kind::set, static_cast<bool>(set.is_local), {}};
      for (std::size_t i = 0; i < set.n_args; ++i) {
        const detail::Node* arg = set.args[i];
        // Each argument is one schema, even a quoted string holding a comma (GUC_LIST_QUOTE).
        if (arg == nullptr || arg->node_case != PG_QUERY__NODE__NODE_A_CONST ||
            arg->a_const->val_case != PG_QUERY__A__CONST__VAL_SVAL ||
            arg->a_const->sval == nullptr) {
          return std::nullopt;
        }
        change.schemas.emplace_back(arg->a_const->sval->sval);
      }
      return change;
    }
    default:
      return std::nullopt;  // FROM CURRENT: the value is what it already is
  }
}

std::optional<SearchPathChange> detail::statement_search_path_change(const PgQuery__Node& stmt) {
  if (stmt.node_case == PG_QUERY__NODE__NODE_VARIABLE_SET_STMT) {
    return search_path_change_of(*stmt.variable_set_stmt);
  }
  if (stmt.node_case == PG_QUERY__NODE__NODE_DISCARD_STMT &&
      stmt.discard_stmt->target == PG_QUERY__DISCARD_MODE__DISCARD_ALL) {
    return SearchPathChange{SearchPathChange::Kind::reset, false, {}};
  }
  return std::nullopt;
}

namespace {

// Whether `sql` may hold a SET, RESET or DISCARD: every statement of a session with a migration
// asks, so a text of one statement is judged by its first word alone, and only one that may
// hold several is searched for the words a change needs.
bool may_change(std::string_view sql) {
  if (const std::optional<std::string_view> verb = detail::sole_statement_verb(sql)) {
    return detail::iequals(*verb, "set") || detail::iequals(*verb, "reset") ||
           detail::iequals(*verb, "discard");
  }
  using detail::icontains;
  return icontains(sql, "_path") || icontains(sql, "reset") || icontains(sql, "discard");
}

}  // namespace

std::vector<SearchPathChange> search_path_changes(std::string_view sql) {
  std::vector<SearchPathChange> changes;
  if (!may_change(sql)) {
    return changes;
  }
  detail::ParsedSql parsed{std::string(sql)};
  if (parsed.tree() == nullptr) {
    return changes;  // the server rejects it too, changing nothing
  }
  for (std::size_t i = 0; i < parsed.tree()->n_stmts; ++i) {
    const detail::Node* stmt = parsed.tree()->stmts[i]->stmt;
    if (stmt == nullptr) {
      continue;
    }
    if (auto change = detail::statement_search_path_change(*stmt)) {
      changes.push_back(std::move(*change));
    }
  }
  return changes;
}

std::optional<SearchPathChange> search_path_change(std::string_view sql) {
  std::vector<SearchPathChange> changes = search_path_changes(sql);
  if (changes.empty()) {
    return std::nullopt;
  }
  return std::move(changes.back());
}

std::vector<RoleChange> role_changes(std::string_view sql) {
  std::vector<RoleChange> changes;
  if (!detail::icontains(sql, "role") && !detail::icontains(sql, "authorization") &&
      !detail::icontains(sql, "discard")) {
    return changes;
  }
  detail::ParsedSql parsed{std::string(sql)};
  if (parsed.tree() == nullptr) {
    return changes;  // the server rejects it too, changing nothing
  }
  for (std::size_t i = 0; i < parsed.tree()->n_stmts; ++i) {
    const detail::Node* stmt = parsed.tree()->stmts[i]->stmt;
    if (stmt == nullptr) {
      continue;
    }
    if (stmt->node_case == PG_QUERY__NODE__NODE_DISCARD_STMT &&
        stmt->discard_stmt->target == PG_QUERY__DISCARD_MODE__DISCARD_ALL) {
      changes.push_back(RoleChange{true, false, {}, i});  // SET SESSION AUTHORIZATION DEFAULT
      continue;
    }
    if (stmt->node_case != PG_QUERY__NODE__NODE_VARIABLE_SET_STMT) {
      continue;
    }
    const PgQuery__VariableSetStmt& set = *stmt->variable_set_stmt;
    if (set.name == nullptr) {
      continue;
    }
    const std::string_view name(set.name);
    if (name != "role" && name != "session_authorization") {
      continue;
    }
    RoleChange change{name == "session_authorization", static_cast<bool>(set.is_local), {}, i};
    if (set.kind == PG_QUERY__VARIABLE_SET_KIND__VAR_SET_VALUE) {
      const detail::Node* arg = set.n_args == 1 ? set.args[0] : nullptr;
      if (arg == nullptr || arg->node_case != PG_QUERY__NODE__NODE_A_CONST ||
          arg->a_const->val_case != PG_QUERY__A__CONST__VAL_SVAL || arg->a_const->sval == nullptr) {
        continue;  // the server refuses it
      }
      change.role = arg->a_const->sval->sval;
      if (!change.session && change.role == "none") {
        change.role.clear();
      }
    } else if (set.kind != PG_QUERY__VARIABLE_SET_KIND__VAR_SET_DEFAULT &&
               set.kind != PG_QUERY__VARIABLE_SET_KIND__VAR_RESET) {
      continue;  // FROM CURRENT: the value is what it already is
    }
    changes.push_back(std::move(change));
  }
  return changes;
}

}  // namespace switchyard::rewrite
