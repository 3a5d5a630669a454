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

}  // namespace

std::variant<OldColumnUsers, std::string> find_old_column_users(PgConnection& connection,
                                                                const TableSpec& spec) {
  // Normal dependencies only: an index or a column default on the old column is automatic
  // (dropped with it) and harmless; a CHECK constraint has both kinds.
  auto found = connection.exec(
      "SELECT DISTINCT pg_catalog.pg_describe_object(d.classid, d.objid, 0), "
      "       a.attnotnull AND NOT a.atthasdef "
      "FROM pg_catalog.pg_attribute a "
      "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
      "JOIN pg_catalog.pg_namespace s ON s.oid = c.relnamespace "
      "LEFT JOIN pg_catalog.pg_depend d ON d.refclassid = 'pg_catalog.pg_class'::regclass "
      "     AND d.refobjid = c.oid AND d.refobjsubid = a.attnum AND d.deptype = 'n' "
      "     AND d.classid IN ('pg_catalog.pg_rewrite'::regclass, 'pg_catalog.pg_proc'::regclass, "
      "                       'pg_catalog.pg_policy'::regclass, "
      "                       'pg_catalog.pg_constraint'::regclass) "
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
    }
  }
  return users;
}

std::string explain_old_column_users(const TableSpec& spec, const OldColumnUsers& users,
                                     config::Writes writes) {
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
  return out;
}

}  // namespace switchyard::backfill
