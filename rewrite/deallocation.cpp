#include "rewrite/deallocation.hpp"

#include "rewrite/pg_query_handles.hpp"
#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite {

std::optional<Deallocation> deallocation(std::string_view sql) {
  // Asked for every statement of a session with prepared statements: one statement is judged
  // by its first word, only a text that may hold several is searched.
  if (const std::optional<std::string_view> verb = detail::sole_statement_verb(sql)) {
    if (!detail::iequals(*verb, "deallocate") && !detail::iequals(*verb, "discard")) {
      return std::nullopt;
    }
  } else if (!detail::icontains(sql, "deallocate") && !detail::icontains(sql, "discard")) {
    return std::nullopt;
  }
  detail::ParsedSql parsed{std::string(sql)};
  if (parsed.tree() == nullptr) {
    return std::nullopt;
  }
  Deallocation found;
  for (std::size_t i = 0; i < parsed.tree()->n_stmts; ++i) {
    const detail::Node* stmt = parsed.tree()->stmts[i]->stmt;
    if (stmt == nullptr) {
      continue;
    }
    if (stmt->node_case == PG_QUERY__NODE__NODE_DEALLOCATE_STMT) {
      const char* name = stmt->deallocate_stmt->name;
      found.names.emplace_back(name == nullptr ? "" : name);
    } else if (stmt->node_case == PG_QUERY__NODE__NODE_DISCARD_STMT &&
               stmt->discard_stmt->target == PG_QUERY__DISCARD_MODE__DISCARD_ALL) {
      found.names.emplace_back();
    }
  }
  if (found.names.empty()) {
    return std::nullopt;
  }
  return found;
}

}  // namespace switchyard::rewrite
