#include "rewrite/sql_prepared.hpp"

#include "rewrite/pg_query_handles.hpp"
#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite {
namespace {

// The EXECUTE a statement runs, directly or under EXPLAIN / CREATE TABLE AS; null otherwise.
const PgQuery__ExecuteStmt* executed_by(const detail::Node* stmt) {
  switch (stmt->node_case) {
    case PG_QUERY__NODE__NODE_EXECUTE_STMT:
      return stmt->execute_stmt;
    case PG_QUERY__NODE__NODE_EXPLAIN_STMT:
      return stmt->explain_stmt->query != nullptr ? executed_by(stmt->explain_stmt->query)
                                                  : nullptr;
    case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT:
      return stmt->create_table_as_stmt->query != nullptr
                 ? executed_by(stmt->create_table_as_stmt->query)
                 : nullptr;
    default:
      return nullptr;
  }
}

bool may_prepare_or_execute(std::string_view sql) {
  if (const std::optional<std::string_view> verb = detail::sole_statement_verb(sql)) {
    if (detail::iequals(*verb, "prepare") || detail::iequals(*verb, "execute")) {
      return true;
    }
    if (!detail::iequals(*verb, "explain") && !detail::iequals(*verb, "create")) {
      return false;
    }
  }
  return detail::icontains(sql, "prepare") || detail::icontains(sql, "execute");
}

}  // namespace

std::optional<SqlPrepared> sql_prepared(std::string_view sql) {
  if (!may_prepare_or_execute(sql)) {
    return std::nullopt;
  }
  detail::ParsedSql parsed{std::string(sql)};
  if (parsed.tree() == nullptr) {
    return std::nullopt;
  }
  SqlPrepared found;
  for (std::size_t i = 0; i < parsed.tree()->n_stmts; ++i) {
    const detail::Node* stmt = parsed.tree()->stmts[i]->stmt;
    if (stmt == nullptr) {
      continue;
    }
    if (stmt->node_case == PG_QUERY__NODE__NODE_PREPARE_STMT && stmt->prepare_stmt->name) {
      found.prepared.emplace_back(stmt->prepare_stmt->name);
    } else if (const PgQuery__ExecuteStmt* run = executed_by(stmt); run && run->name) {
      found.executed.emplace_back(run->name);
    }
  }
  if (found.prepared.empty() && found.executed.empty()) {
    return std::nullopt;
  }
  return found;
}

}  // namespace switchyard::rewrite
