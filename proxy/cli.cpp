#include "proxy/cli.hpp"

#include <array>
#include <string_view>
#include <variant>

namespace switchyard::proxy {
namespace {

// The names [log] level takes too (config/loader.cpp): one spelling each, so a command line
// that works also works when moved into the file.
constexpr std::array<std::string_view, 7> kLogLevels{"trace", "debug",    "info", "warn",
                                                     "error", "critical", "off"};
constexpr std::array<std::string_view, 2> kLogFormats{"text", "json"};

template <std::size_t N>
bool one_of(const std::array<std::string_view, N>& names, const std::string& value) {
  for (auto name : names) {
    if (name == value) {
      return true;
    }
  }
  return false;
}

template <std::size_t N>
std::string listed(const std::array<std::string_view, N>& names) {
  std::string out;
  for (auto name : names) {
    out += (out.empty() ? "" : ", ") + std::string(name);
  }
  return out;
}

// What a flag's value may be, for the error of a flag given without one.
std::string expected_value(const std::string& flag) {
  if (flag == "--log-level") {
    return "one of " + listed(kLogLevels);
  }
  if (flag == "--log-format") {
    return "one of " + listed(kLogFormats);
  }
  if (flag == "--config" || flag == "-c") {
    return "the config file's path";
  }
  if (flag == "--sql") {
    return "the statement(s) to rewrite";
  }
  if (flag == "--database") {
    return "a database name";
  }
  return "a user name";
}

}  // namespace

std::string usage_text() {
  return R"(Switchyard - a PostgreSQL proxy for zero-downtime column migrations

Usage:
  switchyard serve   --config FILE [--log-level LEVEL] [--log-format text|json]
  switchyard check   --config FILE [--offline]
  switchyard rewrite --config FILE [--sql SQL] [--database DB] [--user USER] [--offline]
  switchyard backfill --config FILE --migration NAME [options]   (see backfill --help)
  switchyard verify  --config FILE --migration NAME [options]
  switchyard status  --config FILE
  switchyard --help | --version

Commands:
  serve     run the proxy: listen per [listen], forward to [upstream]
  check     validate the config file; print every error with its line and key
  rewrite   dry run: print how the migrations rewrite SQL (from --sql or stdin)
  backfill  copy old-column values into the new column in small batches (resumable)
  verify    count rows where the two columns disagree; exit 0 only when they agree
  status    per migration: flags, defaults, what relies on the old column, backfill
            progress, last verify, the next safe step

Options:
  --config FILE        the TOML config (see README.md)
  --log-level LEVEL    trace | debug | info | warn | error | critical | off (default: [log]
                       level, else info; given, it outranks [log] at every reload too)
  --log-format FORMAT  text | json (default: [log] format, else text; given, likewise)
  --sql SQL            rewrite: the statement(s) to rewrite instead of reading stdin
  --database DB        rewrite: the session's database (default: [upstream] database)
  --user USER          rewrite: the session's user, for "$user" in search_path
  --offline            check, rewrite: do not connect to the database for catalog look-ups,
                       nor read the upstream password (password_env / password_file)

Signals (serve): SIGHUP reloads the config; SIGTERM/SIGINT drain sessions and exit (a second
SIGTERM/SIGINT while draining exits at once, closing the sessions left).

Exit status: 0 ok; 1 the command failed (a config that does not load or fit the database,
a refused rewrite, ...); 2 a usage error: an unknown command or option, an option without
its value or with one it does not take (every command); rewrite 3: passed through unrewritten.
)";
}

std::variant<CommandLine, CliError> parse_command_line(const std::vector<std::string>& args) {
  CommandLine cmd;
  if (args.empty()) {
    return CliError{"no command given (try --help)"};
  }
  const std::string& first = args[0];
  if (first == "--help" || first == "-h" || first == "help") {
    cmd.kind = CommandKind::help;
    return cmd;
  }
  if (first == "--version" || first == "-V" || first == "version") {
    cmd.kind = CommandKind::version;
    return cmd;
  }
  if (first == "serve") {
    cmd.kind = CommandKind::serve;
  } else if (first == "check") {
    cmd.kind = CommandKind::check;
  } else if (first == "rewrite") {
    cmd.kind = CommandKind::rewrite;
  } else if (first.rfind("-", 0) == 0) {
    // `switchyard --log-level debug serve ...`: options belong to a command.
    return CliError{"option '" + first +
                    "' needs a command before it: switchyard serve|check|rewrite --config FILE " +
                    first + " ... (try --help)"};
  } else {
    return CliError{"unknown command '" + first +
                    "' (commands: serve, check, rewrite, backfill, verify, status; try --help)"};
  }

  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      cmd.kind = CommandKind::help;
      return cmd;
    }
    // Accept both "--flag value" and "--flag=value".
    std::string name = arg;
    std::optional<std::string> inline_value;
    if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      name = arg.substr(0, eq);
      inline_value = arg.substr(eq + 1);
    }
    auto value = [&]() -> std::optional<std::string> {
      if (inline_value) {
        return inline_value;
      }
      if (i + 1 < args.size()) {
        return args[++i];
      }
      return std::nullopt;
    };
    auto take = [&](std::optional<std::string>& slot) -> std::optional<CliError> {
      auto v = value();
      if (!v) {
        return CliError{name + " needs a value: " + expected_value(name)};
      }
      slot = std::move(*v);
      return std::nullopt;
    };
    std::optional<CliError> error;
    if (name == "--config" || name == "-c") {
      std::optional<std::string> v;
      error = take(v);
      if (v) {
        cmd.config_path = *v;
      }
    } else if (name == "--log-level") {
      error = take(cmd.log_level);
    } else if (name == "--log-format") {
      error = take(cmd.log_format);
    } else if (name == "--sql" && cmd.kind == CommandKind::rewrite) {
      error = take(cmd.sql);
    } else if (name == "--database" && cmd.kind == CommandKind::rewrite) {
      std::optional<std::string> v;
      error = take(v);
      if (v) {
        cmd.database = *v;
      }
    } else if (name == "--user" && cmd.kind == CommandKind::rewrite) {
      std::optional<std::string> v;
      error = take(v);
      if (v) {
        cmd.user = *v;
      }
    } else if (name == "--offline" &&
               (cmd.kind == CommandKind::rewrite || cmd.kind == CommandKind::check)) {
      if (inline_value) {
        return CliError{"--offline takes no value, not '" + *inline_value + "'"};
      }
      cmd.offline = true;
    } else {
      return CliError{"unknown option '" + arg + "' for '" + first + "' (try --help)"};
    }
    if (error) {
      return *error;
    }
  }
  // Checked here, before the config is read, so that a bad value is a usage error (exit 2)
  // whichever flag it is and whatever the file says.
  if (cmd.log_level && !one_of(kLogLevels, *cmd.log_level)) {
    return CliError{"--log-level must be one of " + listed(kLogLevels) + ", not '" +
                    *cmd.log_level + "'"};
  }
  if (cmd.log_format && !one_of(kLogFormats, *cmd.log_format)) {
    return CliError{"--log-format must be one of " + listed(kLogFormats) + ", not '" +
                    *cmd.log_format + "'"};
  }
  if (cmd.config_path.empty()) {
    return CliError{"'" + first + "' needs --config FILE"};
  }
  return cmd;
}

}  // namespace switchyard::proxy
