#include <gtest/gtest.h>

#include "config/config.hpp"
#include "support.hpp"

namespace switchyard::config {
namespace {

TEST(ConfigJsonTest, MinimalConfigIsCompleteAndStable) {
  const LoadResult result = testing::parse(
      "[listen]\naddress = \"127.0.0.1:6432\"\n[upstream]\naddress = \"[::1]:5432\"\n");
  ASSERT_TRUE(result.ok()) << testing::describe(result);
  EXPECT_EQ(
      to_redacted_json(*result.config),
      R"({"source":"test.toml","listen":{"address":"127.0.0.1:6432","unix_socket_directory":null},)"
      R"("upstream":{"address":"[::1]:5432","tls":"prefer","ca_file":null,"user":null,)"
      R"("password_env":null,"password_file":null,"password":null,"database":null,)"
      R"("catalog_check_interval":"5s"},)"
      R"("tls":null,"admin":null,)"
      R"("timeouts":{"startup":"10s","connect":"5s","drain":"30s","idle_client":"0s"},)"
      R"("log":{"level":"info","format":"text"},"runtime":{"threads":0,"scheduling":"batch"},"migrations":[]})");
}

TEST(ConfigJsonTest, MigrationsShowFlagsAndEffectiveDatabase) {
  const LoadResult result = testing::parse(testing::with_migration(
      "writes = \"both\"\nto_new = \"{value}::int\"\nto_old = \"{value}::text\"\n"));
  ASSERT_TRUE(result.ok()) << testing::describe(result);
  const std::string json = to_redacted_json(*result.config);
  EXPECT_NE(
      json.find(R"("migrations":[{"name":"m","table":"public.users",)"
                R"("old_column":"status","new_column":"state","writes":"both",)"
                R"("reads":"old","to_new":"{value}::int","to_old":"{value}::text","old_type":null,)"
                R"("on_unsupported":"reject","database":"app","line":7}])"),
      std::string::npos)
      << json;
}

TEST(ConfigJsonTest, EscapesQuotesBackslashesAndControlCharacters) {
  Config config;
  config.source = "dir\\\"odd\"\n\x01.toml";
  const std::string json = to_redacted_json(config);
  EXPECT_NE(json.find(R"("source":"dir\\\"odd\"\n\u0001.toml")"), std::string::npos) << json;
}

}  // namespace
}  // namespace switchyard::config
