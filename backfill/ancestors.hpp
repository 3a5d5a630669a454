#pragma once

// Tables the server writes the migration's rows through without the proxy knowing. A
// migration covers its table and the table's descendants (partitions, inheritance children),
// each by its own name. A write through an ancestor of one of them (an INSERT or COPY into a
// partitioned parent routed to the partition, an UPDATE or MERGE of a parent without ONLY)
// names the ancestor, so it is not rewritten and sets the old column alone: the new one drifts.
// That happens when the migration is declared on a partition or child instead of its root, or
// when a child it covers also inherits from another, unmapped table that has the column.

#include <string>
#include <variant>
#include <vector>

#include "backfill/pg_connection.hpp"
#include "backfill/sql.hpp"

namespace switchyard::backfill {

struct UncoveredAncestor {
  /// The covered table that inherits from `ancestor`, and the ancestor, as schema.table.
  std::string table;
  std::string ancestor;
  /// `ancestor` is partitioned: an INSERT or COPY into it is routed to `table`.
  bool partitioned = false;
  /// No parent of `ancestor` has the column: declared there, the migration covers the rest.
  bool root = false;
  /// `table` is the migration's own table, not a descendant it covers.
  bool own = false;
};

/// Each ancestor, outside what the migration covers, of its table or of a covered descendant,
/// that has a column named as the old column; once each.
std::variant<std::vector<UncoveredAncestor>, std::string> find_uncovered_ancestors(
    PgConnection& connection, const TableSpec& spec);

/// For people: one line per table written through an ancestor, what goes wrong and what to do.
/// Pure.
std::vector<std::string> explain_uncovered_ancestors(const TableSpec& spec,
                                                     const std::vector<UncoveredAncestor>& found);

}  // namespace switchyard::backfill
