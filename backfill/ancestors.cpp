#include "backfill/ancestors.hpp"

#include <map>

namespace switchyard::backfill {
namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

// The writes through an ancestor that reach a descendant's rows: only a partitioned table
// routes what is inserted into it; any parent's UPDATE or MERGE without ONLY reaches children.
std::string ways(bool partitioned, const std::string& table) {
  return partitioned ? "an INSERT or COPY the server routes into " + table + ", an UPDATE or MERGE"
                     : "an UPDATE or MERGE without ONLY";
}

}  // namespace

std::variant<std::vector<UncoveredAncestor>, std::string> find_uncovered_ancestors(
    PgConnection& connection, const TableSpec& spec) {
  auto found = connection.exec(
      "WITH RECURSIVE covered (rel) AS ("
      "  SELECT pg_catalog.to_regclass($1)::oid "
      "  UNION SELECT i.inhrelid FROM pg_catalog.pg_inherits i JOIN covered c "
      "        ON i.inhparent = c.rel), "
      "up (child, anc) AS ("
      "  SELECT i.inhrelid, i.inhparent FROM pg_catalog.pg_inherits i "
      "  WHERE i.inhrelid IN (SELECT rel FROM covered) "
      "  UNION SELECT u.child, i.inhparent FROM up u "
      "        JOIN pg_catalog.pg_inherits i ON i.inhrelid = u.anc), "
      "named (oid, name) AS ("
      "  SELECT c.oid, pg_catalog.quote_ident(n.nspname) || '.' || "
      "                pg_catalog.quote_ident(c.relname) "
      "  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace) "
      "SELECT * FROM ("
      "  SELECT DISTINCT ON (u.anc) t.name, a.name, k.relkind = 'p', "
      "         NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits p "
      "                     JOIN pg_catalog.pg_attribute o ON o.attrelid = p.inhparent "
      "                      AND o.attname = $2 AND o.attnum > 0 AND NOT o.attisdropped "
      "                     WHERE p.inhrelid = u.anc), "
      "         u.child = pg_catalog.to_regclass($1)::oid "
      "  FROM up u JOIN named t ON t.oid = u.child JOIN named a ON a.oid = u.anc "
      "  JOIN pg_catalog.pg_class k ON k.oid = u.anc "
      "  WHERE u.anc NOT IN (SELECT rel FROM covered WHERE rel IS NOT NULL) "
      "    AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute o WHERE o.attrelid = u.anc "
      "                AND o.attname = $2 AND o.attnum > 0 AND NOT o.attisdropped) "
      "  ORDER BY u.anc, u.child = pg_catalog.to_regclass($1)::oid DESC) f "
      "ORDER BY 1, 2",
      {qualified_name(spec), spec.old_column});
  if (auto* error = std::get_if<DbError>(&found)) {
    return "catalog query for the table's ancestors failed: " + error->message;
  }
  std::vector<UncoveredAncestor> ancestors;
  const auto& rows = std::get<PgResult>(found);
  for (int r = 0; r < rows.rows(); ++r) {
    ancestors.push_back({rows.text(r, 0), rows.text(r, 1), rows.text(r, 2) == "t",
                         rows.text(r, 3) == "t", rows.text(r, 4) == "t"});
  }
  return ancestors;
}

std::vector<std::string> explain_uncovered_ancestors(const TableSpec& spec,
                                                     const std::vector<UncoveredAncestor>& found) {
  const std::string own = spec.schema + "." + spec.table;
  const std::string drift = " is not rewritten by this migration, so it writes " + spec.old_column +
                            " alone and " + spec.new_column + " drifts";
  std::vector<std::string> out;
  std::vector<std::string> parents;
  std::vector<std::string> roots;
  bool routed = false;
  for (const auto& a : found) {
    if (a.own) {
      parents.push_back(a.ancestor);
      routed = routed || a.partitioned;
      if (a.root) {
        roots.push_back(a.ancestor);
      }
    }
  }
  if (!parents.empty()) {
    out.push_back(own + " is a partition or inheritance child of " + joined(parents) +
                  ": a write of " + spec.old_column + " through " +
                  (parents.size() == 1 ? "it" : "one of them") + " (" + ways(routed, own) + ")" +
                  drift + "; declare the migration on " + joined(roots) +
                  " instead (it then covers " + own + " too)");
  }
  std::map<std::string, std::vector<const UncoveredAncestor*>> by_table;
  for (const auto& a : found) {
    if (!a.own) {
      by_table[a.table].push_back(&a);
    }
  }
  for (const auto& [table, ancestors] : by_table) {
    std::vector<std::string> names;
    bool partitioned = false;
    for (const auto* a : ancestors) {
      names.push_back(a->ancestor);
      partitioned = partitioned || a->partitioned;
    }
    out.push_back(table + ", which this migration covers as a descendant of " + own +
                  ", also inherits from " + joined(names) + ": a write of " + spec.old_column +
                  " through " + (names.size() == 1 ? "it" : "one of them") + " (" +
                  ways(partitioned, table) + ")" + drift + "; write " + spec.old_column +
                  " through " + own + " or " + table + " only, or make " + table +
                  " inherit from " + own + " alone");
  }
  return out;
}

}  // namespace switchyard::backfill
