#include "rewrite/savepoint_steps.hpp"

#include <optional>
#include <utility>

#include "rewrite/pg_query_handles.hpp"
#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite {

namespace {

std::optional<SavepointStep::Kind> savepoint_kind(const PgQuery__TransactionStmt& stmt) {
  switch (stmt.kind) {
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_SAVEPOINT:
      return SavepointStep::Kind::define;
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_RELEASE:
      return SavepointStep::Kind::release;
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK_TO:
      return SavepointStep::Kind::rollback_to;
    default:
      return std::nullopt;
  }
}

}  // namespace

std::vector<SavepointStep> savepoint_steps(std::string_view sql) {
  std::vector<SavepointStep> steps;
  if (!detail::icontains(sql, "savepoint") && !detail::icontains(sql, "release") &&
      !detail::icontains(sql, "rollback")) {
    return steps;
  }
  detail::ParsedSql parsed{std::string(sql)};
  if (parsed.tree() == nullptr) {
    return steps;  // the server rejects it too, changing nothing
  }
  bool any_savepoint = false;
  std::optional<SearchPathChange> pending;  // the net change since the last step
  for (std::size_t i = 0; i < parsed.tree()->n_stmts; ++i) {
    const detail::Node* stmt = parsed.tree()->stmts[i]->stmt;
    if (stmt == nullptr) {
      continue;
    }
    if (stmt->node_case == PG_QUERY__NODE__NODE_VARIABLE_SET_STMT) {
      if (auto change = detail::search_path_change_of(*stmt->variable_set_stmt)) {
        pending = std::move(change);
      }
    } else if (stmt->node_case == PG_QUERY__NODE__NODE_DISCARD_STMT &&
               stmt->discard_stmt->target == PG_QUERY__DISCARD_MODE__DISCARD_ALL) {
      pending = SearchPathChange{SearchPathChange::Kind::reset, false, {}};
    } else if (stmt->node_case == PG_QUERY__NODE__NODE_TRANSACTION_STMT) {
      const auto kind = savepoint_kind(*stmt->transaction_stmt);
      if (!kind) {
        continue;
      }
      if (pending) {
        steps.push_back({SavepointStep::Kind::path, {}, std::move(*pending)});
        pending.reset();
      }
      const char* name = stmt->transaction_stmt->savepoint_name;
      steps.push_back({*kind, name != nullptr ? name : "", {}});
      any_savepoint = true;
    }
  }
  if (!any_savepoint) {
    return {};
  }
  if (pending) {
    steps.push_back({SavepointStep::Kind::path, {}, std::move(*pending)});
  }
  return steps;
}

}  // namespace switchyard::rewrite
