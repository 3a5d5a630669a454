#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace switchyard::proxy {

enum class CommandKind { serve, check, rewrite, help, version };

/// What the command line asked for. Unknown flags are an error, not ignored.
struct CommandLine {
  CommandKind kind = CommandKind::help;
  std::string config_path;
  std::optional<std::string> log_level;   // overrides [log] level
  std::optional<std::string> log_format;  // overrides [log] format
  std::optional<std::string> sql;         // `rewrite --sql`
  std::string database;                   // `rewrite --database`
  std::string user;                       // `rewrite --user` (for "$user" in search_path)
  bool offline = false;                   // `check|rewrite --offline`: no database, no password
};

struct CliError {
  std::string message;
};

/// Parses argv; the result is either a command or an error meant for the user. `backfill`,
/// `verify` and `status` have parsers of their own (backfill/options.hpp); main dispatches
/// them before this runs.
std::variant<CommandLine, CliError> parse_command_line(const std::vector<std::string>& args);

/// The text `switchyard --help` prints.
std::string usage_text();

}  // namespace switchyard::proxy
