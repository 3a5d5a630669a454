#pragma once

// The rewrite engine's working state for one SQL text. Rules are member functions spread over
// one file per rule (read_rule.cpp, star_expand.cpp, insert_rule.cpp, update_rule.cpp,
// merge_rule.cpp, copy_rule.cpp); scope.cpp resolves names; analyzer.cpp dispatches per statement.

#include <deque>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "rewrite/catalog.hpp"
#include "rewrite/migration.hpp"
#include "rewrite/pg_query_handles.hpp"
#include "rewrite/result.hpp"
#include "rewrite/table_ddl.hpp"
#include "rewrite/text_edits.hpp"
#include "rewrite/token_list.hpp"

namespace switchyard::rewrite::detail {

/// Output column names of a query; nullopt when they cannot be known.
using Names = std::optional<std::vector<std::string>>;

/// One FROM-clause item (or a DML target) as name resolution sees it.
struct Relation {
  enum class Kind { table, cte, subquery, function, join };
  Kind kind = Kind::table;
  /// The name that qualifies its columns: the alias, else the relation name. "" if none.
  std::string refname;
  const PgQuery__RangeVar* range_var = nullptr;
  /// Function whose columns the catalog tells (read when first needed).
  const PgQuery__RangeFunction* range_function = nullptr;
  /// Table: the relation it resolved to (nullopt while unknown).
  std::optional<QualifiedName> qname;
  /// Migrations mapping this table (empty for everything else).
  std::vector<const Migration*> migrations;
  /// Columns usable for resolution (for a mapped table: catalog columns plus O and N).
  Names columns;
  bool columns_loaded = false;
  /// Alias column names rename the columns positionally.
  bool alias_colnames = false;
  /// Part of a NATURAL or USING join: `*` merges columns.
  bool merged_join = false;
  /// Hidden behind a join alias: not reachable by its own refname.
  bool hidden = false;
  /// Replaced in the text by a subquery that serves O from N (using_join.cpp).
  bool wrapped = false;
  /// Another FROM item of its level has the same refname (two un-aliased tables of different
  /// schemas): a star's columns name it with its schema too.
  bool refname_shared = false;
};

struct Cte {
  std::string name;
  Names columns;
};

/// One FROM item as a `*` over it sees it: one relation (a join with an alias is one too), or
/// a join of two items and the columns it merges (USING, or a natural join written out).
struct FromNode {
  Relation* rel = nullptr;
  int left = -1;  // indices in Scope::from_nodes
  int right = -1;
  std::vector<std::string> merged;
  bool merges_unknown = false;  // a natural join not written out
};

struct Scope {
  const Scope* parent = nullptr;
  std::deque<Relation> rels;
  std::vector<Cte> ctes;
  /// Column names merged by `JOIN ... USING` at this level: a bare one is the merged column.
  std::vector<std::string> merged;
  /// The names of `JOIN ... USING (...) AS name` at this level, which qualify merged columns.
  std::vector<std::string> using_aliases;
  /// The FROM clause as a tree (from_items: the top-level items' nodes, in order).
  std::deque<FromNode> from_nodes;
  std::vector<int> from_items;
};

/// Where the columns and rows of an INSERT (or of a MERGE's INSERT action) are in the text.
struct InsertSite {
  std::vector<std::string> cols;
  /// No column list in the text: the rewrite puts one at offset `list_at` (-1: not found).
  bool synthesized = false;
  int list_at = -1;
  /// ... and the token index of the table name's (or alias') last token, which it follows.
  int list_end_token = -1;
  /// A column list in the text: the token index of its '('.
  int list_open = -1;
  /// Each row's value spans and nodes, and where a value is appended to it.
  std::vector<std::vector<Span>> rows;
  std::vector<std::vector<const Node*>> nodes;
  std::vector<int> append_at;
  /// Where a WITH list item may go for a value computed once (an INSERT ... VALUES: before its
  /// INSERT keyword; -1: nowhere, as in MERGE, whose INSERT runs once per source row), and
  /// whether the statement has a WITH already.
  int cte_at = -1;
  bool has_with = false;
};

/// Why a construct cannot be rewritten, for one migration (null: every migration involved).
struct Problem {
  const Migration* migration = nullptr;
  std::string reason;
};

class Analyzer {
 public:
  Analyzer(const std::vector<Migration>& migrations, const SessionContext& session,
           const Catalog& catalog, const std::string& sql, const TokenList& tokens,
           TextEdits& edits);

