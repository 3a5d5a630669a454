#pragma once

// What backfill and verify learn from the catalog before touching a migration's table: that
// it exists, that both columns exist, and which key to walk it by.

#include <string>
#include <variant>

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

/// Rows in the table: the planner's estimate when there is one, else a count (bounded by a
/// statement timeout). nullopt when neither answered.
std::optional<long long> estimate_rows(PgConnection& connection, const TableSpec& spec);

/// Whether `column` exists on the table (for status: has the old column been dropped yet?).
std::variant<bool, std::string> column_exists(PgConnection& connection, const TableSpec& spec,
                                              const std::string& column);

}  // namespace switchyard::backfill
