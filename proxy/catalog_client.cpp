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

std::variant<std::vector<FunctionVolatility>, std::string> CatalogClient::load_functions(
    const std::vector<std::string>& names) {
  // 'v' sorts after 'i' and 's': max() is the most volatile overload.
  static constexpr const char* kQuery =
      "SELECT n.nspname, p.proname, max(p.provolatile::text) "
      "FROM pg_catalog.pg_proc p "
      "JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
      "WHERE p.proname = ANY($1::text[]) "
      "GROUP BY n.nspname, p.proname";
  std::string error;
  const QueryResult owned = query_by_names(connection_.native(), kQuery, names, &error);
  if (!owned) {
    return error;
  }
  const PGresult* result = owned.get();
  std::vector<FunctionVolatility> functions;
  for (int row = 0; row < PQntuples(result); ++row) {
    const char volatility = PQgetvalue(result, row, 2)[0];
    functions.push_back(
        FunctionVolatility{{PQgetvalue(result, row, 0), PQgetvalue(result, row, 1)},
                           volatility == 'i' || volatility == 's' ? volatility : 'v'});
  }
  return functions;
}

}  // namespace switchyard::proxy
