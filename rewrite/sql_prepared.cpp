#include "rewrite/sql_prepared.hpp"

#include <algorithm>

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
    const PgQuery__RawStmt* raw = parsed.tree()->stmts[i];
    const detail::Node* stmt = raw->stmt;
    if (stmt == nullptr) {
      continue;
    }
    if (stmt->node_case == PG_QUERY__NODE__NODE_PREPARE_STMT && stmt->prepare_stmt->name) {
      found.prepared.emplace_back(stmt->prepare_stmt->name);
      // Offsets are bytes into the text; a length of 0 means "to the end".
      const auto begin =
          std::min<std::size_t>(static_cast<std::size_t>(raw->stmt_location), sql.size());
      const std::size_t length =
          raw->stmt_len > 0 ? static_cast<std::size_t>(raw->stmt_len) : std::string_view::npos;
      found.prepare_statements.push_back(sql.substr(begin, length));
    } else if (const PgQuery__ExecuteStmt* run = executed_by(stmt); run && run->name) {
      found.executed.emplace_back(run->name);
    }
  }
  if (found.prepared.empty() && found.executed.empty()) {
    return std::nullopt;
  }
  return found;
}

std::string sql_prepare_again(std::string_view name, std::string_view prepare_statement) {
  std::string text = "DEALLOCATE " + detail::quote_ident(name) + ";\n";
  text.append(prepare_statement);
  text += "\n;\n";
  return text;
}

std::size_t front_of_statements(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
      ++i;
    } else if (text.substr(i, 2) == "--") {
      // PostgreSQL ends a line comment at either, or at the end of the text.
      i = std::min(text.find_first_of("\r\n", i), text.size());
    } else if (text.substr(i, 2) == "/*") {
      i = detail::block_comment_end(text, i);
    } else {
      return i;
    }
  }
  return i == std::string_view::npos ? 0 : text.size();
}

}  // namespace switchyard::rewrite
