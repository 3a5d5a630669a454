#include "proxy/catalog_client.hpp"

#include <libpq-fe.h>

#include <cstdlib>
#include <map>
#include <memory>

#include "backfill/sql.hpp"
#include "config/identifier.hpp"

namespace switchyard::proxy {

using backfill::text_array_literal;

namespace {

using QueryResult = std::unique_ptr<PGresult, decltype(&PQclear)>;

// Runs `query` with `names` as its one parameter (text[]); null, with `error` set, on failure.
QueryResult query_by_names(PGconn* connection, const char* query,
                           const std::vector<std::string>& names, std::string* error) {
  const std::string array = text_array_literal(names);
  const char* values[] = {array.c_str()};
  QueryResult result(PQexecParams(connection, query, 1, nullptr, values, nullptr, nullptr, 0),
                     &PQclear);
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
    *error = std::string("catalog query failed: ") + PQresultErrorMessage(result.get());
    return QueryResult(nullptr, &PQclear);
  }
  return result;
}

}  // namespace

std::string keys_naming_database(const config::Config& config, const std::string& database) {
  std::string keys;
  bool upstream = database == config.upstream.database;
  for (std::size_t i = 0; i < config.migrations.size(); ++i) {
    const auto& m = config.migrations[i];
    if (m.database.empty() || m.database != database) {
      continue;
    }
    keys += (keys.empty() ? "" : ", ") + ("migration[" + std::to_string(i) + "].database") +
            " (\"" + m.name + "\")";
  }
  if (upstream || keys.empty()) {
    keys = "[upstream] database" + (keys.empty() ? "" : ", " + keys);
  }
  return keys;
}

std::string missing_database_message(const config::Config& config, const std::string& database) {
  return "database \"" + database + "\" does not exist on upstream " +
         config.upstream.address.to_string() + " (3D000); it is named by " +
         keys_naming_database(config, database) + " in " + config.source +
         ": create the database, or correct the key";
}

std::variant<std::unique_ptr<CatalogClient>, backfill::DbError> CatalogClient::connect(
    const config::Config& config, const std::string& database) {
  // The connection parameters (and the error wording) are shared with backfill/verify.
  auto connected = backfill::PgConnection::connect(config, database, "catalog");
  if (auto* error = std::get_if<backfill::DbError>(&connected)) {
    return std::move(*error);
  }
  return std::unique_ptr<CatalogClient>(
      new CatalogClient(std::move(std::get<backfill::PgConnection>(connected))));
}

std::variant<std::vector<RelationColumns>, std::string> CatalogClient::load(
    const std::vector<std::string>& tables) {
  static const std::string kQuery =
      std::string(
          "SELECT n.nspname, c.relname, a.attname, "
          "       pg_catalog.format_type(a.atttypid, a.atttypmod), a.attgenerated <> '', ") +
      backfill::kAttributeCollation +
      ", a.attnum, a.attisdropped, c.oid"
      " FROM pg_catalog.pg_class c "
      "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
      // Dropped attributes too: their slots tell where a dropped old column stood.
      "JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
      "WHERE c.relname = ANY($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
      "ORDER BY n.nspname, c.relname, a.attnum";
  // The types go into the apps' SQL (`CAST(n AS <type>)`), where a schema earlier on a session's
  // search_path may hold a type of the same name. format_type() schema-qualifies every type it
  // cannot see, so with nothing but pg_catalog on the path only the built-in ones stay bare.
  auto path = connection_.exec("BEGIN; SET LOCAL search_path = pg_catalog");
  if (auto* failed = std::get_if<backfill::DbError>(&path)) {
    return "catalog query failed: " + failed->message;
  }
  std::string error;
  const QueryResult owned = query_by_names(connection_.native(), kQuery.c_str(), tables, &error);
  connection_.exec("COMMIT");  // a ROLLBACK when the query failed
  if (!owned) {
    return error;
  }
  const PGresult* result = owned.get();
  std::map<rewrite::QualifiedName, RelationColumns> found;
  for (int row = 0; row < PQntuples(result); ++row) {
    rewrite::QualifiedName name{PQgetvalue(result, row, 0), PQgetvalue(result, row, 1)};
    RelationColumns& relation = found[name];
    relation.name = name;
    relation.oid =
        static_cast<std::uint32_t>(std::strtoul(PQgetvalue(result, row, 8), nullptr, 10));
    const int attnum = std::atoi(PQgetvalue(result, row, 6));
    if (PQgetvalue(result, row, 7)[0] == 't') {
      relation.dropped.push_back(attnum);
      continue;
    }
    relation.attnums.push_back(attnum);
    relation.columns.emplace_back(PQgetvalue(result, row, 2));
    relation.types.emplace_back(PQgetvalue(result, row, 3));
    relation.generated.push_back(PQgetvalue(result, row, 4)[0] == 't');
    relation.collations.emplace_back(PQgetvalue(result, row, 5));
  }
  std::vector<RelationColumns> relations;
  for (auto& [name, relation] : found) {
    relations.push_back(std::move(relation));
  }
  return relations;
}

