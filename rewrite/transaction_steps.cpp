#include "rewrite/transaction_steps.hpp"

#include <optional>
#include <utility>

#include "rewrite/pg_query_handles.hpp"
#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite {

namespace {

std::optional<TransactionStep::Kind> step_kind(const PgQuery__TransactionStmt& stmt) {
  switch (stmt.kind) {
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_COMMIT:
      return stmt.chain ? TransactionStep::Kind::commit_chain : TransactionStep::Kind::commit;
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK:
      return stmt.chain ? TransactionStep::Kind::rollback_chain : TransactionStep::Kind::rollback;
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_SAVEPOINT:
      return TransactionStep::Kind::define;
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_RELEASE:
      return TransactionStep::Kind::release;
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK_TO:
      return TransactionStep::Kind::rollback_to;
    default:
      return std::nullopt;
  }
}

}  // namespace

std::vector<TransactionStep> transaction_steps(std::string_view sql) {
  std::vector<TransactionStep> steps;
  if (!detail::icontains(sql, "savepoint") && !detail::icontains(sql, "release") &&
      !detail::icontains(sql, "rollback") && !detail::icontains(sql, "chain") &&
      !detail::icontains(sql, "commit") && !detail::icontains(sql, "end") &&
      !detail::icontains(sql, "abort")) {
    return steps;
  }
  detail::ParsedSql parsed{std::string(sql)};
  if (parsed.tree() == nullptr) {
    return steps;  // the server rejects it too, changing nothing
  }
  // A COMMIT or ROLLBACK as the text's last statement is its ReadyForQuery's news; one with
  // statements after it is a step.
  bool any_step = false;
  const std::size_t statements = parsed.tree()->n_stmts;  // ";;" holds none
  for (std::size_t i = 0; i < parsed.tree()->n_stmts; ++i) {
    const detail::Node* stmt = parsed.tree()->stmts[i]->stmt;
    if (stmt == nullptr) {
      continue;
    }
    // Each change a step of its own: a SET before a SET LOCAL holds once the transaction ends,
    // which the net change of the two would lose.
    if (auto change = detail::statement_search_path_change(*stmt)) {
      steps.push_back({TransactionStep::Kind::path, {}, std::move(*change), i});
    } else if (stmt->node_case == PG_QUERY__NODE__NODE_TRANSACTION_STMT) {
      const auto kind = step_kind(*stmt->transaction_stmt);
      if (!kind) {
        continue;
      }
      const char* name = stmt->transaction_stmt->savepoint_name;
      steps.push_back({*kind, name != nullptr ? name : "", {}, i});
      any_step = any_step || !ends_plainly(*kind) || i + 1 < statements;
    }
  }
  if (!any_step) {
    return {};
  }
  return steps;
}

}  // namespace switchyard::rewrite
