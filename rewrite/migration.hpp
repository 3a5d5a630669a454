#pragma once

#include <compare>
#include <cstdint>
#include <string>

namespace switchyard::rewrite {

/// Which column(s) a write of the mapped column goes to (DESIGN §3).
enum class Writes { old_column, both, new_column };

/// Which column a read of the old column is served from (DESIGN §3).
enum class Reads { old_column, new_column };

/// One column migration as the rewrite engine sees it. The proxy converts the config's migration
/// into this so that rewrite/ does not depend on config/.
struct Migration {
  /// Identifiers are stored as Postgres stores them (lowercase unless they were quoted).
  std::string name, schema, table, old_column, new_column;
  Writes writes = Writes::old_column;
  Reads reads = Reads::old_column;
  /// "" means identity (a rename); otherwise an SQL expression template containing `{value}`.
  std::string to_new, to_old;
  /// The columns' types as format_type() spells them, "" when unknown. A bare parameter
  /// passed through a transform is cast to its column's type, so the server infers for it
  /// what it would infer without the rewrite (a CASE would otherwise make it text).
  std::string old_type, new_type;
  /// The columns' collations as SQL names them (`pg_catalog."C"`), "" when the type has none or
  /// the catalog is not known.
  std::string old_collation, new_collation;
  /// O's attnum while the catalog showed it, kept after O is dropped or renamed; 0 when not
  /// known. Where O stood decides the column order of `*` and of INSERT and COPY without a
  /// column list once O is gone.
  int old_attnum = 0;
  /// The OID of the relation old_attnum is a slot of: a table rebuilt under the same name
  /// (copied and swapped in) has other slots, where O never stood.
  std::uint32_t old_relid = 0;
  /// on_unsupported = reject (true) | passthrough (false).
  bool reject_unsupported = true;

  /// `expr`, a read served from the new column that is a result column (or a column of a row
  /// or a subquery), as a value of the old column's type when the two types differ (and are
  /// known): clients keep the type they were told. Also wherever casts_every_read(). With O's
  /// collation where collates_reads().
  std::string as_old_type(std::string expr) const;
  bool types_differ() const { return !old_type.empty() && old_type != new_type; }
  /// Whether a read served from N is cast to O's type wherever it is used, in WHERE, JOIN and
  /// expressions too: the value to_old (or N's type) gives may compute and compare otherwise
  /// than O's would (division on numeric, case on citext, trailing blanks on character(n), a
  /// time zone on timestamptz), and a query must answer as before. Not for N alone of another
  /// width of the integers or of the text types, whose operators agree on O's values, so that
  /// an index on N still serves WHERE and JOIN there.
  bool casts_every_read() const;
  /// Whether a read served from N is given O's collation (`COLLATE`) wherever it is used: N's
  /// own, or the default one of O's type that a cast or to_old gives, would sort and compare
  /// otherwise (`ORDER BY`, `<`, min()) than O's.
  bool collates_reads() const;
  /// Whether N holds O's values exactly as O does, and reads a text as O would: the same type,
  /// an unknown one, or another width of the integers or of the text types. Otherwise a value
  /// written to both columns goes to N through O's type (`CAST(value AS <O's type>)`), as
  /// to_new would take it, and not as N alone would read it: `2.6` is 3 in an integer O and
  /// 2.6 in a numeric N; `12:00:00.7` is 12:00:01 in a timestamp(0).
  bool same_values() const;
  /// O refuses values N holds (a length limit, a narrower integer): a write of O that goes to N
  /// (writes = new) is checked against O's type, as the write to O was.
  bool old_type_narrower() const;
};

/// `value` converted to `type` (as format_type() spells it) as an assignment to a column of that
/// type converts it. A cast to a length-limited type (`character varying(5)`, `character(4)`,
/// `bit(3)`, `bit varying(8)`) cuts a longer value short where the assignment refuses it (22001),
/// so those go through the type's length-coercion function in its assignment mode; any other
/// type by a cast. An untyped value (`$1`, a quoted literal, NULL) takes the `::` form, which
/// types it as the column would.
std::string assigned_as(const std::string& value, const std::string& type, bool untyped);

/// Whether a cast to `type` cuts a value that an assignment to it refuses (see assigned_as).
bool limits_length(const std::string& type);

/// A schema-qualified relation name, both parts as Postgres stores them.
struct QualifiedName {
  std::string schema, table;
  auto operator<=>(const QualifiedName&) const = default;
};

}  // namespace switchyard::rewrite
