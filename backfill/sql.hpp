#pragma once

// The SQL text backfill and verify send, built from the catalog's description of the table.
// Pure functions: no connection, so the unit tests compare text side by side.
//
// A table is walked in key order with keyset pagination. A range is "(key) > lower AND
// (key) <= upper" where either bound may be absent; a composite key uses a row comparison,
// which Postgres answers from the primary key's btree index. Key values travel as text
// parameters cast to the column's type, so any key type whose text form round-trips works.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::backfill {

/// One column of the walking key: its name as stored and its type as format_type() spells it.
struct KeyColumn {
  std::string name;
  std::string type;
  bool operator==(const KeyColumn&) const = default;
};

/// Which disagreement verify counts. `to_new`: new IS DISTINCT FROM to_new(old), what readers
/// of the new column will see; `to_old`: old IS DISTINCT FROM to_old(new), what reads = "new"
/// serves in place of the old column. `both` counts either. For backfill, the column it fills:
/// `to_new` fills the new column from the old, `to_old` the old from the new.
enum class Direction { both, to_new, to_old };

/// What the builders need to know about one migration's table. Names are as Postgres stores
/// them (no quotes); templates are the config's to_new/to_old ("" = identity).
struct TableSpec {
  std::string schema;
  std::string table;
  std::vector<KeyColumn> key;
  std::string old_column;
  std::string new_column;
  std::string to_new;
  std::string to_old;
  /// The column backfill fills (to_new or to_old).
  Direction fill = Direction::to_new;
  /// The column's type has no equality operator (json, xml, point), or one that calls values
  /// equal that readers tell apart (citext, interval, float4/float8, jsonb): compared as text,
  /// which for json is the stored text itself; float4/float8 by their bits, whose text follows
  /// the session's extra_float_digits.
  bool old_as_text = false;
  bool new_as_text = false;
  /// The columns' collations as SQL names them (`pg_catalog."C"`), "" for a type without one.
  /// A column is compared in its own: what its readers see, and two columns of different
  /// collations have none in common. A nondeterministic one (which calls 'ABC' and 'abc'
  /// equal) is replaced by "C".
  std::string old_collation = {};
  std::string new_collation = {};
  /// The columns' types as format_type spells them, "" when not looked up: a compared value is
  /// first cast to it, typmod included, as a write or a read through the proxy casts it.
  std::string old_type = {};
  std::string new_type = {};
  /// The columns' attnums, 0 when not looked up. A column dropped and added again gets another
  /// one (attnums are never reused), and holds none of the values a backfill wrote.
  int old_attnum = 0;
  int new_attnum = 0;
};

/// Which bounds a range has. The lower bound is exclusive, the upper inclusive.
struct RangeShape {
  bool lower = false;
  bool upper = false;
};

/// An SQL expression over the pg_attribute row `a`: the column's collation as SQL names it
/// (`pg_catalog."C"`), '' when its type has none; "C" for a nondeterministic one, under which
/// values readers tell apart compare equal.
inline constexpr const char* kAttributeCollation =
    "coalesce((SELECT CASE WHEN co.collisdeterministic THEN "
    "pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname) "
    "ELSE 'pg_catalog.\"C\"' END FROM pg_catalog.pg_collation co "
    "JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace "
    "WHERE co.oid = a.attcollation), '')";

/// Always double-quoted (quotes doubled inside): correct for any name, keywords included.
std::string quote_ident(std::string_view name);

/// A single-quoted SQL string literal (quotes doubled inside).
std::string quote_literal(std::string_view text);

/// quote_literal of a value, or NULL: a value as reports show it.
std::string quote_nullable(const std::optional<std::string>& value);

/// A Postgres text[] literal, every element double-quoted, so any value survives.
std::string text_array_literal(const std::vector<std::string>& items);

/// "schema"."table".
std::string qualified_name(const TableSpec& spec);

/// The key columns, comma-separated, each followed by `suffix` (e.g. " DESC").
std::string key_list(const TableSpec& spec, std::string_view suffix = {});

/// The key column names for people: "id" or "region, id" (no quotes).
std::string key_names(const TableSpec& spec);

/// The range predicate; parameters are the lower key's values (if any) from $first, then
/// the upper key's. "TRUE" when the range has no bound.
std::string range_condition(const TableSpec& spec, RangeShape shape, int first_param = 1);

/// to_new(old) and to_old(new) as SQL expressions over the table's columns.
std::string new_from_old(const TableSpec& spec);
std::string old_from_new(const TableSpec& spec);

/// The predicate "the two columns disagree" for `direction`.
std::string mismatch_condition(const TableSpec& spec, Direction direction);

/// The next chunk after the lower key (if any): one row with the chunk's last key and its
/// row count, or no row when nothing is left. Parameters: lower key, then the chunk size.
std::string next_chunk_sql(const TableSpec& spec, bool has_lower);

/// Starts a batch transaction with its own lock and statement timeouts.
std::string begin_batch_sql(std::chrono::milliseconds lock_timeout,
                            std::chrono::milliseconds statement_timeout);

/// Rows a backfill fills: the two columns disagree both ways (new is not to_new(old) and old
/// is not to_old(new)).
std::string fill_condition(const TableSpec& spec);

/// The batch UPDATE: SET new = to_new(old) over the range, for the rows of fill_condition
/// (with fill = to_old: SET old = to_old(new)).
std::string backfill_update_sql(const TableSpec& spec, RangeShape shape);

/// Rows of a range the batch UPDATE would change (for --dry-run). Read-only.
std::string pending_count_sql(const TableSpec& spec, RangeShape shape);

/// Counts over a range: (to_new mismatches, to_old mismatches, either, rows). Read-only.
std::string verify_count_sql(const TableSpec& spec, RangeShape shape);

/// Up to $N disagreeing rows of a range for `direction`: key columns, old, new, to_new(old),
/// to_old(new), all as text. Parameters: the range's keys, then the limit.
std::string verify_sample_sql(const TableSpec& spec, RangeShape shape, Direction direction);

/// Every key of a range, in order (used to find the one row a failing statement trips on).
std::string keys_in_range_sql(const TableSpec& spec, RangeShape shape);

/// A key for people: `id=42`, or `region=eu, id=7` for a composite key; a value other than a
/// number or a plain word is quoted as SQL writes it (`name='a b'`, `name=E'two\nlines'`).
std::string format_key(const TableSpec& spec, const std::vector<std::string>& values);

}  // namespace switchyard::backfill
