#include "backfill/commands.hpp"

#include <iostream>

#include "backfill/options.hpp"
#include "backfill/runs.hpp"
#include "backfill/table_info.hpp"
#include "config/values.hpp"

namespace switchyard::backfill {
namespace {

std::string unknown_migration(const config::Config& config, const std::string& name) {
  std::string message = "unknown migration \"" + name + "\" in " + config.source;
  if (config.migrations.empty()) {
    return message + ": it declares no [[migration]]";
  }
  std::vector<std::string_view> names;
  for (const auto& m : config.migrations) {
    names.push_back(m.name);
  }
  if (auto close = config::closest_match(name, names)) {
    message += " (did you mean \"" + std::string(*close) + "\"?)";
  }
  message += "; it declares:";
  for (const auto& m : config.migrations) {
    message += "\n  " + m.name + " (" + m.schema + "." + m.table + ": " + m.old_column + " -> " +
               m.new_column + ")";
  }
  return message;
}

}  // namespace

int run_command(const std::vector<std::string>& args) {
  const std::string command = args.empty() ? "" : args[0];
  const std::string prefix = "switchyard " + command + ": ";
  auto parsed = parse_options(args);
  if (auto* error = std::get_if<std::string>(&parsed)) {
    std::cerr << prefix << *error << "\n";
    return kExitUsage;
  }
  const auto& options = std::get<Options>(parsed);
  if (options.help) {
    std::cout << help_text(command);
    return kExitOk;
  }
  auto loaded = config::load_config(options.config_path);
  if (!loaded.ok()) {
    for (const auto& error : loaded.errors) {
      std::cerr << prefix << config::format_error(error) << "\n";
    }
    return kExitFailed;  // as for serve, check and rewrite
  }
  const auto& config = *loaded.config;
  if (command == "status") {
    if (!options.migration.empty() && config.find_migration(options.migration) == nullptr) {
      std::cerr << prefix << unknown_migration(config, options.migration) << "\n";
      return kExitUsage;
    }
    return run_status(options, config);
  }
  const auto* migration = config.find_migration(options.migration);
  if (migration == nullptr) {
    std::cerr << prefix << unknown_migration(config, options.migration) << "\n";
    return kExitUsage;
  }
  if (config.upstream.user.empty()) {
    std::cerr << prefix << "[upstream] user is not set in " << config.source
              << ": backfill and verify connect as it\n";
    return kExitFailed;
  }
  auto connected = PgConnection::connect(config, config.effective_database(*migration), command,
                                         "switchyard-" + command);
  if (auto* error = std::get_if<DbError>(&connected)) {
    std::cerr << prefix << error->message << "\n";
    return kExitFailed;
  }
  auto& connection = std::get<PgConnection>(connected);
  auto described = describe_table(connection, *migration, options.key_index);
  if (auto* error = std::get_if<std::string>(&described)) {
    std::cerr << prefix << *error << "\n";
    return kExitFailed;
  }
  const auto& spec = std::get<TableSpec>(described);
  if (command == "backfill") {
    return run_backfill(options, config, *migration, connection, spec);
  }
  return run_verify(options, config, *migration, connection, spec);
}

}  // namespace switchyard::backfill