  /// Analyses (and records edits for) one top-level statement.
  void statement(const PgQuery__RawStmt* raw);

  std::vector<QualifiedName> missing;
  /// Functions (schema "" when unqualified) whose volatility or columns in FROM are needed.
  std::vector<QualifiedName> missing_functions;
  std::vector<Problem> problems;
  std::vector<MigrationUse> uses;
  std::vector<StatementKind> kinds;
  bool ddl_on_mapped_table = false;
  std::vector<std::string> columns_changed;
  std::vector<std::string> column_lists_used;
  bool descendants_changed = false;
  std::vector<NewDescendant> new_descendants;
  bool literals_decide = false;
  std::optional<CopyPlan> copy;
  /// Statements added to the text by staged COPYs (copy_staging.cpp), numbered in the rewritten
  /// text: those whose CommandComplete is hidden, the INSERTs whose count is the COPY's, how many
  /// were added, and why the first COPY was staged.
  std::vector<int> hidden_statements;
  std::vector<int> copy_count_statements;
  int added_statements = 0;
  std::string staged_because;
  /// Every staged COPY's migration says on_unsupported = passthrough.
  bool staged_passthrough = true;
  /// Migrations involved in the text (mapped tables referenced).
  std::set<const Migration*> involved;

 private:
  // analyzer.cpp
  void dispatch(const Node* stmt, const Scope* outer, bool top);
  void unsupported(const Migration* m, const std::string& construct);
  MigrationUse& use(const Migration* m);
  void mark_ddl(const Node* stmt);
  /// Called before a mapped table's column list is taken from the catalog: notes it, and refuses
  /// it (false) after DDL earlier in the text that may change that table's columns.
  bool column_list_usable(const Relation& rel);
  /// `min(col)` / `max(col)`, plain (no FILTER, OVER, DISTINCT or ORDER BY inside).
  static bool min_or_max_of_a_column(const PgQuery__FuncCall* fc);
  /// Walks such a call in an output: a read of O served bare from N of another width has the
  /// call cast back to O's type rather than its argument.
  void cast_min_or_max(const PgQuery__FuncCall* fc, const Scope& scope);
  /// Sets descendants_changed for a statement that adds or removes a partition or an
  /// inheritance child of a mapped table, or renames a mapped table or moves it to a schema.
  void mark_descendants_change(const Node* stmt);
  bool text_mentions_mapped_table(std::string_view text) const;
  /// A problem for the statement when it names a relation an earlier statement of the text
  /// made a descendant of a mapped table.
  void refuse_new_descendants_named();
  /// Follows a statement's change of the search_path for the statements after it in the text.
  void follow_search_path(const Node* stmt);
  bool reads_new(const Migration* m) const { return m->reads == Reads::new_column; }
  void other_statement_with_mapped_tables(const Node* stmt, const Scope* outer);

