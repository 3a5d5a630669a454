#include "proxy/catalog_client.hpp"

#include <libpq-fe.h>

#include <map>

namespace switchyard::proxy {
namespace {

// A Postgres text[] literal: every element double-quoted, so any identifier survives.
std::string text_array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) {
      out.push_back(',');
    }
    out.push_back('"');
    for (char c : items[i]) {
      if (c == '"' || c == '\\') {
        out.push_back('\\');
      }
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

std::string_view sslmode(config::TlsMode mode) {
  switch (mode) {
    case config::TlsMode::disable:
      return "disable";
    case config::TlsMode::prefer:
      return "prefer";
    case config::TlsMode::require:
      return "require";
    case config::TlsMode::verify_full:
      return "verify-full";
  }
  return "prefer";
}

}  // namespace

ConnectionParameters own_connection_parameters(const config::Config& config,
                                               const std::string& database) {
  const auto& upstream = config.upstream;
  ConnectionParameters p;
  auto add = [&](std::string key, std::string value) {
    if (!value.empty()) {
      p.keywords.push_back(std::move(key));
      p.values.push_back(std::move(value));
    }
  };
  add("host", upstream.address.host);
  add("port", std::to_string(upstream.address.port));
  add("user", upstream.user);
  add("password", upstream.password.value);
  add("dbname", database.empty() ? upstream.database : database);
  add("sslmode", std::string(sslmode(upstream.tls)));
  add("sslrootcert", upstream.ca_file);
  auto seconds = std::max<long long>(1, (config.timeouts.connect.count() + 999) / 1000);
  add("connect_timeout", std::to_string(seconds));
  add("application_name", "switchyard");
  return p;
}

std::variant<std::unique_ptr<CatalogClient>, std::string> CatalogClient::connect(
    const config::Config& config, const std::string& database) {
  auto params = own_connection_parameters(config, database);
  std::vector<const char*> keys;
  std::vector<const char*> values;
  for (std::size_t i = 0; i < params.keywords.size(); ++i) {
    keys.push_back(params.keywords[i].c_str());
    values.push_back(params.values[i].c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* connection = PQconnectdbParams(keys.data(), values.data(), 0);
  if (PQstatus(connection) != CONNECTION_OK) {
    std::string message = PQerrorMessage(connection);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
    PQfinish(connection);
    return "catalog connection to upstream " + config.upstream.address.to_string() + " (user \"" +
           config.upstream.user + "\", database \"" +
           (database.empty() ? config.upstream.database : database) + "\") failed: " + message;
  }
  return std::unique_ptr<CatalogClient>(new CatalogClient(connection));
}

CatalogClient::~CatalogClient() { PQfinish(connection_); }

std::variant<std::vector<RelationColumns>, std::string> CatalogClient::load(
    const std::vector<std::string>& tables) {
  static constexpr const char* kQuery =
      "SELECT n.nspname, c.relname, a.attname "
      "FROM pg_catalog.pg_class c "
      "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
      "JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
      "     AND NOT a.attisdropped "
      "WHERE c.relname = ANY($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
      "ORDER BY n.nspname, c.relname, a.attnum";
  std::string array = text_array_literal(tables);
  const char* values[] = {array.c_str()};
  PGresult* result = PQexecParams(connection_, kQuery, 1, nullptr, values, nullptr, nullptr, 0);
  if (PQresultStatus(result) != PGRES_TUPLES_OK) {
    std::string message = PQresultErrorMessage(result);
    PQclear(result);
    return "catalog query failed: " + message;
  }
  std::map<rewrite::QualifiedName, std::vector<std::string>> found;
  for (int row = 0; row < PQntuples(result); ++row) {
    rewrite::QualifiedName name{PQgetvalue(result, row, 0), PQgetvalue(result, row, 1)};
    found[name].emplace_back(PQgetvalue(result, row, 2));
  }
  PQclear(result);
  std::vector<RelationColumns> relations;
  for (auto& [name, columns] : found) {
    relations.push_back({name, std::move(columns)});
  }
  return relations;
}

}  // namespace switchyard::proxy
