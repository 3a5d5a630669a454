#pragma once

// What backfill and verify learn from the catalog before touching a migration's table: that
// it exists, that both columns exist, and which key to walk it by.

#include <string>
#include <variant>
#include <vector>

#include "backfill/pg_connection.hpp"
#include "backfill/sql.hpp"
#include "config/config.hpp"

namespace switchyard::backfill {

/// The names and transforms of `migration` as the builders want them; no key.
TableSpec columns_spec(const config::Migration& migration);

/// Builds the TableSpec of `migration` from the catalog. The key is the primary key, or the
/// unique index named `key_index` when given (btree, no predicate, no expressions, NOT NULL
/// columns). The error names the table and, when there is no usable key, the alternatives.
std::variant<TableSpec, std::string> describe_table(PgConnection& connection,
                                                    const config::Migration& migration,
                                                    const std::string& key_index);

/// The unique indexes other than the primary key that --key-index accepts; none when the
/// catalog does not answer.
std::vector<std::string> walking_indexes(PgConnection& connection, const TableSpec& spec);

/// Rows in the table: the planner's estimate when there is one, else a count (bounded by a
/// statement timeout). nullopt when neither answered.
std::optional<long long> estimate_rows(PgConnection& connection, const TableSpec& spec);

/// What transforms_misfit() found: Postgres's error with the statement (`misfit`), or why the
/// check could not run now (`unchecked`: a lock held on the table, a timeout, the connection
/// lost), or neither.
struct TransformCheck {
  std::optional<std::string> misfit;
  /// With `misfit`: the key of the transform that failed, "to_new" or "to_old" (which the
  /// config may leave out: the identity, of a type change the server cannot assign).
  std::string misfit_key;
  std::optional<std::string> unchecked;
};

/// Whether the transforms fit the columns the way the flags use them: to_new(old) assigned to
/// the new column (writes "both" or "new"), to_old(new) assigned to the old one (writes
/// "both"), to_old(new) selected (reads "new"). Checked with EXPLAIN over `WHERE false`, which
/// plans and runs nothing but waits (1 s at most) for the table's lock. Neither field is set
/// when they fit, when nothing uses them, or when this user may not check (no privilege).
TransformCheck transforms_misfit(PgConnection& connection, const TableSpec& spec,
                                 config::Writes writes, config::Reads reads);

/// Whether `column` exists on the table (for status: has the old column been dropped yet?).
std::variant<bool, std::string> column_exists(PgConnection& connection, const TableSpec& spec,
                                              const std::string& column);

/// `column`'s type as format_type() spells it, "" when the column does not exist.
std::variant<std::string, DbError> column_type(PgConnection& connection, const TableSpec& spec,
                                               const std::string& column);

}  // namespace switchyard::backfill
