// Table of bad files: each gives exactly the listed number of errors, and the first error
// points at the right line and key and says what would be valid.

#include <gtest/gtest.h>

#include <vector>

#include "config/config.hpp"
#include "support.hpp"

namespace switchyard::config {
namespace {

using testing::describe;
using testing::kBase;
using testing::with_migration;

struct ErrorCase {
  std::string name;  // test name suffix
  std::string toml;
  int line;                       // of the first error; 0 = no position
  std::string key;                // of the first error
  std::vector<std::string> says;  // substrings of the first error's message
  std::size_t count = 1;          // total number of errors
};

// Keeps gtest from printing the struct as bytes when a case fails.
void PrintTo(const ErrorCase& c, std::ostream* out) { *out << c.name; }

// Lines 1-6 of kBase are valid; "[listen]" + "[upstream]" without user/database:
constexpr std::string_view kPlainBase =
    "[listen]\n"
    "address = \"127.0.0.1:6432\"\n"
    "[upstream]\n"
    "address = \"127.0.0.1:5432\"\n";

std::string plain(std::string_view extra) { return std::string(kPlainBase) + std::string(extra); }
std::string base(std::string_view extra) { return std::string(kBase) + std::string(extra); }

std::vector<ErrorCase> error_cases() {
  return {
      // TOML itself.
      {"TomlSyntax", "[listen\naddress = 1\n", 1, "", {"invalid TOML"}},
      {"TomlDuplicateKey", plain("address = \"x:1\"\n"), 5, "", {"invalid TOML"}},
      // Unknown sections and keys, with and without a close match.
      {"UnknownSectionWithHint",
       base("[admn]\naddress = \"127.0.0.1:9187\"\n"),
       7,
       "admn",
       {"unknown section [admn]", "did you mean [admin]?"}},
      {"UnknownSectionListsKnown",
       base("[metrics]\n"),
       7,
       "metrics",
       {"unknown section [metrics]", "known sections: listen, upstream"}},
      {"UnknownTopLevelKey", "debug = true\n" + base(""), 1, "debug", {"unknown key \"debug\""}},
      {"UnknownKeyWithHint",
       base("databse = \"app\"\n"),
       7,
       "upstream.databse",
       {"did you mean \"database\"?"}},
      {"UnknownKeyListsKnown",
       base("pool_size = 10\n"),
       7,
       "upstream.pool_size",
       {"known keys: address, tls, ca_file"}},
      {"PasswordKeyPointsToEnvAndFile",
       base("password = \"hunter2\"\n"),
       7,
       "upstream.password",
       {"password_env", "password_file"}},
      {"PortKeyPointsToAddress",
       "[listen]\nport = 6432\naddress = \"127.0.0.1:6432\"\n[upstream]\naddress = \"db:5432\"\n",
       2,
       "listen.port",
       {"host:port"}},
      {"UnknownMigrationKeyWithHint",
       with_migration("wirtes = \"both\"\n"),
       12,
       "migration[0].wirtes",
       {"did you mean \"writes\"?"}},
      // Wrong types.
      {"AddressNotAString",
       "[listen]\naddress = 6432\n[upstream]\naddress = \"db:5432\"\n",
       2,
       "listen.address",
       {"must be a string, not an integer"}},
      {"SectionNotATable",
       "listen = \"127.0.0.1:6432\"\n[upstream]\naddress = \"db:5432\"\n",
       1,
       "listen",
       {"must be a table ([listen])"}},
      {"MigrationAsSingleTable",
       base("[migration]\nname = \"m\"\n"),
       7,
       "migration",
       {"[[migration]]"}},
      {"MigrationElementNotATable",
       "migration = [1]\n" + base(""),
       1,
       "migration[0]",
       {"must be a table"}},
      {"EnumNotAString",
       base("tls = true\n"),
       7,
       "upstream.tls",
       {"must be a string, one of \"disable\", \"prefer\", \"require\", \"verify-full\""}},
      {"ThreadsNotAnInteger",
       base("[runtime]\nthreads = \"4\"\n"),
       8,
       "runtime.threads",
       {"must be an integer"}},
      {"DurationNotAStringOrInteger",
       base("[timeouts]\ndrain = 1.5\n"),
       8,
       "timeouts.drain",
       {"\"10s\"", "not a float"}},
      {"EmptyStringValue", base("ca_file = \"\"\n"), 7, "upstream.ca_file", {"must not be empty"}},
      {"CatalogCheckTooOften",
       base("catalog_check_interval = \"10ms\"\n"),
       7,
       "upstream.catalog_check_interval",
       {"at least 100ms", "or 0 to turn the check off"}},
      // Enum values list what is valid.
      {"BadTlsModeSuggests",
       base("tls = \"verify_full\"\n"),
       7,
       "upstream.tls",
       {"\"verify_full\" is not valid", "\"disable\", \"prefer\", \"require\", \"verify-full\"",
        "did you mean \"verify-full\"?"}},
      {"BadWrites",
       with_migration("writes = \"dual\"\n"),
       12,
       "migration[0].writes",
       {"\"old\", \"both\", \"new\""}},
      {"BadReads",
       with_migration("reads = \"both\"\n"),
       12,
       "migration[0].reads",
       {"\"old\", \"new\""}},
      {"BadOnUnsupported",
       with_migration("on_unsupported = \"ignore\"\n"),
       12,
       "migration[0].on_unsupported",
       {"\"reject\", \"passthrough\""}},
      {"BadLogLevel",
       base("[log]\nlevel = \"verbose\"\n"),
       8,
       "log.level",
       {"\"trace\", \"debug\", \"info\", \"warn\", \"error\", \"critical\", \"off\""}},
      {"BadLogFormat",
       base("[log]\nformat = \"jsonl\"\n"),
       8,
       "log.format",
       {"\"text\", \"json\"", "did you mean \"json\"?"}},
      // Required keys.
      {"MissingListenSection",
       "[upstream]\naddress = \"db:5432\"\n",
       0,
       "listen.address",
       {"required", "0.0.0.0:6432"}},
      {"MissingUpstreamAddress",
       "[listen]\naddress = \"127.0.0.1:6432\"\n[upstream]\nuser = \"u\"\n",
       3,
       "upstream.address",
       {"required", "127.0.0.1:5432"}},
      {"EmptyFile", "", 0, "listen.address", {"required"}, 2},
      // Endpoints.
      {"EndpointWithoutPort",
       "[listen]\naddress = \"0.0.0.0\"\n[upstream]\naddress = \"db:5432\"\n",
       2,
       "listen.address",
       {"\"0.0.0.0\"", "missing \":port\"", "host:port"}},
      {"EndpointPortOutOfRange",
       plain("[admin]\naddress = \"127.0.0.1:70000\"\n"),
       6,
       "admin.address",
       {"out of range", "1..65535"}},
      {"UpstreamPortZero",
       "[listen]\naddress = \"127.0.0.1:6432\"\n[upstream]\naddress = \"db:0\"\n",
       4,
       "upstream.address",
       {"port 0"}},
      {"Ipv6WithoutBrackets",
       "[listen]\naddress = \"::1:6432\"\n[upstream]\naddress = \"db:5432\"\n",
       2,
       "listen.address",
       {"[::1]:6432"}},
      {"ListenOnAUnixSocketPath",
       "[listen]\naddress = \"/run/switchyard:6432\"\n[upstream]\naddress = \"db:5432\"\n",
       2,
       "listen.address",
       {"not a host name or IP address"}},
      {"UpstreamUnixSocketRelativePath",
       "[listen]\naddress = \"127.0.0.1:6432\"\n[upstream]\naddress = \"run/postgresql\"\n",
       4,
       "upstream.address",
       {"absolute path", "/var/run/postgresql"}},
      {"UpstreamUnixSocketWithTlsRequire",
       "[listen]\naddress = \"127.0.0.1:6432\"\n[upstream]\naddress = "
       "\"/var/run/postgresql\"\ntls = \"require\"\n",
       5,
       "upstream.tls",
       {"\"require\"", "does not offer TLS on a unix socket", "/var/run/postgresql/.s.PGSQL.5432",
        "\"disable\" or \"prefer\""}},
      {"ListenUnixSocketRelative",
       "[listen]\naddress = \"127.0.0.1:6432\"\nunix_socket_directory = \"run/sy\"\n"
       "[upstream]\naddress = \"127.0.0.1:5432\"\n",
       3,
       "listen.unix_socket_directory",
       {"\"run/sy\" is not an absolute path", "/var/run/switchyard"}},
      {"ListenUnixSocketTooLong",
       "[listen]\naddress = \"127.0.0.1:6432\"\nunix_socket_directory = \"/" +
           std::string(95, 'd') + "\"\n[upstream]\naddress = \"127.0.0.1:5432\"\n",
       3,
       "listen.unix_socket_directory",
       {"too long", "up to 111 bytes", "at most 107"}},
      // Durations and numbers.
      {"DurationUnknownUnit",
       base("[timeouts]\nstartup = \"10sec\"\n"),
       8,
       "timeouts.startup",
       {"unknown unit \"sec\"", "ms, s, m, h"}},
      {"DurationNegative", base("[timeouts]\nconnect = -5\n"), 8, "timeouts.connect", {"negative"}},
      {"DurationZeroWhereItMustRun",
       base("[timeouts]\nstartup = 0\n"),
       8,
       "timeouts.startup",
       {"greater than zero"}},
      {"DurationTooLong",
       base("[timeouts]\ndrain = \"1000h\"\n"),
       8,
       "timeouts.drain",
       {"at most 168h"}},
      {"SchedulingUnknown",
       base("[runtime]\nscheduling = \"batched\"\n"),
       8,
       "runtime.scheduling",
       {"\"batched\" is not valid; valid values: \"batch\", \"normal\"",
        "did you mean \"batch\"?"}},
      {"SchedulingNotAString",
       base("[runtime]\nscheduling = 1\n"),
       8,
       "runtime.scheduling",
       {"must be a string, one of \"batch\", \"normal\""}},
      {"ThreadsOutOfRange",
       base("[runtime]\nthreads = 100000\n"),
       8,
       "runtime.threads",
       {"0 (one per usable CPU) to 1024"}},
      // Migrations.
      {"MigrationMissingKeys", base("[[migration]]\n"), 7, "migration[0].name", {"required"}, 4},
      {"MigrationEmptyName",
       base("[[migration]]\nname = \"\"\ntable = \"public.users\"\n"
            "old_column = \"a\"\nnew_column = \"b\"\n"),
       8,
       "migration[0].name",
       {"must not be empty"}},
      {"MigrationDuplicateName",
       with_migration("[[migration]]\nname = \"m\"\ntable = \"public.orders\"\n"
                      "old_column = \"a\"\nnew_column = \"b\"\n"),
       13,
       "migration[1].name",
       {"\"m\" is already the name of migration[0] (line 7)", "unique"}},
      {"TableNotQualified",
       base("[[migration]]\nname = \"m\"\ntable = \"users\"\nold_column = \"a\"\nnew_column = "
            "\"b\"\n"),
       9,
       "migration[0].table",
       {"not schema-qualified", "\"public.users\""}},
      {"TableThreeParts",
       base("[[migration]]\nname = \"m\"\ntable = \"app.public.users\"\nold_column = \"a\"\n"
            "new_column = \"b\"\n"),
       9,
       "migration[0].table",
       {"schema.table", "database = "}},
      {"TableWithCapitals",
       base("[[migration]]\nname = \"m\"\ntable = \"public.Users\"\nold_column = \"a\"\n"
            "new_column = \"b\"\n"),
       9,
       "migration[0].table",
       {"\"Users\" has capitals", "write users", "quote it"}},
      {"ColumnTooLong",
       base("[[migration]]\nname = \"m\"\ntable = \"public.users\"\nold_column = \"" +
            std::string(64, 'c') + "\"\nnew_column = \"b\"\n"),
       10,
       "migration[0].old_column",
       {"at most 63 bytes"}},
      {"SameColumn",
       base("[[migration]]\nname = \"m\"\ntable = \"public.users\"\nold_column = \"status\"\n"
            "new_column = \"status\"\n"),
       11,
       "migration[0].new_column",
       {"same column as old_column"}},
      {"SameColumnOnceQuoted",
       base("[[migration]]\nname = \"m\"\ntable = \"public.users\"\nold_column = \"status\"\n"
            "new_column = '\"status\"'\n"),
       11,
       "migration[0].new_column",
       {"same column"}},
      {"ReadsOldWithWritesNew",
       with_migration("writes = \"new\"\nreads = \"old\"\n"),
       12,
       "migration[0].writes",
       {"reads would go stale", "stop being written", "reads to \"new\" first"}},
      {"ReadsDefaultOldWithWritesNew",
       with_migration("writes = \"new\"\n"),
       12,
       "migration[0].writes",
       {"reads would go stale"}},
      {"ConversionWithoutValue",
       with_migration("to_new = \"x::int\"\nto_old = \"{value}\"\n"),
       12,
       "migration[0].to_new",
       {"must contain {value}"}},
      {"OnlyToNew",
       with_migration("to_new = \"{value}::int\"\n"),
       12,
       "migration[0].to_new",
       {"without to_old", "set both", "to_old = \"{value}\""}},
      {"EmptyOldType",
       with_migration("old_type = \"\"\n"),
       12,
       "migration[0].old_type",
       {"must not be empty"}},
      {"OnlyToOld",
       with_migration("to_old = \"{value}::text\"\n"),
       12,
       "migration[0].to_old",
       {"without to_new", "to_new = \"{value}\""}},
      {"ColumnInTwoMigrations",
       with_migration("[[migration]]\nname = \"m2\"\ntable = \"public.users\"\n"
                      "old_column = \"state\"\nnew_column = \"state2\"\n"),
       15,
       "migration[1].old_column",
       {"public.users.state is already in migration \"m\" (line 7)", "one migration at a time"}},
      {"MigrationsNeedUpstreamUser",
       plain("database = \"app\"\n[[migration]]\nname = \"m\"\ntable = \"public.users\"\n"
             "old_column = \"a\"\nnew_column = \"b\"\n"),
       3,
       "upstream.user",
       {"required when migrations are declared", "catalog", "line 6"}},
      {"MigrationsNeedUpstreamDatabase",
       plain("user = \"u\"\n[[migration]]\nname = \"m\"\ntable = \"public.users\"\n"
             "old_column = \"a\"\nnew_column = \"b\"\n"),
       3,
       "upstream.database",
       {"required when a migration has no database of its own"}},
      // Upstream TLS and passwords (the file-system cases live in files_test).
      {"VerifyFullNeedsCaFile",
       base("tls = \"verify-full\"\n"),
       7,
       "upstream.tls",
       {"\"verify-full\" needs ca_file"}},
      {"PasswordEnvAndFile",
       base("password_env = \"PW\"\npassword_file = \"pw\"\n"),
       8,
       "upstream.password_file",
       {"both set", "keep one"}},
      {"PasswordEnvUnset",
       base("password_env = \"SWITCHYARD_TEST_UNSET\"\n"),
       7,
       "upstream.password_env",
       {"SWITCHYARD_TEST_UNSET is not set"}},
      // [tls] needs both files.
      {"TlsCertWithoutKey",
       base("[tls]\ncert = \"/nonexistent/server.crt\"\n"),
       7,
       "tls.key",
       {"required"},
       2},
      {"TlsEmpty", base("[tls]\n"), 7, "tls.cert", {"required"}, 2},
  };
}

class ConfigErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ConfigErrorTest, ReportsLineKeyAndWhatIsValid) {
  const ErrorCase& c = GetParam();
  const LoadResult result = testing::parse(c.toml);
  ASSERT_FALSE(result.ok());
  EXPECT_FALSE(result.config.has_value());
  ASSERT_EQ(result.errors.size(), c.count) << describe(result);
  const ConfigError& first = result.errors.front();
  EXPECT_EQ(first.file, "test.toml");
  EXPECT_EQ(first.line, c.line) << describe(result);
  EXPECT_EQ(first.key, c.key) << describe(result);
  for (const std::string& part : c.says) {
    EXPECT_NE(first.message.find(part), std::string::npos)
        << "expected \"" << part << "\" in: " << format_error(first);
  }
  if (c.line > 0) {
    EXPECT_GT(first.column, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, ConfigErrorTest, ::testing::ValuesIn(error_cases()),
                         [](const ::testing::TestParamInfo<ErrorCase>& info) {
                           return info.param.name;
                         });

TEST(ConfigErrorsTest, ReportsEveryErrorInFileOrder) {
  const LoadResult result = testing::parse(R"toml([listen]
address = "0.0.0.0"
[upstream]
address = "db:5432"
tls = "sometimes"
[timeouts]
startup = "soon"
[[migration]]
name = "m"
table = "users"
old_column = "a"
new_column = "a"
writes = "new"
reads = "old"
)toml");
  std::vector<std::pair<int, std::string>> got;
  for (const ConfigError& error : result.errors) {
    got.emplace_back(error.line, error.key);
  }
  const std::vector<std::pair<int, std::string>> expected{
      {2, "listen.address"},           {3, "upstream.user"},
      {3, "upstream.database"},        {5, "upstream.tls"},
      {7, "timeouts.startup"},         {10, "migration[0].table"},
      {12, "migration[0].new_column"}, {13, "migration[0].writes"},
  };
  EXPECT_EQ(got, expected) << describe(result);
}

TEST(ConfigErrorsTest, MistakesInOneKeyAreReportedOnce) {
  // A bad writes value must not also produce a writes/reads combination error, and an
  // invalid old_column must not also be "missing".
  const LoadResult result = testing::parse(with_migration("writes = \"neww\"\n") +
                                           "[[migration]]\nname = \"x\"\ntable = "
                                           "\"public.t\"\nold_column = \"Bad\"\nnew_column = "
                                           "\"b\"\n");
  ASSERT_EQ(result.errors.size(), 2u) << describe(result);
  EXPECT_EQ(result.errors[0].key, "migration[0].writes");
  EXPECT_EQ(result.errors[1].key, "migration[1].old_column");
}

}  // namespace
}  // namespace switchyard::config