std::variant<std::vector<Descendant>, std::string> CatalogClient::load_descendants(
    const std::vector<rewrite::QualifiedName>& relations) {
  static constexpr const char* kQuery =
      "WITH RECURSIVE tree (root, child) AS ("
      "  SELECT i.inhparent, i.inhrelid FROM pg_catalog.pg_inherits i "
      "  WHERE i.inhparent IN (SELECT pg_catalog.to_regclass(r) FROM unnest($1::text[]) r) "
      "  UNION "
      "  SELECT t.root, i.inhrelid FROM tree t "
      "  JOIN pg_catalog.pg_inherits i ON i.inhparent = t.child) "
      "SELECT rn.nspname, rc.relname, cn.nspname, cc.relname FROM tree "
      "JOIN pg_catalog.pg_class rc ON rc.oid = tree.root "
      "JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace "
      "JOIN pg_catalog.pg_class cc ON cc.oid = tree.child "
      "JOIN pg_catalog.pg_namespace cn ON cn.oid = cc.relnamespace "
      "ORDER BY 1, 2, 3, 4";
  std::vector<std::string> names;
  for (const auto& relation : relations) {
    names.push_back(backfill::quote_ident(relation.schema) + "." +
                    backfill::quote_ident(relation.table));
  }
  std::string error;
  const QueryResult owned = query_by_names(connection_.native(), kQuery, names, &error);
  if (!owned) {
    return error;
  }
  const PGresult* result = owned.get();
  std::vector<Descendant> descendants;
  for (int row = 0; row < PQntuples(result); ++row) {
    descendants.push_back(Descendant{{PQgetvalue(result, row, 0), PQgetvalue(result, row, 1)},
                                     {PQgetvalue(result, row, 2), PQgetvalue(result, row, 3)}});
  }
  return descendants;
}