  // scope.cpp
  /// Ties the migrations of the tables whose rows a call may return (`types`) to the statement
  /// and refuses `construct` for each that shows N: a call the rewrite cannot read as the table.
  void refuse_rows_of(const std::vector<QualifiedName>& types, const std::string& construct);
  /// What the catalog says `function` gives in FROM; nullopt (and `function` noted missing)
  /// when it does not know yet.
  std::optional<FunctionOutput> looked_up_output(const QualifiedName& function);
  /// `dml_target`: the relation an INSERT/UPDATE/DELETE writes, which is never a CTE.
  Relation make_table(const PgQuery__RangeVar* rv, const Scope& scope, bool dml_target = false);
  const Cte* find_cte(const Scope* scope, std::string_view name) const;
  std::optional<QualifiedName> resolve_table_name(const PgQuery__RangeVar* rv, bool* unknown);
  const Names& columns_of(Relation& rel);
  std::optional<std::vector<std::string>> catalog_columns(const QualifiedName& name);
  void add_from_item(const Node* item, Scope& scope, std::vector<Relation*>* added);
  /// add_from_item's work; the item's index in scope.from_nodes (-1: none).
  int add_from_node(const Node* item, Scope& scope, std::vector<Relation*>* added);
  void process_with(const PgQuery__WithClause* with, Scope& scope);
  /// merged: a bare name for a `JOIN ... USING` column (no relation of its own).
  enum class Found { yes, no, ambiguous, uncertain, merged };
  Found resolve_column(const std::vector<std::string_view>& fields, const Scope& scope,
                       Relation** rel);
  Relation* find_refname(const Scope& scope, std::string_view name, int* levels) const;
  /// The relation `names.*` means: `t` by refname, `s.t` / `db.s.t` an un-aliased table of
  /// schema s. `uncertain`: a candidate's schema is not known.
  Relation* find_qualified(const Scope& scope, const std::vector<std::string_view>& names,
                           bool* uncertain);
  /// Sets refname_shared on the relations of `scope` and its parents.
  void mark_shared_refnames(const Scope& scope);
  /// How a star's or a whole row's rewrite names `rel`'s columns: its refname, with its schema
  /// where another relation shares that refname.
  std::string qualifier(Relation& rel);
  bool mapped_in_chain(const Scope& scope, const Migration* m) const;
  /// A bare `column` read from `scope` would not reach `rel` (where a bare name resolved to
  /// it): another relation there or at a level between has such a column (or unknown ones), or
  /// a USING join merges one.
  bool bare_name_captured(const Scope& scope, const Relation& rel, std::string_view column);
  /// `rel.refname` qualifies a column of `rel` from `scope`: no relation or USING alias nearer
  /// (or beside it) has that name, and no join alias hides `rel`.
  bool refname_reaches(const Scope& scope, const Relation& rel) const;
  /// The table's columns in the order the app knows: without N, with O where it stood even
  /// after it is gone. `known` false: the catalog is asked, or the order is not known (refused).
  std::vector<std::string> visible_columns(Relation& rel, bool* known);
  // alias_columns.cpp
  /// Refuses the column list of a table alias over mapped table `rel` where its names would fall
  /// on other columns than the old app's view of the table puts them on.
  void check_alias_list(Relation& rel);
  /// The catalog column that `col`, resolved to `rel`, names through an alias column list ("" when
  /// not known); `col` itself when the list does not rename it.
  std::string aliased_column(Relation& rel, std::string_view col);
  /// visible_columns() with an alias column list's names in place; `known` false also where two
  /// of them are alike (`alike`).
  std::vector<std::string> aliased_visible_columns(Relation& rel, bool* known, bool* alike);
  /// O's attnum among `slots` once O is gone from the catalog, 0 when not known.
  static int old_column_slot(const Migration& m, const ColumnSlots& slots);
  /// Records that a form depending on the column order cannot keep it (DESIGN §3).
  /// `slots`: the table's, nullptr when the catalog gives none.
  void refuse_unknown_order(const Migration& m, const ColumnSlots* slots);
  /// The columns COPY names when its statement names none: the visible ones but generated ones.
  std::vector<std::string> copy_columns(Relation& rel, bool* known);

  // using_join.cpp
  /// Under reads = new, `JOIN ... USING (O)` compares O as stored: the mapped table `rel` is
  /// replaced in the text by a subquery serving O as to_old(N). `in_using`: its migrations whose
  /// O the USING names.
  void wrap_for_using(Relation& rel, const PgQuery__JoinExpr* join,
                      const std::vector<const Migration*>& in_using);
  /// The token index of a FROM item's last token: the table's name, or its alias (-1 when the
  /// text does not read as the tree says). `begin`: the name's first token.
  int range_var_end(const PgQuery__RangeVar* rv, int begin) const;

