#include "proxy/column_privileges.hpp"

#include <string>
#include <variant>

namespace switchyard::proxy {

std::optional<ConfigWarning> column_privileges_warning(const config::Migration& m,
                                                       backfill::PgConnection& connection) {
  // has_column_privilege counts the table's privileges and role membership, so only what the
  // new column really lacks is named. Grantee 0 is PUBLIC.
  auto result = connection.exec(
      "WITH t AS (SELECT to_regclass(format('%I.%I', $1::text, $2::text)) AS rel), "
      "o AS (SELECT DISTINCT CASE WHEN e.grantee = 0 THEN 'public' "
      "ELSE pg_get_userbyid(e.grantee)::text END AS role, e.privilege_type AS privilege "
      "FROM t JOIN pg_attribute a ON a.attrelid = t.rel "
      "CROSS JOIN LATERAL aclexplode(a.attacl) e "
      "WHERE a.attname = $3 AND NOT a.attisdropped) "
      "SELECT o.role, format('GRANT %s (%I) ON %I.%I TO %s', "
      "string_agg(o.privilege, ', ' ORDER BY o.privilege), $4::text, $1::text, $2::text, "
      "CASE o.role WHEN 'public' THEN 'PUBLIC' ELSE quote_ident(o.role) END) "
      "FROM o, t WHERE NOT has_column_privilege(o.role, t.rel, $4, o.privilege) "
      "GROUP BY o.role ORDER BY o.role LIMIT 10",
      {m.schema, m.table, m.old_column, m.new_column});
  const auto* rows = std::get_if<backfill::PgResult>(&result);
  if (rows == nullptr || rows->rows() == 0) {
    return std::nullopt;
  }
  std::string roles;
  std::string grants;
  for (int i = 0; i < rows->rows(); ++i) {
    roles += (i == 0 ? "" : ", ") + rows->text(i, 0);
    grants += (i == 0 ? "" : "; ") + rows->text(i, 1);
  }
  return ConfigWarning{
      m.name, "roles granted privileges on column " + m.old_column + " that " + m.new_column +
                  " lacks (" + roles + "): once the proxy rewrites their statements to " +
                  m.new_column + " they fail with \"permission denied for table " + m.table +
                  "\". Grant on the new column what was granted on the old one: " + grants};
}

}  // namespace switchyard::proxy
