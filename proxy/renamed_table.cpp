#include "proxy/renamed_table.hpp"

#include <algorithm>

#include "config/identifier.hpp"
#include "rewrite/sql_text.hpp"

namespace switchyard::proxy {
namespace {

// The OID of the relation `before`'s rules applied migration `name` to (not one of its
// descendants'), 0 if it had none.
std::uint32_t oid_before(const std::string& name, const DatabaseRewrite& before) {
  for (const auto& rule : before.rewriter->migrations()) {
    const rewrite::QualifiedName table{rule.schema, rule.table};
    if (rule.name != name ||
        std::find(before.migration_tables.begin(), before.migration_tables.end(), table) ==
            before.migration_tables.end()) {
      continue;
    }
    for (const auto& relation : before.mapped_relations) {
      if (relation.name == table) {
        return relation.oid;
      }
    }
  }
  return 0;
}

}  // namespace

std::variant<std::optional<ConfigWarning>, std::string> follow_renamed_table(
    config::Migration& m, const DatabaseRewrite* before, backfill::PgConnection& connection) {
  const std::uint32_t oid = before != nullptr ? oid_before(m.name, *before) : 0;
  if (oid == 0) {
    return std::nullopt;
  }
  // A row only when the config's name is free: a table created under it since is the one the
  // config means.
  auto found = connection.exec(
      "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c "
      "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
      "WHERE c.oid = $1::pg_catalog.oid AND c.relkind IN ('r', 'p') AND NOT EXISTS ("
      "SELECT FROM pg_catalog.pg_class c2 "
      "JOIN pg_catalog.pg_namespace n2 ON n2.oid = c2.relnamespace "
      "WHERE n2.nspname = $2 AND c2.relname = $3)",
      {std::to_string(oid), config::identifier_name(m.schema), config::identifier_name(m.table)});
  if (auto* error = std::get_if<backfill::DbError>(&found)) {
    return "looking up the relation of migration \"" + m.name + "\" (OID " + std::to_string(oid) +
           "): " + error->message;
  }
  const auto& rows = std::get<backfill::PgResult>(found);
  if (rows.rows() == 0) {
    return std::nullopt;
  }
  const std::string was = m.schema + "." + m.table;
  m.schema = rewrite::detail::quote_ident(rows.text(0, 0));
  m.table = rewrite::detail::quote_ident(rows.text(0, 1));
  const std::string now = m.schema + "." + m.table;
  return ConfigWarning{
      m.name, "table " + was + " was renamed to " + now + " (the same relation, OID " +
                  std::to_string(oid) +
                  "): the rules follow it under its new name while this "
                  "process runs; set table = \"" +
                  now + "\" in the migration and reload, or a restart fails to find " + was};
}

}  // namespace switchyard::proxy