  // natural_join.cpp
  /// Under reads = new, `left NATURAL JOIN right` over a mapped table is written out as
  /// `left JOIN right USING (<the columns both have, as the app sees them>)` (or `ON TRUE`).
  /// Returns the USING columns, or nullopt when refused or the catalog is asked.
  std::optional<std::vector<std::string>> natural_to_using(const PgQuery__JoinExpr* join,
                                                           const std::vector<Relation*>& inner,
                                                           std::size_t from_left);

  // read_rule.cpp
  Names walk_select(const PgQuery__SelectStmt* s, const Scope* outer);
  Names walk_query_node(const Node* n, const Scope* outer);
  void walk_expr(const Node* n, const Scope& scope);
  void column_ref(const PgQuery__ColumnRef* cr, const Scope& scope);
  /// `rel`: the relation `cr` resolved to from `scope`.
  void rewrite_read(const PgQuery__ColumnRef* cr, const Migration* m, const Scope& scope,
                    const Relation& rel);
  Names walk_targets(PgQuery__Node* const* targets, size_t n, const Scope& scope);
  void walk_sort_like(const Node* expr, const Scope& scope, const Names& outputs, bool group);
  std::optional<Span> target_span(const PgQuery__ResTarget* rt, bool strip_alias) const;

  // grouped_read.cpp
  /// Notes the GROUP BY items of `s` that are reads of O served as an expression of N.
  void note_grouped_olds(const PgQuery__SelectStmt* s, const Scope& scope);
  /// `element`: an item of ROLLUP, CUBE or GROUPING SETS, which N joins in parentheses.
  void note_grouped_item(const Node* item, const PgQuery__SelectStmt* s, const Scope& scope,
                         bool element);
  /// `expr`, a column or casts of one, grouped at tokens `first`..`last` (-1: not found): the
  /// item itself, or an ordinal or an output name standing for it.
  void note_grouped_expr(const Node* expr, const Scope& scope, int first, int last, bool element);
  void note_grouped_old_column(const PgQuery__ColumnRef* cr, const Scope& scope, int first,
                               int last, bool element);
  /// The first and last token of a column or casts of one.
  int expression_start(const Node* n) const;
  int expression_end(const Node* n) const;
  bool names_old_column_read_new(const PgQuery__ColumnRef* cr) const;
  /// Whether `scope`'s grouping applies to what is being walked (not to FROM or WHERE).
  void set_grouping_applies(const Scope& scope, bool applies);
  /// A read of `m`'s O of `rel` from `scope`: one from a sub-select of a grouped level that
  /// groups by it needs N grouped there too.
  void note_outer_read(const Scope& scope, const Relation& rel, const Migration* m);
  /// Adds N to `scope`'s GROUP BY (that of `s`) where a sub-select needs it, or refuses; forgets
  /// the notes.
  void group_by_new_columns(const PgQuery__SelectStmt* s, const Scope& scope);
  /// `s` groups by another column of `rel` than `m`'s O, perhaps its primary key.
  bool groups_another_column(const PgQuery__SelectStmt* s, const Scope& scope, const Relation& rel,
                             const Migration& m);
  struct GroupedOld {
    const Scope* scope;
    const Relation* rel;
    const Migration* m;
    int open_at;   // where the item starts in the text (-1: not found)
    int close_at;  // where it ends
    bool element;
    bool applies;
    bool needed;
    const char* refusal;  // why N cannot join the item, or nullptr
  };
  std::vector<GroupedOld> grouped_olds_;
  /// An aggregate's call (not a window function's): what its arguments read is read before
  /// grouping. Built-in names and the aggregate-only syntax only: another aggregate counts as a
  /// plain function, whose arguments must be grouped.
  static bool aggregate_call(const PgQuery__FuncCall* fc);
  /// The levels whose aggregate call's arguments are being walked.
  std::vector<const Scope*> aggregate_levels_;

