#include "config/config.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace switchyard::config {
namespace {

TEST(ConfigToStringTest, EnumsUseTheSpellingOfTheFile) {
  EXPECT_EQ(to_string(TlsMode::disable), "disable");
  EXPECT_EQ(to_string(TlsMode::prefer), "prefer");
  EXPECT_EQ(to_string(TlsMode::require), "require");
  EXPECT_EQ(to_string(TlsMode::verify_full), "verify-full");
  EXPECT_EQ(to_string(Writes::old_column), "old");
  EXPECT_EQ(to_string(Writes::both), "both");
  EXPECT_EQ(to_string(Writes::new_column), "new");
  EXPECT_EQ(to_string(Reads::old_column), "old");
  EXPECT_EQ(to_string(Reads::new_column), "new");
  EXPECT_EQ(to_string(OnUnsupported::reject), "reject");
  EXPECT_EQ(to_string(OnUnsupported::passthrough), "passthrough");
  EXPECT_EQ(to_string(LogFormat::text), "text");
  EXPECT_EQ(to_string(LogFormat::json), "json");
}

TEST(ConfigEndpointTest, BracketsOnlyIpv6Hosts) {
  EXPECT_EQ((Endpoint{"127.0.0.1", 6432}).to_string(), "127.0.0.1:6432");
  EXPECT_EQ((Endpoint{"::1", 6432}).to_string(), "[::1]:6432");
  EXPECT_EQ((Endpoint{"localhost", 5432}).to_string(), "localhost:5432");
}

TEST(ConfigSecretTest, NeverPrintsItsValue) {
  const Secret secret{"hunter2"};
  EXPECT_FALSE(secret.empty());
  EXPECT_EQ(secret.to_string(), "<redacted>");
  EXPECT_EQ(secret.redacted(), "<redacted>");
  std::ostringstream out;
  out << secret;
  EXPECT_EQ(out.str(), "<redacted>");
  EXPECT_TRUE(Secret{}.empty());
}

Migration named(std::string name) {
  Migration migration;
  migration.name = std::move(name);
  return migration;
}

TEST(ConfigTest, FindsMigrationsByName) {
  Config config;
  config.migrations.push_back(named("a"));
  config.migrations.push_back(named("b"));
  ASSERT_NE(config.find_migration("b"), nullptr);
  EXPECT_EQ(config.find_migration("b"), &config.migrations[1]);
  EXPECT_EQ(config.find_migration("c"), nullptr);
}

TEST(ConfigTest, EffectiveDatabasePrefersTheMigrationsOwn) {
  Config config;
  config.upstream.database = "app";
  EXPECT_EQ(config.effective_database(Migration{}), "app");
  Migration own;
  own.database = "billing";
  EXPECT_EQ(config.effective_database(own), "billing");
}

TEST(ConfigFormatErrorTest, OmitsAbsentParts) {
  struct Case {
    ConfigError error;
    std::string_view expected;
  };
  const Case cases[] = {
      {{"a.toml", 3, 7, "upstream.tls", "bad"}, "a.toml:3:7: upstream.tls: bad"},
      {{"a.toml", 3, 0, "upstream.tls", "bad"}, "a.toml:3: upstream.tls: bad"},
      {{"a.toml", 0, 0, "listen.address", "required"}, "a.toml: listen.address: required"},
      {{"a.toml", 2, 1, "", "invalid TOML"}, "a.toml:2:1: invalid TOML"},
      {{"a.toml", 0, 0, "", "cannot read"}, "a.toml: cannot read"},
      {{"", 0, 0, "key", "message"}, "key: message"},
      {{"", 0, 0, "", "message"}, "message"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(format_error(c.error), c.expected);
  }
}

TEST(ConfigLoadResultTest, OkOnlyWithAConfigAndNoErrors) {
  LoadResult result;
  EXPECT_FALSE(result.ok());
  result.config.emplace();
  EXPECT_TRUE(result.ok());
  result.errors.push_back(ConfigError{});
  EXPECT_FALSE(result.ok());
}

}  // namespace
}  // namespace switchyard::config
