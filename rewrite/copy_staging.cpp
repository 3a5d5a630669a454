// A COPY FROM whose rows the proxy cannot rewrite on the data stream (a to_new/to_old transform,
// a binary field no byte conversion serves, a WHERE or FORCE_* option, a server-side file) is
// staged through a temporary table, so that the server applies the write rule as for an INSERT:
//
//   CREATE TEMP TABLE "T (switchyard staging)" (<the COPY's columns and types>) ON COMMIT DROP;
//   COPY pg_temp."T (switchyard staging)" (<columns>) FROM STDIN <its options and WHERE>;
//   INSERT INTO <T> (<columns>) OVERRIDING SYSTEM VALUE SELECT copied.<column>, ...
//     FROM pg_temp."T (switchyard staging)" AS copied;           -- and rewritten
//   DROP TABLE pg_temp."T (switchyard staging)"
//
// The staging table's name is what a bad row's error names ("COPY accounts (switchyard
// staging), line 2, column id: ..."), so it says which table the row was for and why the name
// differs; it cannot shadow a table the app names (it has a space).
//
// One simple Query runs them in one transaction: an error anywhere leaves nothing written. The
// data rows go to the staging table as the client sent them, so every format and option works
// as on T; the INSERT is rewritten by the engine's own INSERT ... SELECT rule. Only the INSERT's
// CommandComplete reaches the client, told as "COPY n".

#include <algorithm>

#include "rewrite/analyzer.hpp"
#include "rewrite/rewriter.hpp"
#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite::detail {

namespace {

// Postgres truncates a longer name (with a NOTICE the client would see).
constexpr std::size_t kMaxIdentifierBytes = 63;

std::string staging_name(const std::string& table) {
  const std::string named = table + " (switchyard staging)";
  return named.size() <= kMaxIdentifierBytes ? named : "switchyard staging";
}

// The type of `column` for the staging table: the catalog's, else a migration's (O or N that
// the catalog does not list yet or any more).
std::optional<std::string> staging_type(const std::string& column,
                                        const std::vector<std::string>& catalog_columns,
                                        const std::vector<ColumnDetail>& details,
                                        const std::vector<const Migration*>& migrations) {
  const auto at = std::find(catalog_columns.begin(), catalog_columns.end(), column);
  if (at != catalog_columns.end()) {
    const std::string& type = details[static_cast<std::size_t>(at - catalog_columns.begin())].type;
    return type.empty() ? std::nullopt : std::optional<std::string>(type);
  }
  for (const Migration* m : migrations) {
    if (column == m->old_column && !m->old_type.empty()) {
      return m->old_type;
    }
    if (column == m->new_column && !m->new_type.empty()) {
      return m->new_type;
    }
  }
  return std::nullopt;
}

}  // namespace

