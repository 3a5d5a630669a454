#pragma once

// The parts of a keyset walk that backfill and verify share: the next chunk's bounds, the
// parameters of a range, and finding the one row a failing statement trips on.

#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "backfill/pg_connection.hpp"
#include "backfill/sql.hpp"

namespace switchyard::backfill {

/// A key's values as text, in key-column order.
using Key = std::vector<std::string>;

/// The chunk after some key: its last key and how many rows it holds.
struct Chunk {
  Key last;
  long long rows = 0;
};

/// The next chunk of at most `size` rows after `lower` (from the start when nullopt);
/// nullopt when no row is left.
std::variant<std::optional<Chunk>, DbError> next_chunk(PgConnection& connection,
                                                       const TableSpec& spec,
                                                       const std::optional<Key>& lower,
                                                       long long size);

/// The parameters of range_condition() for (lower, upper], followed by `extra`.
std::vector<Param> range_params(const std::optional<Key>& lower, const std::optional<Key>& upper,
                                std::vector<Param> extra = {});

/// The shape of (lower, upper].
RangeShape shape_of(const std::optional<Key>& lower, const std::optional<Key>& upper);

/// A row that makes a statement fail, and how.
struct FailingRow {
  Key key;
  DbError error;
};

/// Runs the statement over (lower, upper] (via `attempt`, which returns its error) on ever
/// smaller halves of the range until one row is left that still fails: O(log n) statements.
/// nullopt when the failure cannot be pinned on a row (it went away, or became a timeout).
using RangeAttempt =
    std::function<std::optional<DbError>(const std::optional<Key>& lower, const Key& upper)>;
std::optional<FailingRow> find_failing_row(PgConnection& connection, const TableSpec& spec,
                                           const std::optional<Key>& lower, const Key& upper,
                                           const RangeAttempt& attempt);

}  // namespace switchyard::backfill
