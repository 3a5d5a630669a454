#pragma once

// What in the database still relies on the old column. The server runs views, materialized
// views, rules, SQL-standard function bodies, row-level security policies and CHECK
// constraints on its own: the proxy never sees their SQL, so none of it is rewritten. While
// writes = "both" keeps the old column current they are right; from writes = "new" on they
// read a column nobody writes. A NOT NULL old column without a default makes every INSERT fail
// under writes = "new", which leaves it out; a foreign key over it checks nothing any more,
// and a partition key over it routes every new row by NULL. An updatable view that shows the
// old column is worse: a write through it names the view, not the table, so it is not
// rewritten and sets the old column alone, and the new column drifts from it as soon as both
// are written.

#include <string>
#include <string_view>
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
  /// Functions whose source names the old column and the table, or that a trigger on the
  /// table runs: "set_status(integer,text)", "users_touch() (trigger users_touch_t)". A guess
  /// from their text (PL/pgSQL is not tracked by pg_depend), so it never counts in any().
  std::vector<std::string> functions;
  /// The views among `objects` through which an INSERT or UPDATE sets the old column: they show
  /// it as a column (plain, under any name) and are automatically updatable (Postgres turns
  /// the write into one on the table).
  std::vector<std::string> writable_views;
  /// Unique indexes (constraints too) over the old column with no unique index over the same
  /// columns with the new column in its place: under writes = "new" rows leave the old column
  /// out, so nothing keeps the new one unique. Index names, as regclass prints them.
  std::vector<std::string> unique_indexes;
  /// Foreign keys over the old column, on either side, with no foreign key over the same
  /// columns with the new column in its place: under writes = "new" the server checks nothing
  /// of what rows hold. "name on table", as regclass prints the table.
  std::vector<std::string> foreign_keys;
  /// The table, or partitioned tables it covers, partitioned by the old column (or an
  /// expression over it): under writes = "new" rows leave it out and are routed by NULL.
  std::vector<std::string> partition_keys;

  /// Certain findings: the database relies on the old column.
  bool any() const {
    return !objects.empty() || not_null_without_default || !unique_indexes.empty() ||
           !foreign_keys.empty() || !partition_keys.empty();
  }
};

/// From pg_depend (normal dependencies on the old column), pg_attribute, and the source text
/// of functions outside the system schemas (at most 10 named, then a count).
std::variant<OldColumnUsers, std::string> find_old_column_users(PgConnection& connection,
                                                                const TableSpec& spec);

/// For people: what each finding means under `writes`, and what to do. Lines after the first
/// start with "\n" and no indentation; "" when there is nothing to say. Pure.
/// `include_guesses`: also the functions.
std::string explain_old_column_users(const TableSpec& spec, const OldColumnUsers& users,
                                     config::Writes writes, bool include_guesses = true);

/// For people: what writes through `users.writable_views` do under `writes`, and what to do;
/// "" when there are none, or while only the old column is written. Pure.
std::string explain_writable_views(const TableSpec& spec, const OldColumnUsers& users,
                                   config::Writes writes);

/// `name` as a case-insensitive whole-word POSIX regular expression for `~*`.
std::string word_pattern(std::string_view name);

}  // namespace switchyard::backfill