std::variant<std::vector<CatalogFunction>, std::string> CatalogClient::load_functions(
    const std::vector<std::string>& names) {
  // One row per overload and column it gives in FROM (one row when none is listed). kind: 'o'
  // its OUT parameters (an unnamed one is "columnN", as Postgres names it; a single named one
  // names the one column), 'c' its composite type's columns, 's' one scalar column, 'u' only
  // the call's arguments tell (record, polymorphic, a domain over a row type), 'x' not callable
  // in FROM (aggregates, window functions, procedures).
  // MATERIALIZED computes `outs` once per overload; inlined, each of its five uses is a
  // sub-plan of its own, and the ~100 built-in names the proxy loads then cost enough (220k) to
  // start the server's JIT (jit_above_cost): 50 ms per catalog check instead of 5.
  static constexpr const char* kQuery =
      "WITH f AS MATERIALIZED ("
      "  SELECT p.oid, n.nspname, p.proname, p.provolatile, p.prokind, t.typtype, t.typrelid,"
      "         bt.typtype AS basetype,"
      "         ARRAY(SELECT coalesce(p.proargnames[i], '')"
      "               FROM pg_catalog.generate_subscripts(p.proargmodes, 1) i"
      "               WHERE p.proargmodes[i] IN ('o', 'b', 't') ORDER BY i) AS outs"
      "  FROM pg_catalog.pg_proc p"
      "  JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace"
      "  JOIN pg_catalog.pg_type t ON t.oid = p.prorettype"
      "  LEFT JOIN pg_catalog.pg_type bt ON bt.oid = t.typbasetype"
      "  WHERE p.proname = ANY($1::text[])),"
      "k AS ("
      "  SELECT f.*, CASE"
      "    WHEN prokind <> 'f' THEN 'x'"
      "    WHEN cardinality(outs) > 1 THEN 'o'"
      "    WHEN typtype = 'c' THEN 'c'"
      "    WHEN typtype = 'p' OR (typtype = 'd' AND basetype NOT IN ('b', 'e', 'r', 'm')) THEN 'u'"
      "    WHEN cardinality(outs) = 1 AND outs[1] <> '' THEN 'o'"
      "    ELSE 's' END AS kind"
      "  FROM f) "
      "SELECT k.nspname, k.proname, k.oid, k.provolatile, k.kind, c.name, rn.nspname, r.relname "
      "FROM k LEFT JOIN pg_catalog.pg_class r ON k.kind = 'c' AND r.oid = k.typrelid"
      "  AND r.relkind IN ('r', 'p', 'v', 'm', 'f') "
      "LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace "
      "LEFT JOIN LATERAL ("
      "  SELECT CASE WHEN o.name = '' THEN 'column' || o.ord ELSE o.name END AS name, o.ord"
      "  FROM unnest(k.outs) WITH ORDINALITY o(name, ord) WHERE k.kind = 'o'"
      "  UNION ALL"
      "  SELECT a.attname::text, a.attnum FROM pg_catalog.pg_attribute a"
      "  WHERE k.kind = 'c' AND a.attrelid = k.typrelid AND a.attnum > 0 AND NOT a.attisdropped"
      ") c ON true "
      "ORDER BY k.nspname, k.proname, k.oid, c.ord";
  std::string error;
  const QueryResult owned = query_by_names(connection_.native(), kQuery, names, &error);
  if (!owned) {
    return error;
  }
  const PGresult* result = owned.get();
  struct Overload {
    std::string oid;
    rewrite::QualifiedName name;
    char volatility;
    char kind;
    std::vector<std::string> columns;
    std::optional<rewrite::QualifiedName> row_type;
  };
  std::vector<Overload> overloads;  // in the query's order: by schema and name
  for (int row = 0; row < PQntuples(result); ++row) {
    const char* oid = PQgetvalue(result, row, 2);
    if (overloads.empty() || overloads.back().oid != oid) {
      const char volatility = PQgetvalue(result, row, 3)[0];
      overloads.push_back(Overload{oid,
                                   {PQgetvalue(result, row, 0), PQgetvalue(result, row, 1)},
                                   volatility == 'i' || volatility == 's' ? volatility : 'v',
                                   PQgetvalue(result, row, 4)[0],
                                   {},
                                   std::nullopt});
      if (!PQgetisnull(result, row, 6)) {
        overloads.back().row_type =
            rewrite::QualifiedName{PQgetvalue(result, row, 6), PQgetvalue(result, row, 7)};
      }
    }
    if (!PQgetisnull(result, row, 5)) {
      overloads.back().columns.emplace_back(PQgetvalue(result, row, 5));
    }
  }
  auto rank = [](char v) { return v == 'i' ? 1 : v == 's' ? 2 : 3; };
  std::vector<CatalogFunction> functions;
  std::vector<bool> callable_in_from;  // per function: an overload may be called in FROM
  for (Overload& overload : overloads) {
    rewrite::FunctionOutput output;
    output.kind = overload.kind == 's' ? rewrite::FunctionOutput::Kind::scalar
                  : overload.kind == 'o' || overload.kind == 'c'
                      ? rewrite::FunctionOutput::Kind::columns
                      : rewrite::FunctionOutput::Kind::unknown;
    if (output.kind == rewrite::FunctionOutput::Kind::columns) {
      output.columns = std::move(overload.columns);
      output.row_type = std::move(overload.row_type);
    }
    if (functions.empty() || functions.back().name != overload.name) {
      functions.push_back(CatalogFunction{overload.name, {overload.volatility, {}}});
      callable_in_from.push_back(false);
    } else if (rank(overload.volatility) > rank(functions.back().facts.volatility)) {
      functions.back().facts.volatility = overload.volatility;
    }
    if (overload.kind == 'x') {
      continue;
    }
    rewrite::FunctionOutput& common = functions.back().facts.output;
    common = callable_in_from.back() ? rewrite::combine_outputs(common, output) : output;
    callable_in_from.back() = true;
  }
  return functions;
}

