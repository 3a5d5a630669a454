#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rewrite/copy_plan.hpp"
#include "rewrite/migration.hpp"
#include "rewrite/position_map.hpp"

namespace switchyard::rewrite {

enum class Outcome {
  /// Nothing to change: forward the original bytes.
  unchanged,
  /// Forward `RewriteResult::sql` instead.
  rewritten,
  /// A migration with on_unsupported = reject cannot handle the text: answer with
  /// rejection_sql(reason) (or an ErrorResponse, SQLSTATE 0A000).
  rejected,
  /// Unsupported, but every migration involved says passthrough: forward, log and count.
  passthrough_unsupported,
  /// Columns or existence of `RewriteResult::missing` are needed: fetch them and retry.
  needs_catalog,
};

enum class StatementKind { select, insert, update, delete_, merge, copy, ddl, other };

/// Why a text that takes a mapped table's column list from the catalog is refused after DDL on
/// the table earlier in its transaction (`RewriteResult::column_lists_used`).
inline constexpr std::string_view kColumnsChangedInTransaction =
    "the table's columns changed earlier in this transaction (DDL on it), and the catalog the "
    "rewrite reads them from sees that only once the transaction ends, so a `*`, a whole row, "
    "an INSERT or COPY without a column list or a USING or NATURAL join over it would be "
    "rewritten from the columns as they were: name the columns, or send it after COMMIT";

/// Adds `name` to a list of migration names unless it holds it already.
inline void add_name(std::vector<std::string>& names, const std::string& name) {
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    names.push_back(name);
  }
}

/// How one statement text used one migration (for metrics).
struct MigrationUse {
  std::string migration;
  int reads_of_old = 0;
  int writes_of_old = 0;
  int reads_of_new = 0;
  int writes_of_new = 0;
  bool rewritten = false;
};

/// A relation a text makes a partition or inheritance child of a mapped table: the rules cover it
/// only once they are built again, after the text's transaction ends.
struct NewDescendant {
  std::string name;       // the child's name as written (unqualified)
  std::string migration;  // the parent's migration
  bool reject = true;     // that migration's on_unsupported = "reject"
  bool renamed = false;   // the migration's table itself, renamed or moved to another schema
  bool operator==(const NewDescendant&) const = default;
};

struct RewriteResult {
  Outcome outcome = Outcome::unchanged;
  /// The rewritten text (valid when outcome == rewritten).
  std::string sql;
  /// For rewritten: where each stretch of `sql` comes from in the text rewritten, to tell an
  /// error's position in the client's text. Of a literal shape's key, not of a text filled in.
  PositionMap positions;
  /// For rejected/passthrough_unsupported: names the migration and the construct.
  std::string reason;
  /// One entry per migration touched.
  std::vector<MigrationUse> uses;
  /// needs_catalog: relations whose columns (or absence) are needed.
  std::vector<QualifiedName> missing;
  /// needs_catalog: functions called in a written value whose volatility is needed (`table` is
  /// the function's name, `schema` "" when the call does not name one).
  std::vector<QualifiedName> missing_functions;
  /// One per statement, for metrics.
  std::vector<StatementKind> kinds;
  /// ALTER/DROP/... on a mapped table: the proxy refreshes the catalog.
  bool ddl_on_mapped_table = false;
  /// Of that DDL, an ALTER, RENAME, DROP or CREATE, which may change a mapped table's columns:
  /// the names of the migrations whose table it named. A migration covers the table's
  /// partitions and children under its own name, and their columns follow the table's.
  std::vector<std::string> columns_changed;
  /// The migrations of the mapped tables whose column list the rewrite took from the catalog
  /// (`*`, a whole row, INSERT or COPY without a column list, a USING or NATURAL join): after
  /// DDL that may change one of those tables' columns in the same transaction, the session
  /// refuses it (kColumnsChangedInTransaction).
  std::vector<std::string> column_lists_used;
  /// A partition or inheritance child of a mapped table was added or removed (CREATE TABLE ...
  /// PARTITION OF / INHERITS, ATTACH / DETACH PARTITION, [NO] INHERIT): the migrations apply to
  /// other tables now, and the proxy builds its rules again. So it does when a mapped table is
  /// renamed or moved to another schema (ALTER TABLE ... RENAME TO / SET SCHEMA).
  bool descendants_changed = false;
  /// The relations it makes descendants (CREATE TABLE ... PARTITION OF / INHERITS, ATTACH
  /// PARTITION, INHERIT), which the session must not let a later statement of the same
  /// transaction name before the rules cover them.
  std::vector<NewDescendant> new_descendants;
  /// Set for a rewritten `COPY ... FROM STDIN` whose data rows must be transformed.
  std::optional<CopyPlan> copy;
  /// A COPY FROM the data stream cannot serve is staged through a temporary table: the text
  /// gets statements of Switchyard's own, and only a simple Query can carry them. Numbered from
  /// 0 in `sql`: the statements whose CommandComplete the client must not see, and the INSERTs
  /// whose tag it sees as the COPY's ("COPY n"). Empty when nothing is staged.
  std::vector<int> hidden_statements;
  std::vector<int> copy_count_statements;
  /// Why the first staged COPY is staged (names the migration), for a refusal outside a Query.
  std::string staged_because;
  /// Outside a Query the text is forwarded as the client wrote it, not refused: every staged
  /// COPY's migration says on_unsupported = passthrough.
  bool staged_passthrough = false;
  /// A literal of the text decides what its names mean (`SET search_path = 'app'` before a
  /// statement of the same text): the rewrite of its literal shape serves no other text.
  bool literals_decide = false;
  /// For rejected: the statement (from 0) the reason is about. The ones before it rewrite, and
  /// a simple Query runs them, as Postgres runs a text's statements up to its error.
  std::size_t refused_statement = 0;
  /// The text names a mapped table but does not parse: forwarded for the server to answer,
  /// which is right only when the server reads the same characters (client_encoding UTF8).
  bool unparsed = false;
};

}  // namespace switchyard::rewrite
