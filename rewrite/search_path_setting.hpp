#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct PgQuery__Node;             // pg_query.pb-c.h
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
/// Every search_path change of the statements in `sql`, in order: what a session follows, since
/// the net change alone loses a SET followed by a SET LOCAL (the SET holds once the
/// transaction ends). Cheap as search_path_change().
std::vector<SearchPathChange> search_path_changes(std::string_view sql);

/// A change of the role that "$user" in a search_path stands for: current_user, which SET ROLE
/// and SET SESSION AUTHORIZATION change (RESET ALL leaves both alone).
struct RoleChange {
  /// SET SESSION AUTHORIZATION, which also ends a SET ROLE; else SET ROLE.
  bool session = false;
  /// SET LOCAL: lasts until the transaction ends.
  bool local = false;
  /// The role named; empty for NONE, DEFAULT and RESET: the session user (SET ROLE), the login
  /// user (SET SESSION AUTHORIZATION).
  std::string role;
  /// Which statement of the text makes it, counted from 0.
  std::size_t statement = 0;
};

/// The role changes made by the statements in `sql`, in order (SET [LOCAL] ROLE, RESET ROLE,
/// SET/RESET SESSION AUTHORIZATION, DISCARD ALL). Cheap for texts that cannot contain one.
std::vector<RoleChange> role_changes(std::string_view sql);

namespace detail {
/// What one parsed SET or RESET does to the search_path; nullopt when it leaves it alone.
std::optional<SearchPathChange> search_path_change_of(const PgQuery__VariableSetStmt& set);
/// The same for one parsed statement of any kind (DISCARD ALL resets the path too).
std::optional<SearchPathChange> statement_search_path_change(const PgQuery__Node& stmt);
}  // namespace detail

}  // namespace switchyard::rewrite
