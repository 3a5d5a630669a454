// The command line of serve, check and rewrite: one row per argv, what it must parse to or
// which error it must give.

#include "proxy/cli.hpp"

#include <gtest/gtest.h>

namespace switchyard::proxy {
namespace {

struct Row {
  std::vector<std::string> args;
  std::string error;  // a part of the expected error's text; empty when a command is expected
  CommandKind kind;
  std::string config;
  bool offline;
};

Row parses(std::vector<std::string> args, CommandKind kind, std::string config = "",
           bool offline = false) {
  return {std::move(args), "", kind, std::move(config), offline};
}

Row fails(std::vector<std::string> args, std::string error) {
  return {std::move(args), std::move(error), CommandKind::help, "", false};
}

TEST(CommandLineTest, ParsesOrExplains) {
  const std::vector<Row> rows = {
      fails({}, "no command given"),
      parses({"--help"}, CommandKind::help),
      parses({"-V"}, CommandKind::version),
      parses({"serve", "--config", "a.toml"}, CommandKind::serve, "a.toml"),
      parses({"serve", "--config=a.toml"}, CommandKind::serve, "a.toml"),
      parses({"serve", "-c", "a.toml", "--help"}, CommandKind::help),
      parses({"check", "--config", "a.toml", "--offline"}, CommandKind::check, "a.toml", true),
      parses({"rewrite", "--offline", "--config", "a.toml", "--sql", "SELECT 1"},
             CommandKind::rewrite, "a.toml", true),
      fails({"serve"}, "'serve' needs --config FILE"),
      fails({"serve", "--config"}, "--config needs a value"),
      fails({"serve", "--config", "a.toml", "--offline"}, "unknown option '--offline' for 'serve'"),
      fails({"check", "--config", "a.toml", "--sql", "x"}, "unknown option '--sql' for 'check'"),
      fails({"serve", "--config", "a.toml", "--log-format", "xml"},
            "--log-format must be one of text, json, not 'xml'"),
      // A bad value is a usage error of the command line whatever the flag, found before the
      // config file is read, for every command that takes the flag.
      fails({"serve", "--config", "a.toml", "--log-level", "loud"},
            "--log-level must be one of trace, debug, info, warn, error, critical, off, not "
            "'loud'"),
      fails({"check", "--config", "a.toml", "--log-level=loud"}, "--log-level must be one of"),
      fails({"serve", "--log-level", "loud"}, "--log-level must be one of"),
      fails({"serve", "--config", "a.toml", "--log-level"},
            "--log-level needs a value: one of trace, debug"),
      fails({"rewrite", "--config", "a.toml", "--offline=yes"}, "--offline takes no value"),
      parses({"serve", "--config", "a.toml", "--log-level", "critical", "--log-format=json"},
             CommandKind::serve, "a.toml"),
      // Options go after the command; the error says so instead of calling it a command.
      fails({"--log-format", "xml"}, "option '--log-format' needs a command before it"),
      // Every command is named, those parsed elsewhere too.
      fails({"bogus"}, "commands: serve, check, rewrite, backfill, verify, status"),
  };
  for (const Row& row : rows) {
    std::string shown;
    for (const auto& arg : row.args) {
      shown += arg + " ";
    }
    auto parsed = parse_command_line(row.args);
    if (!row.error.empty()) {
      auto* error = std::get_if<CliError>(&parsed);
      ASSERT_NE(error, nullptr) << shown;
      EXPECT_NE(error->message.find(row.error), std::string::npos) << shown << error->message;
      continue;
    }
    auto* cmd = std::get_if<CommandLine>(&parsed);
    ASSERT_NE(cmd, nullptr) << shown << std::get<CliError>(parsed).message;
    EXPECT_EQ(cmd->kind, row.kind) << shown;
    if (row.kind == CommandKind::help || row.kind == CommandKind::version) {
      continue;
    }
    EXPECT_EQ(cmd->config_path, row.config) << shown;
    EXPECT_EQ(cmd->offline, row.offline) << shown;
  }
}

}  // namespace
}  // namespace switchyard::proxy
