#include <malloc.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "backfill/commands.hpp"
#include "config/config.hpp"
#include "proxy/cli.hpp"
#include "proxy/logging.hpp"
#include "proxy/rewrite_command.hpp"
#include "proxy/server.hpp"
#include "proxy/snapshot_builder.hpp"

#ifndef SWITCHYARD_VERSION
#define SWITCHYARD_VERSION "0.0.0"
#endif

namespace sy = switchyard;

namespace {

/// Loads and validates the file; prints every problem to stderr. Empty on failure. `text`,
/// when given, receives the bytes loaded.
std::shared_ptr<const sy::proxy::Snapshot> load(const std::string& path, bool offline,
                                                std::string unreachable_hint,
                                                std::string* text = nullptr) {
  auto loaded = sy::config::load_config(
      path, {}, offline ? sy::config::PasswordLookup::skip : sy::config::PasswordLookup::load);
  if (text != nullptr && loaded.source_text) {
    *text = *loaded.source_text;
  }
  if (!loaded.ok()) {
    for (const auto& error : loaded.errors) {
      std::cerr << sy::config::format_error(error) << "\n";
    }
    return nullptr;
  }
  sy::proxy::BuildOptions options;
  options.use_catalog = !offline;
  options.unreachable_hint = std::move(unreachable_hint);
  auto built = sy::proxy::build_snapshot(std::move(*loaded.config), 1, options);
  if (auto* errors = std::get_if<std::vector<std::string>>(&built)) {
    for (const auto& error : *errors) {
      std::cerr << error << "\n";  // each names the file, and the line and key where known
    }
    return nullptr;
  }
  return std::get<std::shared_ptr<const sy::proxy::Snapshot>>(built);
}

int serve(const sy::proxy::CommandLine& cmd) {
  std::string text;
  auto snapshot = load(cmd.config_path, false,
                       "Switchyard does not start without it; start it again once the database "
                       "accepts connections",
                       &text);
  if (!snapshot) {
    return 1;
  }
  const auto& log = snapshot->config->log;
  std::string level = cmd.log_level.value_or(log.level);
  std::string format = cmd.log_format.value_or(std::string(sy::config::to_string(log.format)));
  if (!sy::proxy::setup_logging(level, format)) {
    std::cerr << "unknown log level '" << level
              << "' (valid: trace, debug, info, warn, error, critical, off)\n";
    return 1;
  }
  // glibc raises its mmap threshold to the size of each large block freed, so after one bulk
  // load its multi-MB buffers come from the heap and stay with the process when freed. A fixed
  // threshold keeps every block of 1 MiB or more in a mapping of its own, unmapped when freed;
  // statements of ordinary size never allocate one.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  auto state = std::make_shared<sy::proxy::ProxyState>();
  state->publish(snapshot);
  spdlog::info("event=starting version={} config={}", SWITCHYARD_VERSION,
               sy::proxy::log_value(cmd.config_path));
  sy::proxy::log_warnings(*snapshot);
  sy::proxy::Server server(cmd.config_path, state, std::move(text),
                           sy::proxy::LogOverrides{cmd.log_level, cmd.log_format});
  return server.run();
}

int check(const sy::proxy::CommandLine& cmd) {
  auto snapshot = load(cmd.config_path, cmd.offline, "`--offline` skips this");
  if (!snapshot) {
    return 1;
  }
  const auto& config = *snapshot->config;
  std::cout << cmd.config_path << ": OK (listen " << config.listen.address.to_string();
  if (!config.listen.unix_socket_directory.empty()) {
    std::cout << " and " << config.listen.unix_socket_directory << "/.s.PGSQL."
              << (config.listen.address.port == 0 ? std::string("<the port chosen at start>")
                                                  : std::to_string(config.listen.address.port));
  }
  std::cout << ", upstream " << config.upstream.address.to_string() << ", "
            << config.migrations.size() << " migration(s))\n";
  for (const auto& warning : snapshot->warnings) {
    std::cout << "warning: migration \"" << warning.migration << "\": " << warning.message << "\n";
  }
  for (const auto& covered : snapshot->descendants) {
    std::cout << "note: migration \"" << covered.migration
              << "\" also applies to the table's partitions and inheritance children: "
              << covered.tables << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // A log reader that goes away (a pipe to a shipper, `| head`) must cost log lines, not the
  // process and every session in it: the write fails with EPIPE instead. Sockets already send
  // with MSG_NOSIGNAL.
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  // The operator tools (their own options and --help) live in backfill/.
  if (!args.empty() && (args[0] == "backfill" || args[0] == "verify" || args[0] == "status")) {
    try {
      return sy::backfill::run_command(args);
    } catch (const std::exception& e) {
      std::cerr << "switchyard: fatal: " << e.what() << "\n";
      return 1;
    }
  }
  auto parsed = sy::proxy::parse_command_line(args);
  if (auto* error = std::get_if<sy::proxy::CliError>(&parsed)) {
    std::cerr << "switchyard: " << error->message << "\n";
    return 2;
  }
  const auto& cmd = std::get<sy::proxy::CommandLine>(parsed);
  try {
    switch (cmd.kind) {
      case sy::proxy::CommandKind::help:
        std::cout << sy::proxy::usage_text();
        return 0;
      case sy::proxy::CommandKind::version:
        std::cout << "switchyard " << SWITCHYARD_VERSION << "\n";
        return 0;
      case sy::proxy::CommandKind::check:
        return check(cmd);
      case sy::proxy::CommandKind::serve:
        return serve(cmd);
      case sy::proxy::CommandKind::rewrite:
        return sy::proxy::run_rewrite_command(cmd, std::cin, std::cout, std::cerr);
    }
  } catch (const std::exception& e) {
    std::cerr << "switchyard: fatal: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
