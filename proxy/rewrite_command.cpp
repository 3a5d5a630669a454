#include "proxy/rewrite_command.hpp"

#include <iostream>
#include <iterator>
#include <set>

#include "proxy/search_path_value.hpp"
#include "proxy/snapshot_builder.hpp"
#include "rewrite/rewriter.hpp"

namespace switchyard::proxy {
namespace {

std::string_view outcome_name(rewrite::Outcome outcome) {
  switch (outcome) {
    case rewrite::Outcome::unchanged:
      return "unchanged";
    case rewrite::Outcome::rewritten:
      return "rewritten";
    case rewrite::Outcome::rejected:
      return "rejected";
    case rewrite::Outcome::passthrough_unsupported:
      return "unsupported, passed through (on_unsupported = \"passthrough\")";
    case rewrite::Outcome::needs_catalog:
      return "needs the catalog";
  }
  return "?";
}

// What the proxy does to each data row of a rewritten COPY FROM STDIN, one field per column:
// "-- COPY data rows (binary), 2 fields each, are sent as: id = field 1, n = field 2,
// n_big = field 2 to bigint".
std::string describe_copy_plan(const rewrite::CopyPlan& plan) {
  using Format = rewrite::CopyPlan::Format;
  std::string line = std::string("-- COPY data rows (") +
                     (plan.format == Format::binary ? "binary"
                      : plan.format == Format::csv  ? "CSV"
                                                    : "text") +
                     "), " + std::to_string(plan.input_columns) + " fields each, are sent as:";
  for (std::size_t k = 0; k < plan.source_index_per_output_column.size(); ++k) {
    line += k == 0 ? " " : ", ";
    line += k < plan.output_columns.size() ? plan.output_columns[k] : "?";
    line += " = field " + std::to_string(plan.source_index_per_output_column[k] + 1);
    if (k < plan.conversion_per_output_column.size()) {
      const std::string_view how = rewrite::describe(plan.conversion_per_output_column[k]);
      line += how.empty() ? "" : " " + std::string(how);
    }
  }
  return line + "\n";
}

// What an offline rewrite lacked, in the words of the statement. A name written without its
// schema is looked up along the search_path, and the server searches pg_catalog first, so the
// first relation asked about is pg_catalog.<name>: named instead as written, and as the
// migration's table where the config has one of that name.
std::string offline_needs(const rewrite::RewriteResult& result,
                          const std::vector<rewrite::Migration>& migrations) {
  std::string tables;
  for (const auto& name : result.missing) {
    std::string shown = name.schema + "." + name.table;
    if (name.schema == "pg_catalog" && !name.table.starts_with("pg_")) {
      shown.clear();
      for (const auto& m : migrations) {
        if (m.table == name.table && shown.empty()) {
          shown = m.schema + "." + m.table + " (written " + name.table + ": migration \"" + m.name +
                  "\"'s table, where the search_path finds it)";
        }
      }
      if (shown.empty()) {
        shown = name.table + " (written without a schema: the one the search_path finds)";
      }
    }
    tables += (tables.empty() ? "the columns of " : ", ") + shown;
  }
  rewrite::RewriteResult functions_only;
  functions_only.missing_functions = result.missing_functions;
  const std::string functions = rewrite::catalog_needs(functions_only);
  return tables + (tables.empty() || functions.empty() ? "" : " and ") + functions;
}

// The search_path a session of `user` on `database` starts with, as serve learns it at connect:
// the most specific ALTER ROLE / ALTER DATABASE setting (pg_db_role_setting), else the
// server's own. The catalog connection's current_setting would be its own user's.
std::variant<std::string, std::string> session_search_path(const config::Config& config,
                                                           const std::string& database,
                                                           const std::string& user) {
  static const std::string kQuery =
      "SELECT COALESCE("
      " (SELECT pg_catalog.substr(c, 13) "
      "  FROM pg_catalog.pg_db_role_setting s, pg_catalog.unnest(s.setconfig) AS c "
      "  WHERE c LIKE 'search\\_path=%' "
      "    AND s.setrole IN (0, (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $1)) "
      "    AND s.setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database WHERE datname = $2)) "
      "  ORDER BY s.setrole <> 0 DESC, s.setdatabase <> 0 DESC LIMIT 1),"
      " (SELECT CASE WHEN source IN ('database', 'user', 'database user') THEN boot_val "
      "  ELSE reset_val END FROM pg_catalog.pg_settings WHERE name = 'search_path'))";
  auto connected = CatalogClient::connect(config, database);
  if (auto* error = std::get_if<backfill::DbError>(&connected)) {
    return std::variant<std::string, std::string>(std::in_place_index<1>, error->message);
  }
  auto& client = *std::get<std::unique_ptr<CatalogClient>>(connected);
  auto found = client.connection().exec(kQuery, {user, database});
  if (auto* error = std::get_if<backfill::DbError>(&found)) {
    return std::variant<std::string, std::string>(
        std::in_place_index<1>, "cannot read the session's search_path: " + error->message);
  }
  return std::variant<std::string, std::string>(std::in_place_index<0>,
                                                std::get<backfill::PgResult>(found).text(0, 0));
}

}  // namespace

int run_rewrite_command(const CommandLine& cmd, std::istream& in, std::ostream& out,
                        std::ostream& err) {
  auto loaded = config::load_config(
      cmd.config_path, {},
      cmd.offline ? config::PasswordLookup::skip : config::PasswordLookup::load);
  if (!loaded.ok()) {
    for (const auto& error : loaded.errors) {
      err << config::format_error(error) << "\n";
    }
    return 1;
  }
  const std::string database =
      cmd.database.empty() ? loaded.config->upstream.database : cmd.database;
  const std::string user = cmd.user.empty() ? loaded.config->upstream.user : cmd.user;
  auto config_copy = *loaded.config;
  auto built = build_snapshot(std::move(*loaded.config), 1,
                              BuildOptions{!cmd.offline, "`--offline` skips this", nullptr});
  if (auto* errors = std::get_if<std::vector<std::string>>(&built)) {
    for (const auto& error : *errors) {
      err << error << "\n";
    }
    return 1;
  }
  auto snapshot = std::get<std::shared_ptr<const Snapshot>>(built);

  std::string sql =
      cmd.sql ? *cmd.sql
              : std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  const DatabaseRewrite* rules = snapshot->for_database(database);
  if (rules == nullptr) {
    out << "-- no migration applies to database \"" << database << "\": forwarded byte for byte\n"
        << sql << (sql.empty() || sql.back() == '\n' ? "" : "\n");
    return 0;
  }
  rewrite::SessionContext context;
  context.user = user;
  if (cmd.offline) {
    out << "-- search_path: $user, public (assumed: --offline does not ask the server)\n";
  } else {
    auto path = session_search_path(config_copy, database, user);
    if (auto* error = std::get_if<1>(&path)) {
      err << *error << "\n";
      return 1;
    }
    context.search_path = split_search_path(std::get<0>(path));
    out << "-- search_path: " << std::get<0>(path) << " (what the server gives user \"" << user
        << "\" on database \"" << database << "\")\n";
  }
  auto result = rules->rewriter->rewrite(sql, context, *rules->catalog);
  // Fetch what the catalog lacked (a joined table), as the proxy would, then try again.
  for (int attempt = 0;
       attempt < 2 && result.outcome == rewrite::Outcome::needs_catalog && !cmd.offline;
       ++attempt) {
    const std::string error =
        rules->catalog->fetch(config_copy, database, CatalogWants::of(result));
    if (!error.empty()) {
      err << error << "\n";
      return 1;
    }
    result = rules->rewriter->rewrite(sql, context, *rules->catalog);
  }

  out << "-- outcome: " << outcome_name(result.outcome) << "\n";
  std::set<std::string> reported;
  for (const auto& use : result.uses) {
    const auto& migrations = rules->rewriter->migrations();
    for (const auto& m : migrations) {
      if (m.name != use.migration || !reported.insert(m.name).second) {
        continue;
      }
      out << "-- migration: " << m.name << " (" << m.schema << "." << m.table << "." << m.old_column
          << " -> " << m.new_column << ", writes = "
          << (m.writes == rewrite::Writes::old_column ? "old"
              : m.writes == rewrite::Writes::both     ? "both"
                                                      : "new")
          << ", reads = " << (m.reads == rewrite::Reads::old_column ? "old" : "new")
          << "): reads of old " << use.reads_of_old << ", writes of old " << use.writes_of_old
          << ", reads of new " << use.reads_of_new << ", writes of new " << use.writes_of_new
          << (use.rewritten ? ", rewritten" : "") << "\n";
    }
  }
  switch (result.outcome) {
    case rewrite::Outcome::rewritten:
      if (result.copy) {
        out << describe_copy_plan(*result.copy);
      }
      if (!result.hidden_statements.empty()) {
        out << "-- " << result.staged_because
            << ": the data rows go to a temporary table as sent, and the INSERT moves them (in "
               "a simple query only; the client sees one COPY and its row count)\n";
      }
      out << result.sql << (result.sql.empty() || result.sql.back() == '\n' ? "" : "\n");
      return 0;
    case rewrite::Outcome::unchanged:
      out << sql << (sql.empty() || sql.back() == '\n' ? "" : "\n");
      return 0;
    case rewrite::Outcome::rejected:
      out << "-- reason: " << result.reason << "\n"
          << "-- the client would get an ErrorResponse with SQLSTATE 0A000\n";
      return 1;
    case rewrite::Outcome::passthrough_unsupported:
      out << "-- reason: " << result.reason << "\n" << sql << "\n";
      return 3;
    case rewrite::Outcome::needs_catalog: {
      if (!cmd.offline) {
        out << "-- the rewrite needs " << rewrite::catalog_needs(result) << "\n";
        return 1;
      }
      out << "-- the rewrite needs " << offline_needs(result, rules->rewriter->migrations())
          << "\n-- --offline reads no catalog: run without --offline, and the rewrite reads "
             "them from the database as [upstream] user (with its password), as the proxy "
             "does\n";
      return 1;
    }
  }
  return 1;
}

}  // namespace switchyard::proxy
