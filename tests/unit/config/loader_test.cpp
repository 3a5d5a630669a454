// Files that are valid: what they turn into, and the defaults of what they leave out.

#include <gtest/gtest.h>

#include "config/config.hpp"
#include "support.hpp"

namespace switchyard::config {
namespace {

using namespace std::chrono_literals;
using testing::describe;
using testing::parse;
using testing::ScratchDir;
using testing::with_migration;

// DESIGN.md §2, verbatim.
constexpr std::string_view kDesignExample = R"toml([listen]
address = "0.0.0.0:6432"

[upstream]
address = "127.0.0.1:5432"
tls = "prefer"              # disable | prefer | require | verify-full
# Switchyard's own connection (catalog look-ups, backfill, verify);
# client sessions always authenticate as themselves.
user = "switchyard"
password_env = "SWITCHYARD_PASSWORD"   # or password_file = "..."
database = "app"            # the database the migrations below live in

[tls]                        # client-facing TLS; absent = SSLRequest answered 'N'
cert = "server.crt"
key  = "server.key"

[admin]
address = "127.0.0.1:9187"   # HTTP: /metrics /healthz /readyz /config

[[migration]]
name       = "users-status-to-state"
table      = "public.users"
old_column = "status"
new_column = "state"
writes     = "both"          # old | both | new
reads      = "old"           # old | new
# optional, for type changes; {value} is the expression being written or read
to_new     = "CASE {value} WHEN 'active' THEN 1 WHEN 'inactive' THEN 0 END"
to_old     = "CASE {value} WHEN 1 THEN 'active' WHEN 0 THEN 'inactive' END"
on_unsupported = "reject"    # reject | passthrough
)toml";

TEST(ConfigLoaderTest, DesignExampleParsesToTheExpectedStruct) {
  ScratchDir dir;
  const auto path = dir.write("switchyard.toml", kDesignExample);
  dir.write("server.crt", "cert");
  dir.write("server.key", "key");

  LoadResult result =
      load_config(path, testing::environment_of({{"SWITCHYARD_PASSWORD", "s3cret"}}));
  ASSERT_TRUE(result.ok()) << describe(result);

  Config expected;
  expected.source = path.string();
  expected.listen.address = {"0.0.0.0", 6432};
  expected.upstream.address = {"127.0.0.1", 5432};
  expected.upstream.tls = TlsMode::prefer;
  expected.upstream.user = "switchyard";
  expected.upstream.password_env = "SWITCHYARD_PASSWORD";
  expected.upstream.password = Secret{"s3cret"};
  expected.upstream.database = "app";
  // Relative paths are resolved next to the config file.
  expected.tls =
      TlsConfig{(dir.path() / "server.crt").string(), (dir.path() / "server.key").string()};
  expected.admin = AdminConfig{{"127.0.0.1", 9187}};
  expected.migrations.push_back(Migration{
      .name = "users-status-to-state",
      .schema = "public",
      .table = "users",
      .old_column = "status",
      .new_column = "state",
      .writes = Writes::both,
      .reads = Reads::old_column,
      .to_new = "CASE {value} WHEN 'active' THEN 1 WHEN 'inactive' THEN 0 END",
      .to_old = "CASE {value} WHEN 1 THEN 'active' WHEN 0 THEN 'inactive' END",
      .old_type = "",
      .on_unsupported = OnUnsupported::reject,
      .database = "",
      .line = 20,
  });
  expected.positions = result.config->positions;  // KeyPositionsAreKeptForErrorsFound...
  EXPECT_EQ(*result.config, expected);
  EXPECT_EQ(result.config->effective_database(result.config->migrations[0]), "app");
}

TEST(ConfigLoaderTest, MinimalFileRunsATransparentProxyWithDefaults) {
  LoadResult result =
      parse("[listen]\naddress = \"127.0.0.1:6432\"\n[upstream]\naddress = \"localhost:5432\"\n");
  ASSERT_TRUE(result.ok()) << describe(result);
  const Config& config = *result.config;
  EXPECT_EQ(config.source, "test.toml");
  EXPECT_EQ(config.listen.address, (Endpoint{"127.0.0.1", 6432}));
  EXPECT_TRUE(config.listen.unix_socket_directory.empty()) << "TCP only";
  EXPECT_EQ(config.upstream.address, (Endpoint{"localhost", 5432}));
  EXPECT_EQ(config.upstream.tls, TlsMode::prefer);
  EXPECT_TRUE(config.upstream.ca_file.empty());
  EXPECT_TRUE(config.upstream.user.empty());
  EXPECT_TRUE(config.upstream.password.empty());
  EXPECT_TRUE(config.upstream.database.empty());
  EXPECT_EQ(config.upstream.catalog_check_interval, 5s);
  EXPECT_FALSE(config.tls.has_value());
  EXPECT_FALSE(config.admin.has_value());
  EXPECT_EQ(config.timeouts.startup, 10s);
  EXPECT_EQ(config.timeouts.connect, 5s);
  EXPECT_EQ(config.timeouts.drain, 30s);
  EXPECT_EQ(config.timeouts.idle_client, 0ms);
  EXPECT_EQ(config.log.level, "info");
  EXPECT_EQ(config.log.format, LogFormat::text);
  EXPECT_EQ(config.runtime.threads, 0u);
  EXPECT_EQ(config.runtime.scheduling, WorkerScheduling::batch);
  EXPECT_TRUE(config.migrations.empty());
}

TEST(ConfigLoaderTest, ReadsEveryOptionalSection) {
  LoadResult result = parse(R"toml(
[listen]
address = "[::]:0"
unix_socket_directory = "/var/run/switchyard"
[upstream]
address = "[::1]:5433"
tls = "disable"
catalog_check_interval = 0
[admin]
address = ":9000"
[timeouts]
startup = "250ms"
connect = 3
drain = "2m"
idle_client = "1h"
[log]
level = "debug"
format = "json"
[runtime]
threads = 4
scheduling = "normal"
)toml");
  ASSERT_TRUE(result.ok()) << describe(result);
  const Config& config = *result.config;
  EXPECT_EQ(config.listen.address, (Endpoint{"::", 0}));
  EXPECT_EQ(config.listen.unix_socket_directory, "/var/run/switchyard");
  EXPECT_EQ(config.upstream.address, (Endpoint{"::1", 5433}));
  EXPECT_EQ(config.upstream.tls, TlsMode::disable);
  EXPECT_EQ(config.upstream.catalog_check_interval, 0ms) << "0 turns the check off";
  ASSERT_TRUE(config.admin.has_value());
  EXPECT_EQ(config.admin->address, (Endpoint{"127.0.0.1", 9000}));
  EXPECT_EQ(config.timeouts.startup, 250ms);
  EXPECT_EQ(config.timeouts.connect, 3s);
  EXPECT_EQ(config.timeouts.drain, 2min);
  EXPECT_EQ(config.timeouts.idle_client, 1h);
  EXPECT_EQ(config.log.level, "debug");
  EXPECT_EQ(config.log.format, LogFormat::json);
  EXPECT_EQ(config.runtime.threads, 4u);
  EXPECT_EQ(config.runtime.scheduling, WorkerScheduling::normal);
}

TEST(ConfigLoaderTest, EmptyAdminSectionUsesTheDefaultAddress) {
  LoadResult result = parse(std::string(testing::kBase) + "[admin]\n");
  ASSERT_TRUE(result.ok()) << describe(result);
  ASSERT_TRUE(result.config->admin.has_value());
  EXPECT_EQ(result.config->admin->address, (Endpoint{"127.0.0.1", 9187}));
}

TEST(ConfigLoaderTest, EveryFlagCombinationButReadsOldWritesNewIsValid) {
  struct Case {
    std::string_view writes, reads;
    Writes expected_writes;
    Reads expected_reads;
  };
  const Case cases[] = {
      {"old", "old", Writes::old_column, Reads::old_column},
      {"both", "old", Writes::both, Reads::old_column},
      {"both", "new", Writes::both, Reads::new_column},
      {"new", "new", Writes::new_column, Reads::new_column},
      {"old", "new", Writes::old_column, Reads::new_column},
  };
  for (const Case& c : cases) {
    LoadResult result = parse(with_migration("writes = \"" + std::string(c.writes) +
                                             "\"\nreads = \"" + std::string(c.reads) + "\"\n"));
    ASSERT_TRUE(result.ok()) << c.writes << "/" << c.reads << ": " << describe(result);
    EXPECT_EQ(result.config->migrations[0].writes, c.expected_writes);
    EXPECT_EQ(result.config->migrations[0].reads, c.expected_reads);
  }
}

TEST(ConfigLoaderTest, MigrationDefaultsAndLine) {
  LoadResult result = parse(with_migration());
  ASSERT_TRUE(result.ok()) << describe(result);
  const Migration& m = result.config->migrations.at(0);
  EXPECT_EQ(m.name, "m");
  EXPECT_EQ(m.schema, "public");
  EXPECT_EQ(m.table, "users");
  EXPECT_EQ(m.writes, Writes::old_column);
  EXPECT_EQ(m.reads, Reads::old_column);
  EXPECT_TRUE(m.to_new.empty());
  EXPECT_TRUE(m.to_old.empty());
  EXPECT_EQ(m.on_unsupported, OnUnsupported::reject);
  EXPECT_TRUE(m.database.empty());
  EXPECT_EQ(m.line, 7);
  EXPECT_EQ(result.config->find_migration("m"), &m);
}

TEST(ConfigLoaderTest, QuotedIdentifiersAreStoredAsWritten) {
  LoadResult result = parse(std::string(testing::kBase) + R"toml(
[[migration]]
name = "orders"
table = '"Sales Data"."Orders"'
old_column = '"Order Status"'
new_column = "order_state"
on_unsupported = "passthrough"
)toml");
  ASSERT_TRUE(result.ok()) << describe(result);
  const Migration& m = result.config->migrations.at(0);
  EXPECT_EQ(m.schema, "\"Sales Data\"");
  EXPECT_EQ(m.table, "\"Orders\"");
  EXPECT_EQ(m.old_column, "\"Order Status\"");
  EXPECT_EQ(m.new_column, "order_state");
  EXPECT_EQ(m.on_unsupported, OnUnsupported::passthrough);
}

TEST(ConfigLoaderTest, ExplicitIdentityConversionCompletesAPair) {
  LoadResult result = parse(with_migration("to_new = \"lower({value})\"\nto_old = \"{value}\"\n"));
  ASSERT_TRUE(result.ok()) << describe(result);
  EXPECT_EQ(result.config->migrations[0].to_new, "lower({value})");
  EXPECT_EQ(result.config->migrations[0].to_old, "{value}");
}

TEST(ConfigLoaderTest, OldTypeIsReadAsWritten) {
  LoadResult result = parse(with_migration("old_type = \"character varying(20)\"\n"));
  ASSERT_TRUE(result.ok()) << describe(result);
  EXPECT_EQ(result.config->migrations[0].old_type, "character varying(20)");
}

TEST(ConfigLoaderTest, MigrationsWithTheirOwnDatabaseNeedNoUpstreamDatabase) {
  LoadResult result = parse(R"toml(
[listen]
address = "127.0.0.1:6432"
[upstream]
address = "127.0.0.1:5432"
user = "switchyard"
[[migration]]
name = "a"
table = "public.users"
old_column = "status"
new_column = "state"
database = "billing"
[[migration]]
name = "b"
table = "public.users"
old_column = "status"
new_column = "state"
database = "crm"
)toml");
  ASSERT_TRUE(result.ok()) << describe(result);
  EXPECT_EQ(result.config->effective_database(result.config->migrations[0]), "billing");
  EXPECT_EQ(result.config->effective_database(result.config->migrations[1]), "crm");
}

TEST(ConfigLoaderTest, SeveralMigrationsOnDifferentColumnsOfOneTable) {
  LoadResult result = parse(with_migration(R"toml(
[[migration]]
name = "m2"
table = "public.users"
old_column = "email"
new_column = "email_address"
)toml"));
  ASSERT_TRUE(result.ok()) << describe(result);
  ASSERT_EQ(result.config->migrations.size(), 2u);
  EXPECT_EQ(result.config->migrations[1].line, 13);
}

// What only the catalog or the TLS files show wrong is told at the key's line, as the loader
// tells its own errors; a key left out is told at its section's, nothing at no line.
TEST(ConfigLoaderTest, KeyPositionsAreKeptForErrorsFoundAfterLoading) {
  auto result = parse(with_migration("to_new = \"{value}\"\nto_old = \"{value}\"\n"));
  ASSERT_TRUE(result.ok()) << describe(result);
  const Config& config = *result.config;
  EXPECT_EQ(config.key_of(config.migrations[0]), "migration[0]");
  const struct {
    std::string key;
    std::string formatted;
  } cases[] = {
      {"migration[0].table", "test.toml:9:9: migration[0].table: wrong"},
      {"migration[0].to_old", "test.toml:13:10: migration[0].to_old: wrong"},
      {"migration[0].old_type", "test.toml:7:1: migration[0].old_type: wrong"},  // left out
      {"upstream.ca_file", "test.toml:3:1: upstream.ca_file: wrong"},
      {"tls.cert", "test.toml: tls.cert: wrong"},  // no [tls] section
      {"", "test.toml: wrong"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(format_error(config.error_at(c.key, "wrong")), c.formatted) << c.key;
  }
}

}  // namespace
}  // namespace switchyard::config
