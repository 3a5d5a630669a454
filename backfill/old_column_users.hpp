#pragma once

// What in the database still relies on the old column. The server runs views, materialized
// views, rules, SQL-standard function bodies, row-level security policies and CHECK
// constraints on its own: the proxy never sees their SQL, so none of it is rewritten. While
// writes = "both" keeps the old column current they are right; from writes = "new" on they
// read a column nobody writes. A NOT NULL old column without a default makes every INSERT fail
// under writes = "new", which leaves it out.

#include <string>
#include <variant>
#include <vector>

#include "backfill/pg_connection.hpp"
#include "backfill/sql.hpp"
#include "config/config.hpp"

namespace switchyard::backfill {

struct OldColumnUsers {
  /// As pg_describe_object() names them ("view active_users", "function n_active()").
  std::vector<std::string> objects;
  /// NOT NULL and no default: an INSERT that leaves it out fails.
  bool not_null_without_default = false;

  bool any() const { return !objects.empty() || not_null_without_default; }
};

/// From pg_depend (normal dependencies on the old column) and pg_attribute.
std::variant<OldColumnUsers, std::string> find_old_column_users(PgConnection& connection,
                                                                const TableSpec& spec);

/// For people: what each finding means under `writes`, and what to do. Lines after the first
/// start with "\n" and no indentation; "" when there is nothing to say. Pure.
std::string explain_old_column_users(const TableSpec& spec, const OldColumnUsers& users,
                                     config::Writes writes);

}  // namespace switchyard::backfill