void Analyzer::stage_copy(const Migration* m, const std::string& why, Relation& rel,
                          const std::vector<std::string>& cols, int relation_token,
                          int replace_end) {
  const auto catalog_cols = catalog_.columns(*rel.qname);
  const auto details = catalog_.column_details(*rel.qname);
  if (!catalog_cols || !details || details->size() != catalog_cols->size()) {
    unsupported(m,
                "COPY FROM staged through a temporary table, without the column types from "
                "the catalog,");
    return;
  }
  std::string definitions;
  std::string names;
  std::string values;  // qualified: the engine needs no catalog for the staging table's names
  for (const std::string& col : cols) {
    const auto type = staging_type(col, *catalog_cols, *details, rel.migrations);
    if (!type && col == m->old_column) {
      // O is gone and its type with it (a proxy started after the drop): the config names it.
      involved.insert(m);
      problems.push_back(Problem{
          m, "migration \"" + m->name + "\": a COPY FROM staged through a temporary table (" + why +
                 ") needs the type " + col + " had, gone with it from " + rel.qname->schema + "." +
                 rel.qname->table + ": add old_type = \"<the type " + col +
                 " had>\" to the migration and reload"});
      return;
    }
    if (!type) {
      unsupported(m, "COPY FROM naming column \"" + col +
                         "\", which the catalog does not list in " + rel.qname->schema + "." +
                         rel.qname->table + ",");
      return;
    }
    definitions += (definitions.empty() ? "" : ", ") + quote_ident(col) + " " + *type;
    names += (names.empty() ? "" : ", ") + quote_ident(col);
    values += (values.empty() ? "" : ", ") + std::string("copied.") + quote_ident(col);
  }
  // The proxy follows the answers of a text's first 64 statements (a bit each).
  if (statement_ordinal_ + added_statements + 3 >= 64) {
    unsupported(m,
                "a COPY FROM staged as the 62nd or a later statement of one query text (the "
                "proxy follows its first 64 answers, and staging adds three)");
    return;
  }
  const int copy_token = tokens_.index_from(stmt_begin_);
  int last_token = tokens_.index_before(stmt_end_);
  if (last_token >= 0 && tokens_.is_char(last_token, ';')) {
    --last_token;
  }
  if (copy_token >= tokens_.size() || !tokens_.is_keyword(copy_token, "copy") || last_token < 0) {
    unsupported(m, "a COPY FROM whose statement cannot be located in the text");
    return;
  }
  const Token& relation_start = tokens_.at(relation_token);
  const std::string relation_text =
      sql_.substr(static_cast<std::size_t>(relation_start.start),
                  static_cast<std::size_t>(tokens_.at(tokens_.dotted_name_end(relation_token)).end -
                                           relation_start.start));

  const std::string name = staging_name(rel.qname->table);
  const std::string staging = "pg_temp." + quote_ident(name);
  // The INSERT that moves the rows goes through the write rule like any INSERT ... SELECT.
  const std::string insert = "INSERT INTO " + relation_text + " (" + names +
                             ") OVERRIDING SYSTEM VALUE SELECT " + values + " FROM " + staging +
                             " AS copied";
  // A type change without a transform converts as the COPY would read the field's text: by an
  // explicit cast, since the staged value is typed (an INSERT of a column has no assignment
  // cast from text to a number), but one that refuses a value too long as the COPY would.
  std::vector<Migration> rules = migrations_;
  for (Migration& rule : rules) {
    if (rule.types_differ() && !rule.new_type.empty()) {
      if (rule.to_new.empty()) {
        rule.to_new = assigned_as("{value}", rule.new_type, false);
      }
      if (rule.to_old.empty()) {
        rule.to_old = assigned_as("{value}", rule.old_type, false);
      }
    }
  }
  const RewriteResult moved =
      Rewriter(std::move(rules)).rewrite(insert, *current_session_, catalog_);
  switch (moved.outcome) {
    case Outcome::needs_catalog:
      for (const QualifiedName& q : moved.missing) {
        if (std::find(missing.begin(), missing.end(), q) == missing.end()) {
          missing.push_back(q);
        }
      }
      missing_functions.insert(missing_functions.end(), moved.missing_functions.begin(),
                               moved.missing_functions.end());
      return;
    case Outcome::rejected:
    case Outcome::passthrough_unsupported:
      involved.insert(m);
      problems.push_back(Problem{m, moved.reason + " (in the INSERT a staged COPY runs)"});
      return;
    case Outcome::unchanged:
      unsupported(m, "a staged COPY whose INSERT the write rule leaves unchanged");
      return;
    case Outcome::rewritten:
      break;
  }
  for (const MigrationUse& moved_use : moved.uses) {
    for (const Migration* mm : rel.migrations) {
      if (mm->name == moved_use.migration) {
        MigrationUse& u = use(mm);
        u.writes_of_old += moved_use.writes_of_old;
        u.writes_of_new += moved_use.writes_of_new;
        u.rewritten = u.rewritten || moved_use.rewritten;
      }
    }
  }
  const bool ok =
      edits_.insert(tokens_.at(copy_token).start, "CREATE TEMP TABLE " + quote_ident(name) + " (" +
                                                      definitions + ") ON COMMIT DROP; ") &&
      edits_.replace(relation_start.start, replace_end, staging + " (" + names + ")") &&
      edits_.insert(tokens_.at(last_token).end, "; " + moved.sql + "; DROP TABLE " + staging);
  if (!ok) {
    unsupported(nullptr, "overlapping rewrites in COPY");
    return;
  }
  // This statement's CommandCompletes: CREATE, COPY (hidden), INSERT (told as COPY), DROP.
  const int first = statement_ordinal_ + added_statements;
  hidden_statements.insert(hidden_statements.end(), {first, first + 1, first + 3});
  copy_count_statements.push_back(first + 2);
  added_statements += 3;
  staged_passthrough = staged_passthrough && !m->reject_unsupported;
  if (staged_because.empty()) {
    staged_because = "migration \"" + m->name + "\": COPY FROM " + why;
  }
}

}  // namespace switchyard::rewrite::detail