  // parameter_types.cpp
  /// Under reads = new, an untyped parameter beside a read served bare from N of another integer
  /// width (`n2 = $1`) would take N's type where it took O's: it is given O's type without
  /// narrowing a typed one (`n2 = COALESCE($1, NULL::integer)`), so that the statement's
  /// parameter types stay as they were and an index on N still serves it.
  void type_parameters_as_old(const Node* n);
  void type_operands_as_old(const PgQuery__AExpr* e);
  /// `other` beside `operand` (or their fields, for two rows) as an operator's two operands.
  void type_parameter_beside(const Node* operand, const Node* other);
  /// `items` take one common type; `m`'s bare read is among them, or is the left operand of IN.
  void type_common_parameters(const std::vector<const Node*>& items, const Migration* m);
  void type_parameter_as_old(const Node* param, const Migration* m, bool array);
  /// The migration whose N `n` reads bare, when N is another integer width than O (else null).
  const Migration* bare_other_width(const Node* n) const;
  /// Reads served bare from N of another type than O (another width of its family).
  std::vector<std::pair<const PgQuery__ColumnRef*, const Migration*>> bare_other_width_;

  // whole_row.cpp
  /// A whole-row reference to `rel` (`row_to_json(u)`); `rebuildable`: it stands for the record,
  /// not for a list of columns.
  void whole_row_read(const PgQuery__ColumnRef* cr, Relation& rel, bool rebuildable);
  /// `t.*` in ROW(...) stands for t's columns: listed as the app sees them (no N, O served from
  /// N under reads = new), as a `*` in a target list is.
  void row_columns(const PgQuery__ColumnRef* cr, Relation& rel);

  // star_expand.cpp
  Names expand_star(const PgQuery__ResTarget* rt, const PgQuery__ColumnRef* cr, const Scope& scope);
  /// Replaces the `*` of `cr` in the text by `columns`; false when it is not found.
  bool replace_star(const PgQuery__ColumnRef* cr, const std::vector<Relation*>& covered,
                    const std::string& columns);
  /// An unqualified * over a USING join: its merged columns, then each input's others. Its names;
  /// with `rewrite` (it reads a mapped table under reads = new) the * is also written out.
  Names using_star(const PgQuery__ColumnRef* cr, const std::vector<Relation*>& covered,
                   const Scope& scope, bool rewrite);
  /// Appends `cols` of `r` to a star's text, O served from N where reads = new.
  void append_star_columns(Relation& r, const std::vector<std::string>& cols, std::string& text);
  /// One column of `r` in a star's text: `r.col`, or O served from N where reads = new.
  std::string star_column_text(Relation& r, const std::string& col);
  /// The columns a `*` gives for one node of the FROM tree, each with its text.
  struct StarColumn {
    std::string name;  // "" for `r.*` of a relation whose columns are unknown
    std::string text;
    bool merged = false;  // written bare: the merged column of a USING join
    /// A relation whose columns need no rewrite: when all of them are listed, one after the
    /// other, they are written `r.*` (which also keeps working where two of them share a name).
    Relation* plain = nullptr;
  };
  using StarColumns = std::optional<std::vector<StarColumn>>;
  /// nullopt with `why` empty: the catalog was asked.
  StarColumns star_columns(const Scope& scope, int node, bool rewrite, std::string& why);
  bool star_active(Relation& rel);
  /// `(expr).*`: refused where expr may be a row of a mapped table whose N a `*` would show.
  void composite_star(const PgQuery__AIndirection* ind, const Scope& scope);
  /// `(f(...)).field` of a call that may return a mapped table's row: O's field is the stored O.
  void function_field(const PgQuery__FuncCall* fc, std::string_view field);
  /// A `*` over m's table would show N: reads = new, or N is in the catalog.
  bool shows_new_column(const Migration* m);
  /// Why a `*` over `r`, a mapped table's rows, cannot be listed as the app sees them, or null.
  static const char* star_refusal(const Relation& r);
  /// A migration with reads = new whose table the statement's text names (perhaps only later
  /// than the item being walked).
  bool statement_mentions_table_read_new() const;

