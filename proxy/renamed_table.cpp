#include "proxy/renamed_table.hpp"

#include <algorithm>
#include <string_view>
#include <utility>

#include "config/identifier.hpp"
#include "rewrite/sql_text.hpp"

namespace switchyard::proxy {
namespace {

// The OID of the relation `before`'s rules applied `m` to (not one of its descendants'), 0 if
// it had none or if its config named another table then: that edit maps a new relation.
std::uint32_t oid_before(const config::Migration& m, const DatabaseRewrite& before) {
  const auto configured = before.configured_tables.find(m.name);
  if (configured == before.configured_tables.end() ||
      configured->second != rewrite::QualifiedName{config::identifier_name(m.schema),
                                                   config::identifier_name(m.table)}) {
    return 0;
  }
  for (const auto& rule : before.rewriter->migrations()) {
    const rewrite::QualifiedName table{rule.schema, rule.table};
    if (rule.name != m.name ||
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

// What a text would call a relation of pg_class.relkind `kind`.
std::string relation_kind(std::string_view kind) {
  static constexpr std::pair<std::string_view, std::string_view> kKinds[] = {
      {"r", "a table"},         {"p", "a partitioned table"},
      {"v", "a view"},          {"m", "a materialized view"},
      {"i", "an index"},        {"I", "a partitioned index"},
      {"S", "a sequence"},      {"f", "a foreign table"},
      {"c", "a composite type"}};
  for (const auto& [code, word] : kKinds) {
    if (code == kind) {
      return std::string(word);
    }
  }
  return "a relation";
}

}  // namespace

std::variant<FollowedTable, std::string> follow_renamed_table(config::Migration& m,
                                                              const DatabaseRewrite* before,
                                                              backfill::PgConnection& connection) {
  const std::uint32_t oid = before != nullptr ? oid_before(m, *before) : 0;
  if (oid == 0) {
    return FollowedTable{};
  }
  auto found = connection.exec(
      "SELECT n.nspname, c.relname, c2.oid::pg_catalog.text, c2.relkind::pg_catalog.text "
      "FROM pg_catalog.pg_class c "
      "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
      "LEFT JOIN (pg_catalog.pg_class c2 "
      "JOIN pg_catalog.pg_namespace n2 ON n2.oid = c2.relnamespace) "
      "ON n2.nspname = $2 AND c2.relname = $3 "
      "WHERE c.oid = $1::pg_catalog.oid AND c.relkind IN ('r', 'p')",
      {std::to_string(oid), config::identifier_name(m.schema), config::identifier_name(m.table)});
  if (auto* error = std::get_if<backfill::DbError>(&found)) {
    return "looking up the relation of migration \"" + m.name + "\" (OID " + std::to_string(oid) +
           "): " + error->message;
  }
  const auto& rows = std::get<backfill::PgResult>(found);
  if (rows.rows() == 0 || rows.text(0, 2) == std::to_string(oid)) {
    return FollowedTable{};
  }
  const std::string was = m.schema + "." + m.table;
  const std::string was_name = config::identifier_name(m.table);
  m.schema = rewrite::detail::quote_ident(rows.text(0, 0));
  m.table = rewrite::detail::quote_ident(rows.text(0, 1));
  const std::string now = m.schema + "." + m.table;
  FollowedTable out;
  if (rows.is_null(0, 2)) {
    out.warning = ConfigWarning{
        m.name, "table " + was + " was renamed to " + now + " (the same relation, OID " +
                    std::to_string(oid) +
                    "): the rules follow it under its new name while this "
                    "process runs; set table = \"" +
                    now + "\" in the migration and reload, or a restart fails to find " + was};
    return out;
  }
  // A swap of names, a compatibility view under the old name, another migration's table renamed
  // onto it: moving the rules would leave the relation the migration has written unmapped.
  const std::string reason =
      "table " + was + " was renamed to " + now + " (the migration's relation, OID " +
      std::to_string(oid) + ") and " + was + " is now " + relation_kind(rows.text(0, 3)) +
      " (OID " + rows.text(0, 2) +
      "): which one the migration means is ambiguous, so statements naming either are "
      "refused; set table = \"" +
      now + "\" in the migration and reload if it is the one meant; if the new " + was +
      " is, restart Switchyard (a fresh start takes the config's name)";
  out.warning = ConfigWarning{m.name, reason};
  out.ambiguous = AmbiguousTable{m.name,
                                 m.on_unsupported == config::OnUnsupported::reject,
                                 {was_name, rows.text(0, 1)},
                                 "migration \"" + m.name + "\": " + reason};
  return out;
}

}  // namespace switchyard::proxy
