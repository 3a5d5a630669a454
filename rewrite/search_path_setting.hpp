#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct PgQuery__VariableSetStmt;  // pg_query.pb-c.h

namespace switchyard::rewrite {

/// What a statement text does to the session's search_path, which decides what an unqualified
/// table name means and so whether a statement touches a mapped table.
struct SearchPathChange {
  enum class Kind { set, reset };
  Kind kind = Kind::set;
  /// SET LOCAL: lasts until the transaction ends.
  bool local = false;
  /// For `set`: the schemas in order, as Postgres stores them ("$user" kept as written).
  std::vector<std::string> schemas;
};

/// The net search_path change made by the statements in `sql` (SET search_path, SET LOCAL,
/// RESET search_path, SET ... TO DEFAULT, RESET ALL, DISCARD ALL), or nullopt when it makes
/// none. Cheap for texts that cannot contain one: no parse unless a keyword appears.
std::optional<SearchPathChange> search_path_change(std::string_view sql);

namespace detail {
/// What one parsed SET or RESET does to the search_path; nullopt when it leaves it alone.
std::optional<SearchPathChange> search_path_change_of(const PgQuery__VariableSetStmt& set);
}  // namespace detail

}  // namespace switchyard::rewrite