std::variant<std::vector<ServerWriter>, std::string> CatalogClient::load_server_writers(
    const std::vector<const config::Migration*>& migrations) {
  // Foreign keys count only with an action that writes the referencing column (ON UPDATE
  // CASCADE / SET NULL / SET DEFAULT, ON DELETE SET NULL / SET DEFAULT); triggers only user
  // ROW ones for INSERT or UPDATE (tgtype bits: 1 row, 2 before, 4 insert, 16 update), BEFORE
  // (assigning NEW) or AFTER (writing the table by a statement of their own).
  static constexpr const char* kQuery =
      "WITH m AS ("
      "  SELECT u.i, pg_catalog.to_regclass(u.t) AS rel, u.o, u.n "
      "  FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS u(t, o, n, i)), "
      "r AS ("
      "  SELECT m.i, m.rel, m.o, m.n, "
      "    (SELECT a.attnum FROM pg_catalog.pg_attribute a WHERE a.attrelid = m.rel "
      "     AND a.attname = m.o AND NOT a.attisdropped) AS o_num, "
      "    (SELECT a.attnum FROM pg_catalog.pg_attribute a WHERE a.attrelid = m.rel "
      "     AND a.attname = m.n AND NOT a.attisdropped) AS n_num "
      "  FROM m WHERE m.rel IS NOT NULL) "
      "SELECT r.i, 'default', CASE WHEN d.adnum = r.o_num THEN 'old' ELSE 'new' END, '', "
      "       pg_catalog.pg_get_expr(d.adbin, d.adrelid), '' "
      "FROM r JOIN pg_catalog.pg_attrdef d ON d.adrelid = r.rel AND d.adnum IN (r.o_num, r.n_num) "
      "UNION ALL "
      "SELECT r.i, 'foreign key', CASE WHEN r.o_num = ANY(k.conkey) THEN 'old' ELSE 'new' END, "
      "       k.conname, k.confrelid::pg_catalog.regclass::text, "
      "       k.confupdtype::text || k.confdeltype::text "
      "FROM r JOIN pg_catalog.pg_constraint k ON k.conrelid = r.rel AND k.contype = 'f' "
      "WHERE (r.o_num = ANY(k.conkey) OR r.n_num = ANY(k.conkey)) "
      "  AND (k.confupdtype IN ('c', 'n', 'd') OR k.confdeltype IN ('n', 'd')) "
      "UNION ALL "
      "SELECT r.i, 'trigger', CASE WHEN g.tgtype & 2 = 2 THEN 'before' ELSE 'after' END, "
      "       g.tgname, "
      "       CASE g.tgtype & 20 WHEN 4 THEN 'INSERT' WHEN 16 THEN 'UPDATE' "
      "       ELSE 'INSERT OR UPDATE' END, '' "
      "FROM r JOIN pg_catalog.pg_trigger g ON g.tgrelid = r.rel AND NOT g.tgisinternal "
      "WHERE g.tgtype & 1 = 1 AND g.tgtype & 20 <> 0 AND g.tgenabled <> 'D' "
      // An AFTER trigger that never names the columns (an audit log) writes neither.
      "  AND (g.tgtype & 2 = 2 OR EXISTS (SELECT FROM pg_catalog.pg_proc f "
      "    WHERE f.oid = g.tgfoid AND (pg_catalog.strpos(pg_catalog.lower(f.prosrc), "
      "      pg_catalog.lower(r.o)) > 0 OR pg_catalog.strpos(pg_catalog.lower(f.prosrc), "
      "      pg_catalog.lower(r.n)) > 0))) "
      "UNION ALL "
      "SELECT r.i, 'generated', 'old', a.attname, '', '' "
      "FROM r JOIN pg_catalog.pg_attribute a ON a.attrelid = r.rel AND a.attgenerated <> '' "
      "     AND NOT a.attisdropped "
      // The generation expression is the column's pg_attrdef entry, which depends on the
      // columns it reads.
      "WHERE EXISTS (SELECT FROM pg_catalog.pg_attrdef d JOIN pg_catalog.pg_depend p "
      "  ON p.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass AND p.objid = d.oid "
      "  WHERE d.adrelid = r.rel AND d.adnum = a.attnum "
      "    AND p.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
      "    AND p.refobjid = r.rel AND p.refobjsubid = r.o_num) "
      "UNION ALL "
      "SELECT r.i, 'check', 'old', k.conname, '', '' "
      "FROM r JOIN pg_catalog.pg_constraint k ON k.conrelid = r.rel AND k.contype = 'c' "
      "     AND r.o_num = ANY(k.conkey) "
      "UNION ALL "
      // Views, rules and policies over the old column: no warning of their own here (the
      // old column's users warning names them), but a new one on another connection changes
      // this answer, so the catalog check builds the warnings again.
      "SELECT r.i, 'dependent', 'old', "
      "       pg_catalog.pg_describe_object(p.classid, p.objid, p.objsubid), '', '' "
      "FROM r JOIN pg_catalog.pg_depend p "
      "  ON p.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND p.refobjid = r.rel "
      "     AND p.refobjsubid = r.o_num AND p.deptype = 'n' "
      "     AND p.classid IN ('pg_catalog.pg_rewrite'::pg_catalog.regclass, "
      "                       'pg_catalog.pg_policy'::pg_catalog.regclass) "
      "ORDER BY 1, 2, 3, 4, 5, 6";
  std::vector<std::string> tables;
  std::vector<std::string> old_columns;
  std::vector<std::string> new_columns;
  for (const auto* m : migrations) {
    tables.push_back(backfill::quote_ident(config::identifier_name(m->schema)) + "." +
                     backfill::quote_ident(config::identifier_name(m->table)));
    old_columns.push_back(config::identifier_name(m->old_column));
    new_columns.push_back(config::identifier_name(m->new_column));
  }
  const std::string arrays[] = {text_array_literal(tables), text_array_literal(old_columns),
                                text_array_literal(new_columns)};
  const char* values[] = {arrays[0].c_str(), arrays[1].c_str(), arrays[2].c_str()};
  const QueryResult result(
      PQexecParams(connection_.native(), kQuery, 3, nullptr, values, nullptr, nullptr, 0),
      &PQclear);
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
    return std::string("catalog query failed: ") + PQresultErrorMessage(result.get());
  }
  std::vector<ServerWriter> writers;
  for (int row = 0; row < PQntuples(result.get()); ++row) {
    auto text = [&](int column) { return std::string(PQgetvalue(result.get(), row, column)); };
    writers.push_back(
        ServerWriter{std::stoul(text(0)) - 1, text(1), text(2), text(3), text(4), text(5)});
  }
  return writers;
}

}  // namespace switchyard::proxy
