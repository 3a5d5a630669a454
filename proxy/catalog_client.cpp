#include "proxy/catalog_client.hpp"

#include <libpq-fe.h>

#include <map>
#include <memory>

#include "backfill/sql.hpp"

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

std::variant<std::unique_ptr<CatalogClient>, std::string> CatalogClient::connect(
    const config::Config& config, const std::string& database) {
  // The connection parameters (and the error wording) are shared with backfill/verify.
  auto connected = backfill::PgConnection::connect(config, database, "catalog");
  if (auto* error = std::get_if<std::string>(&connected)) {
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
      " FROM pg_catalog.pg_class c "
      "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
      "JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
      "     AND NOT a.attisdropped "
      "WHERE c.relname = ANY($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
      "ORDER BY n.nspname, c.relname, a.attnum";
  std::string error;
  const QueryResult owned = query_by_names(connection_.native(), kQuery.c_str(), tables, &error);
  if (!owned) {
    return error;
  }
  const PGresult* result = owned.get();
  std::map<rewrite::QualifiedName, RelationColumns> found;
  for (int row = 0; row < PQntuples(result); ++row) {
    rewrite::QualifiedName name{PQgetvalue(result, row, 0), PQgetvalue(result, row, 1)};
    RelationColumns& relation = found[name];
    relation.name = name;
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
  static constexpr const char* kQuery =
      "WITH f AS ("
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
      "SELECT k.nspname, k.proname, k.oid, k.provolatile, k.kind, c.name "
      "FROM k LEFT JOIN LATERAL ("
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
                                   {}});
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

}  // namespace switchyard::proxy