  // insert_rule.cpp / update_rule.cpp
  Names insert_stmt(const PgQuery__InsertStmt* ins, const Scope* outer);
  /// ON CONFLICT's index inference over O, under writes = new: N's index instead.
  void conflict_target(const PgQuery__InferClause* infer, const Relation& target);
  Names update_stmt(const PgQuery__UpdateStmt* up, const Scope* outer);
  Names delete_stmt(const PgQuery__DeleteStmt* del, const Scope* outer);
  enum class WriteOp { none, add_new, add_old, rename_to_new, remove_old };
  WriteOp decide_write(const Migration* m, bool writes_old, bool writes_new);
  std::string written_value(const Migration* m, WriteOp op, Span value, const Node* node);
  /// `value`, written by the app to the column `op` takes from, carried to the other column:
  /// the transform applied to the value as that column stores it. The cast matters where the
  /// value's type is not the column's: `SET score = 2.6` stores 3 in an integer O, and N must be
  /// to_new(3), not to_new(2.6); `now()` into a timestamp O is the session's local time. An
  /// untyped value (`$1`, a string, NULL) would take its type from the template instead.
  static std::string transformed_write(const Migration* m, WriteOp op, const std::string& value,
                                       bool untyped);
  /// The template that carries a written value to the other column: to_old for add_old,
  /// to_new otherwise.
  static const std::string& transform_of(const Migration* m, WriteOp op) {
    return op == WriteOp::add_old ? m->to_old : m->to_new;
  }
  /// What in `value` may give another result when evaluated again ("" if nothing): a VOLATILE
  /// function, a nested statement. Functions the catalog has not described are recorded as
  /// missing (and pass).
  std::string unrepeatable(const Node* value);
  /// Refuses a write whose value cannot be repeated; `bad` is what unrepeatable() found.
  void refuse_repeat(const Migration* m, const std::string& bad);
  /// The read rule over a SET list's values (UPDATE, ON CONFLICT DO UPDATE, MERGE).
  void walk_set_values(PgQuery__Node* const* targets, size_t n, const Scope& scope);
  /// `written = value` as a multi-column SET that computes a value which may differ when
  /// evaluated twice once per row, in a sub-SELECT both columns read:
  /// `(O, N) = (SELECT v, to_new(v) FROM (SELECT value) AS switchyard_value (v) WHERE ...)`.
  std::string computed_once(const Migration* m, WriteOp op, const std::string& written, Span value,
                            const Relation& target);
  /// The write rule over a SET list; `stops`: the keywords that end it in the text.
  void set_list_writes(PgQuery__Node* const* targets, size_t n, const Relation& target,
                       std::initializer_list<std::string_view> stops = {"from", "where",
                                                                        "returning"});
  /// `query_names`: the output names of the INSERT's query, when known.
  void insert_writes(const PgQuery__InsertStmt* ins, Relation& target, const Migration* m,
                     const Names& query_names);
  bool insert_column_names(PgQuery__Node* const* targets, size_t n, const Migration* m,
                           std::vector<std::string>* cols);
  /// The width of the rows of an INSERT without a column list; nullopt when it is not known,
  /// with `unknown` saying why (a row expanded by x.*, a query whose columns are not known).
  static std::optional<size_t> insert_width(const PgQuery__SelectStmt* sel,
                                            const Names& query_names, std::string* unknown);
  /// The token after which an INSERT's synthesized column list goes (its table and alias).
  int column_list_token(const PgQuery__InsertStmt* ins) const;
  /// Under writes = old: an INSERT without a column list gets the columns the app sees where
  /// N, hidden from `*`, would take one of its values.
  void hidden_new_column_list(const PgQuery__InsertStmt* ins, Relation& target,
                              const PgQuery__SelectStmt* sel, const Names& query_names);
  /// The first k columns as the old app sees the table, for an INSERT without a column list.
  bool first_columns(Relation& target, size_t k, std::vector<std::string>* cols);
  WriteOp insert_op(const Migration* m, const std::vector<std::string>& cols, int* io, int* in);
  void insert_edits(const Migration* m, WriteOp op, int io, int in, const InsertSite& site);
  /// An INSERT without a column list into a table with several migrations (`shared`): the
  /// migrations' insert_edits edit one list, which the put puts in the text once.
  void share_column_list(bool shared);
  void put_shared_column_list();
  /// Writes both columns from an INSERT ... query whose rows cannot be edited item by item
  /// (SELECT *, UNION): `SELECT switchyard_rows.*, <written> FROM (query) AS switchyard_rows (c1,
  /// ...)`.
  void wrapped_query_writes(const PgQuery__InsertStmt* ins, const Relation& target,
                            const Migration* m, WriteOp op, int io, int in, InsertSite& site);
  std::vector<Span> select_target_spans(const PgQuery__SelectStmt* s);

