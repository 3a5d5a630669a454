#include "backfill/old_column_users.hpp"

namespace switchyard::backfill {
namespace {

// A view's or materialized view's query is its "_RETURN" rule; people know it by the view.
std::string shorter(std::string description) {
  constexpr std::string_view kViewRule = "rule _RETURN on ";
  if (description.starts_with(kViewRule)) {
    description.erase(0, kViewRule.size());
  }
  return description;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

constexpr int kMaxFunctionsNamed = 10;

// Functions that may write the old column behind the proxy: their source names the column and
// either the table or, for a trigger function on the table, nothing more (it writes NEW.col).
constexpr const char* kFunctionsQuery =
    "SELECT p.oid::regprocedure::text, "
    "       (SELECT string_agg(t.tgname, ', ' ORDER BY t.tgname) FROM pg_catalog.pg_trigger t "
    "        WHERE t.tgfoid = p.oid AND t.tgrelid = c.oid AND NOT t.tgisinternal) "
    "FROM pg_catalog.pg_proc p "
    "JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace "
    "JOIN pg_catalog.pg_language l ON l.oid = p.prolang "
    "CROSS JOIN pg_catalog.pg_class c "
    "JOIN pg_catalog.pg_namespace s ON s.oid = c.relnamespace "
    "WHERE s.nspname = $1 AND c.relname = $2 "
    "  AND pn.nspname NOT IN ('pg_catalog', 'information_schema') "
    "  AND l.lanname NOT IN ('c', 'internal') "
    "  AND p.prosrc ~* $3 "
    "  AND (p.prosrc ~* $4 OR EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t "
    "       WHERE t.tgfoid = p.oid AND t.tgrelid = c.oid AND NOT t.tgisinternal)) "
    "ORDER BY 1";

/// Appends the first column of a catalog query's rows to `out`; the error to return when the
/// query failed.
std::optional<std::string> first_column_into(const std::variant<PgResult, DbError>& result,
                                             std::string_view what, std::vector<std::string>& out) {
  if (const auto* error = std::get_if<DbError>(&result)) {
    return "catalog query for " + std::string(what) +
           " over the old column failed: " + error->message;
  }
  const auto& rows = std::get<PgResult>(result);
  for (int r = 0; r < rows.rows(); ++r) {
    out.push_back(rows.text(r, 0));
  }
  return std::nullopt;
}

}  // namespace

std::string word_pattern(std::string_view name) {
  std::string out = "\\m";
  for (char c : name) {
    if (std::string_view("\\.^$|?*+()[]{}").find(c) != std::string_view::npos) {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  return out + "\\M";
}

std::variant<OldColumnUsers, std::string> find_old_column_users(PgConnection& connection,
                                                                const TableSpec& spec) {
  // Normal dependencies only: an index or a column default on the old column is automatic
  // (dropped with it) and harmless; a CHECK constraint has both kinds. A foreign key that
  // references the old column has one too, but is told of with the ones over it (below). A view
  // shows the old column when an output column of its query has the column as its origin (the
  // origin a RowDescription reports, stored in the view's rule as resorigtbl and resorigcol); a
  // view that only filters on it cannot write it. Bits 4 and 8 of pg_relation_is_updatable are
  // UPDATE and INSERT; without triggers and rules, since what an INSTEAD OF trigger writes is its
  // function's business (the functions below are looked for apart).
  auto found = connection.exec(
      "SELECT DISTINCT pg_catalog.pg_describe_object(d.classid, d.objid, 0), "
      "       a.attnotnull AND NOT a.atthasdef, "
      "       COALESCE((SELECT v.relkind = 'v' "
      "                    AND (pg_catalog.pg_relation_is_updatable(v.oid, false) & 12) <> 0 "
      "                    AND strpos(r.ev_action::text, ' :resorigtbl ' || c.oid || "
      "                               ' :resorigcol ' || a.attnum || ' ') > 0 "
      "                 FROM pg_catalog.pg_rewrite r "
      "                 JOIN pg_catalog.pg_class v ON v.oid = r.ev_class "
      "                 WHERE d.classid = 'pg_catalog.pg_rewrite'::regclass "
      "                   AND r.oid = d.objid), false) "
      "FROM pg_catalog.pg_attribute a "
      "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
      "JOIN pg_catalog.pg_namespace s ON s.oid = c.relnamespace "
      "LEFT JOIN pg_catalog.pg_depend d ON d.refclassid = 'pg_catalog.pg_class'::regclass "
      "     AND d.refobjid = c.oid AND d.refobjsubid = a.attnum AND d.deptype = 'n' "
      "     AND d.classid IN ('pg_catalog.pg_rewrite'::regclass, 'pg_catalog.pg_proc'::regclass, "
      "                       'pg_catalog.pg_policy'::regclass, "
      "                       'pg_catalog.pg_constraint'::regclass) "
      "     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k "
      "                     WHERE d.classid = 'pg_catalog.pg_constraint'::regclass "
      "                       AND k.oid = d.objid AND k.contype = 'f') "
      "WHERE s.nspname = $1 AND c.relname = $2 AND a.attname = $3 AND NOT a.attisdropped "
      "ORDER BY 1",
      {spec.schema, spec.table, spec.old_column});
  if (auto* error = std::get_if<DbError>(&found)) {
    return "catalog query for what uses the old column failed: " + error->message;
  }
  OldColumnUsers users;
  const auto& rows = std::get<PgResult>(found);
  for (int r = 0; r < rows.rows(); ++r) {
    users.not_null_without_default = rows.text(r, 1) == "t";
    if (!rows.is_null(r, 0)) {
      users.objects.push_back(shorter(rows.text(r, 0)));
      if (rows.text(r, 2) == "t") {
        users.writable_views.push_back(users.objects.back());
      }
    }
  }
  // A unique index is an automatic dependency of its columns (dropped with them), so pg_depend
  // above leaves it out. Its counterpart is a unique index whose key is the same with the new
  // column in the old one's place; expression indexes are not compared.
  auto unique = connection.exec(
      "SELECT i.indexrelid::pg_catalog.regclass::text "
      "FROM pg_catalog.pg_index i "
      "JOIN pg_catalog.pg_class c ON c.oid = i.indrelid "
      "JOIN pg_catalog.pg_namespace s ON s.oid = c.relnamespace "
      "JOIN pg_catalog.pg_attribute o ON o.attrelid = c.oid AND o.attname = $3 "
      "JOIN pg_catalog.pg_attribute n ON n.attrelid = c.oid AND n.attname = $4 "
      "WHERE s.nspname = $1 AND c.relname = $2 AND i.indisunique AND i.indexprs IS NULL "
      "  AND o.attnum = ANY (i.indkey::pg_catalog.int2[]) "
      "  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_index j "
      "                  WHERE j.indrelid = i.indrelid AND j.indisunique "
      "                    AND j.indexprs IS NULL AND j.indkey::pg_catalog.int2[] = "
      "                        pg_catalog.array_replace(i.indkey::pg_catalog.int2[], "
      "                                                 o.attnum, n.attnum)) "
      "ORDER BY 1",
      {spec.schema, spec.table, spec.old_column, spec.new_column});
  if (auto error = first_column_into(unique, "unique indexes", users.unique_indexes)) {
    return *error;
  }
  // Either side of a foreign key; the clones Postgres keeps on partitions (conparentid) are
  // the same key. Its counterpart has the new column where this one has the old.
  auto foreign = connection.exec(
      "SELECT k.conname || ' on ' || k.conrelid::pg_catalog.regclass::text "
      "FROM pg_catalog.pg_constraint k "
      "JOIN pg_catalog.pg_attribute o ON o.attrelid = pg_catalog.to_regclass($1) "
      "     AND o.attname = $2 AND NOT o.attisdropped "
      "LEFT JOIN pg_catalog.pg_attribute n ON n.attrelid = o.attrelid AND n.attname = $3 "
      "     AND NOT n.attisdropped "
      "WHERE k.contype = 'f' AND k.conparentid = 0 "
      "  AND ((k.conrelid = o.attrelid AND o.attnum = ANY (k.conkey)) "
      "       OR (k.confrelid = o.attrelid AND o.attnum = ANY (k.confkey))) "
      "  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint j "
      "                  WHERE j.contype = 'f' AND j.conrelid = k.conrelid "
      "                    AND j.confrelid = k.confrelid "
      "                    AND j.conkey = CASE WHEN k.conrelid = o.attrelid "
      "                        THEN pg_catalog.array_replace(k.conkey, o.attnum, n.attnum) "
      "                        ELSE k.conkey END "
      "                    AND j.confkey = CASE WHEN k.confrelid = o.attrelid "
      "                        THEN pg_catalog.array_replace(k.confkey, o.attnum, n.attnum) "
      "                        ELSE k.confkey END) "
      "ORDER BY 1",
      {qualified_name(spec), spec.old_column, spec.new_column});
  if (auto error = first_column_into(foreign, "foreign keys", users.foreign_keys)) {
    return *error;
  }
  // Partitioned tables among the table and its descendants. Postgres records each column of a
  // partition key, and each one a key expression reads, as an internal dependency of the table
  // on itself (StorePartitionKey).
  auto partitioned = connection.exec(
      "WITH RECURSIVE covered (rel) AS ("
      "  SELECT pg_catalog.to_regclass($1)::oid "
      "  UNION SELECT i.inhrelid FROM pg_catalog.pg_inherits i JOIN covered c "
      "        ON i.inhparent = c.rel) "
      "SELECT c.rel::pg_catalog.regclass::text FROM covered c "
      "JOIN pg_catalog.pg_partitioned_table p ON p.partrelid = c.rel "
      "JOIN pg_catalog.pg_attribute a ON a.attrelid = c.rel AND a.attname = $2 "
      "     AND NOT a.attisdropped "
      "WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_depend d "
      "              WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.rel "
      "                AND d.objsubid = a.attnum AND d.refclassid = d.classid "
      "                AND d.refobjid = c.rel AND d.refobjsubid = 0 AND d.deptype = 'i') "
      "ORDER BY 1",
      {qualified_name(spec), spec.old_column});
  if (auto error = first_column_into(partitioned, "partition keys", users.partition_keys)) {
    return *error;
  }
  auto functions = connection.exec(
      kFunctionsQuery,
      {spec.schema, spec.table, word_pattern(spec.old_column), word_pattern(spec.table)});
  if (auto* error = std::get_if<DbError>(&functions)) {
    return "catalog query for functions that name the old column failed: " + error->message;
  }
  const auto& named = std::get<PgResult>(functions);
  for (int r = 0; r < named.rows() && r < kMaxFunctionsNamed; ++r) {
    users.functions.push_back(named.text(r, 0) +
                              (named.is_null(r, 1) ? "" : " (trigger " + named.text(r, 1) + ")"));
  }
  if (named.rows() > kMaxFunctionsNamed) {
    users.functions.push_back("and " + std::to_string(named.rows() - kMaxFunctionsNamed) + " more");
  }
  return users;
}

std::string explain_writable_views(const TableSpec& spec, const OldColumnUsers& users,
                                   config::Writes writes) {
  if (users.writable_views.empty() || writes == config::Writes::old_column) {
    return "";
  }
  const std::string& o = spec.old_column;
  const std::string& n = spec.new_column;
  std::string list;
  for (const auto& view : users.writable_views) {
    list += (list.empty() ? "" : ", ") + view;
  }
  // Recreating the view on the new column would only move the drift to the old one while both
  // are written; once only the new one is, it is the fix.
  return "An INSERT or UPDATE through " + list + " that sets " + o +
         " is not rewritten (it names the view, not the table): it sets " + o + " alone, " +
         (writes == config::Writes::both
              ? "and " + n +
                    " drifts for those rows (switchyard verify counts them). Send those "
                    "writes to the table while both columns are written."
              : "and reads, which come from " + n + ", never see it. Recreate the view on " + n +
                    ", or send those writes to the table.");
}

std::string explain_old_column_users(const TableSpec& spec, const OldColumnUsers& users,
                                     config::Writes writes, bool include_guesses) {
  const std::string& o = spec.old_column;
  const std::string& n = spec.new_column;
  const bool writing_new_only = writes == config::Writes::new_column;
  std::string out;
  if (!users.objects.empty()) {
    for (std::size_t i = 0; i < users.objects.size(); ++i) {
      out += (i == 0 ? "" : ", ") + users.objects[i];
    }
    out += (users.objects.size() == 1 ? " uses " : " use ") + o +
           ". The server runs them, so the proxy rewrites none of them, and writes through an "
           "updatable view fill " +
           o + " only.";
    if (std::string views = explain_writable_views(spec, users, writes); !views.empty()) {
      out += "\n" + views;
    }
    out += writing_new_only
               ? "\n" + o + " is no longer written: they read stale values now. Recreate them on " +
                     n + ", or go back to writes = \"both\"."
               : "\nRight while writes = \"both\" keeps " + o + " current; recreate them on " + n +
                     " before writes = \"new\".";
  }
  if (users.not_null_without_default) {
    const std::string fix = "ALTER TABLE " + qualified_name(spec) + " ALTER COLUMN " +
                            quote_ident(spec.old_column) + " DROP NOT NULL";
    out += (out.empty() ? "" : "\n") + o + " is NOT NULL without a default: " +
           (writing_new_only ? "under writes = \"new\" every INSERT leaves it out and fails. "
                             : "writes = \"new\" would make every INSERT leave it out and fail. "
                               "Before that step: ") +
           fix;
  }
  if (!users.unique_indexes.empty()) {
    std::string list;
    for (const auto& index : users.unique_indexes) {
      list += (list.empty() ? "" : ", ") + index;
    }
    out += (out.empty() ? "" : "\n") + std::string("unique index ") + list + " over " + o +
           " has no counterpart over " + n + ": " +
           (writing_new_only ? "under writes = \"new\" rows leave " + o +
                                   " out, and nothing keeps " + n + " unique now (an upsert on " +
                                   o + " infers " + n + "'s index and fails without one). "
                             : "once writes = \"new\" leaves " + o + " out, nothing would keep " +
                                   n + " unique. Before that step: ") +
           "CREATE UNIQUE INDEX CONCURRENTLY over the same columns with " + n + " in place of " +
           o + ".";
  }
  if (!users.foreign_keys.empty()) {
    out += (out.empty() ? "" : "\n") + std::string("foreign key ") + joined(users.foreign_keys) +
           " over " + o + " has no counterpart over " + n + ": " +
           (writing_new_only
                ? "under writes = \"new\" rows leave " + o + " out, and the server checks no " +
                      "reference of theirs now (a row may point at nothing, or not be found by " +
                      "a referencing row's ON DELETE). "
                : "once writes = \"new\" leaves " + o + " out, the server would check no " +
                      "reference of the rows written. Before that step: ") +
           "recreate it on " + n + ": ADD FOREIGN KEY ... NOT VALID, then VALIDATE CONSTRAINT.";
  }
  if (!users.partition_keys.empty()) {
    out += (out.empty() ? "" : "\n") + joined(users.partition_keys) +
           (users.partition_keys.size() == 1 ? " is" : " are") + " partitioned by " + o + ": " +
           (writing_new_only ? "under writes = \"new\" rows leave " + o +
                                   " out, so the server routes them by NULL (to the default "
                                   "partition, or refuses them); "
                             : "") +
           "a partition key column cannot be migrated with writes = \"new\" (nor dropped): keep "
           "writes = \"both\".";
  }
  if (include_guesses && !users.functions.empty()) {
    std::string list;
    for (const auto& f : users.functions) {
      list += (list.empty() ? "" : ", ") + f;
    }
    out += (out.empty() ? "" : "\n") + std::string("functions whose source names ") + o + ": " +
           list + ". The proxy never sees what they run: if they write " + o +
           ", they write it alone (drift verify will find); if they read it, " +
           (writing_new_only ? "they read stale values now."
                             : "they will read stale values once writes = \"new\".");
  }
  return out;
}

}  // namespace switchyard::backfill