  // merge_rule.cpp
  void merge_stmt(const PgQuery__MergeStmt* mg, const Scope* outer);
  void merge_insert_writes(const PgQuery__MergeWhenClause* wc, Relation& target,
                           const Migration* m);

  // copy_rule.cpp
  void copy_stmt(const PgQuery__CopyStmt* c, const Scope* outer);

  // copy_staging.cpp
  /// Stages `COPY T (cols) FROM ...` through a temporary table, for migration `m` which the data
  /// stream cannot serve (`why`). `relation_token`: T's first token; `replace_end`: the end of
  /// the column list (or of T's name when the statement lists none).
  void stage_copy(const Migration* m, const std::string& why, Relation& rel,
                  const std::vector<std::string>& cols, int relation_token, int replace_end);

  const std::vector<Migration>& migrations_;
  const SessionContext& session_;
  // The session as the statement being analysed sees it: a SET search_path earlier in the
  // text holds for the statements after it, as it does on the server.
  SessionContext text_session_;
  const SessionContext* current_session_ = &session_;
  bool path_changed_in_text_ = false;
  // Relations DDL earlier in the text may have changed the columns of: the catalog describes
  // them as they were, so a later statement takes their columns as unknown (columns_of).
  TableDdl text_ddl_;
  // After RESET search_path, DISCARD ALL, or a transaction end behind a change, the path is the
  // session's reset value or what a rollback restores: the session learns it only once the
  // text is done, so unqualified names after it cannot be resolved.
  bool path_unknown_ = false;
  const Catalog& catalog_;
  const std::string& sql_;
  const TokenList& tokens_;
  TextEdits& edits_;
  int stmt_begin_ = 0;
  int stmt_end_ = 0;
  /// The statement's index among the text's statements (before any staged COPY adds some).
  int statement_ordinal_ = -1;
  /// COPY FROM STDIN statements met so far in the text.
  int copies_in_ = 0;
  std::set<const PgQuery__ColumnRef*> rewritten_;
  /// The names of alias column lists over mapped tables: a reference by one of them may read O.
  std::set<std::string, std::less<>> mapped_alias_names_;
  /// A relation was wrapped for USING: system columns and schema-qualified references are
  /// checked too (the subquery has neither).
  bool wrapped_any_ = false;
  /// A `*` reports its names even when no migration reads the new column (an INSERT without a
  /// column list needs its query's width).
  bool star_names_wanted_ = false;
  /// An INSERT without a column list into a table with several migrations: the list they all
  /// edit, put in the text once, where `at` says, after the last one (each putting its own
  /// there would give the INSERT two lists).
  struct SharedColumnList {
    std::vector<std::string> cols;
    int at = -1;
  };
  std::optional<SharedColumnList> shared_list_;
  /// `t.*` written as a function's argument: the whole row, not a column list.
  std::set<const PgQuery__ColumnRef*> whole_row_stars_;
  /// `t.*` written as an argument of ROW(...): t's columns, not the whole row.
  std::set<const PgQuery__ColumnRef*> row_stars_;
  /// Arguments of num_nulls()/num_nonnulls(): a whole row there is not a read of its fields.
  std::set<const PgQuery__ColumnRef*> nullness_args_;
  /// True while walking a value whose type reaches the client: a select or RETURNING target,
  /// and what must match one (GROUP BY, HAVING, window and ORDER BY of a grouped select, ORDER
  /// BY under SELECT DISTINCT). A read served from a new column of another type is cast back to
  /// the old one there, so that a result keeps the type the client was told (`n + 1` an int4,
  /// `sum(n)` a bigint, not an int8 and a numeric).
  bool in_output_ = false;
  /// min(O)/max(O) in an output: O is read bare and the call is cast back instead, so that an
  /// index on N still serves it. The argument being walked, and its migration once it was read
  /// from N that way.
  const PgQuery__ColumnRef* aggregate_arg_ = nullptr;
  const Migration* aggregate_cast_ = nullptr;
  /// A bare name being walked as a whole ORDER BY or DISTINCT ON item, which Postgres matches
  /// to an output name before an input column, and the select's output names.
  const PgQuery__ColumnRef* sort_name_ = nullptr;
  const std::vector<std::string>* sort_outputs_ = nullptr;
};

/// Smallest `location` in the subtree of `node` (-1 if none): where an expression starts, up to
/// leading parentheses.
int min_location(const ProtobufCMessage* msg);

/// The columns of a function in FROM when known without the catalog (function_columns.cpp).
Names function_columns(const PgQuery__RangeFunction* rf);
/// The function whose catalog entry tells the columns of `rf` when the above cannot: a plain
/// call without a column definition list (schema "" when unqualified); nullopt for the rest.
std::optional<QualifiedName> catalog_function(const PgQuery__RangeFunction* rf);
/// The function a call names (schema "" when unqualified).
QualifiedName called_name(const PgQuery__FuncCall* fc);
/// The functions of ROWS FROM's several calls whose columns only the catalog tells.
std::vector<QualifiedName> rows_from_functions(const PgQuery__RangeFunction* rf);
/// The columns of `rf` from what the catalog says `catalog_function(rf)` gives in FROM.
Names function_columns(const PgQuery__RangeFunction* rf, const FunctionOutput& output);

/// A value whose type the server takes from where it is written: $n, NULL, 'string'.
bool is_untyped(const Node* node);

/// `DEFAULT` as a written value.
bool is_default(const Node* node);
/// `x.*` or `(expr).*` as a value: one item of the text that Postgres expands into several
/// columns, so a count of items is not the count of columns written or returned.
bool expands_a_row(const Node* node);
inline constexpr const char* kRowExpansionWithoutList =
    "an INSERT without a column list whose VALUES expand a row (x.* or (x).*, whose columns "
    "the text does not show; name the columns)";
/// A VALUES row of a statement that lists both of migration `m`'s columns (at `io` and `in`)
/// writes one of them alone, under writes = both, when exactly one of its two items is DEFAULT.
bool defaults_one(const Migration* m, PgQuery__Node* const* row, size_t n, int io, int in);

/// Postgres' FigureColname for a target without alias (output_name.cpp).
std::string figure_colname(const Node* node);

/// True if a target column list (INSERT, UPDATE SET, COPY FROM) names a column twice without
/// a field or subscript. Postgres refuses such a list; the write rules leave it as written so
/// that it still does, instead of turning it into a valid statement that writes the wrong column.
bool names_a_column_twice(PgQuery__Node* const* targets, size_t n);
bool names_a_column_twice(const std::vector<std::string>& columns);

/// The column reference that gives a target its output name, or null.
const PgQuery__ColumnRef* name_giving_colref(const Node* node);

}  // namespace switchyard::rewrite::detail
