#include "config/values.hpp"

#include <gtest/gtest.h>

#include <array>

namespace switchyard::config {
namespace {

using namespace std::chrono_literals;

TEST(ConfigEndpointParseTest, AcceptsHostsAndIpLiterals) {
  struct Case {
    std::string_view text;
    std::string_view host;
    std::uint16_t port;
  };
  const Case cases[] = {
      {"127.0.0.1:6432", "127.0.0.1", 6432},
      {"0.0.0.0:1", "0.0.0.0", 1},
      {"localhost:5432", "localhost", 5432},
      {"db-primary.internal:65535", "db-primary.internal", 65535},
      {"postgres_db:5432", "postgres_db", 5432},
      {"[::1]:6432", "::1", 6432},
      {"[::]:6432", "::", 6432},
      {"[fe80::1%eth0]:5432", "fe80::1%eth0", 5432},
  };
  for (const Case& c : cases) {
    auto parsed = parse_endpoint(c.text);
    ASSERT_TRUE(parsed) << c.text << ": " << parsed.error;
    EXPECT_EQ(parsed.value->host, c.host);
    EXPECT_EQ(parsed.value->port, c.port);
  }
}

TEST(ConfigEndpointParseTest, RejectsMalformedWithAReason) {
  struct Case {
    std::string_view text;
    std::string_view says;
  };
  const Case cases[] = {
      {"localhost", "missing \":port\""},
      {"localhost:", "is not a number"},
      {":5432", "missing host"},
      {"localhost:65536", "out of range"},
      {"localhost:99999999999999999999", "out of range"},
      {"localhost:54x", "is not a number"},
      {"localhost:-1", "is not a number"},
      {"localhost:0", "port 0"},
      {"::1:5432", "needs brackets"},
      {"[::1:5432", "missing ']'"},
      {"[::1]5432", "missing \":port\""},
      {"[localhost]:5432", "not an IPv6 address"},
      {"bad host:5432", "not a host name"},
      {"-x:5432", "not a host name"},
      {"", "missing \":port\""},
  };
  for (const Case& c : cases) {
    auto parsed = parse_endpoint(c.text);
    ASSERT_FALSE(parsed) << c.text;
    EXPECT_NE(parsed.error.find(c.says), std::string::npos) << c.text << ": " << parsed.error;
  }
}

TEST(ConfigEndpointParseTest, PortZeroAndDefaultHostOnlyWhenAsked) {
  auto any_port = parse_endpoint("127.0.0.1:0", /*allow_port_zero=*/true);
  ASSERT_TRUE(any_port) << any_port.error;
  EXPECT_EQ(any_port.value->port, 0);

  auto defaulted = parse_endpoint(":9187", false, "127.0.0.1");
  ASSERT_TRUE(defaulted) << defaulted.error;
  EXPECT_EQ(defaulted.value->host, "127.0.0.1");
  EXPECT_EQ(defaulted.value->port, 9187);
}

TEST(ConfigUpstreamAddressTest, UnixSocketsAreNamedAsLibpqNamesThem) {
  struct Case {
    std::string_view text;
    std::string_view directory;
    std::uint16_t port;
    std::string_view socket_file;
  };
  const Case cases[] = {
      {"/var/run/postgresql", "/var/run/postgresql", 5432, "/var/run/postgresql/.s.PGSQL.5432"},
      {"/var/run/postgresql/", "/var/run/postgresql", 5432, "/var/run/postgresql/.s.PGSQL.5432"},
      {"/tmp:5433", "/tmp", 5433, "/tmp/.s.PGSQL.5433"},
      {"/tmp/.s.PGSQL.6000", "/tmp", 6000, "/tmp/.s.PGSQL.6000"},
      {"/.s.PGSQL.5432", "/", 5432, "/.s.PGSQL.5432"},
      {"/", "/", 5432, "/.s.PGSQL.5432"},
      {"/srv/pg:data/sock", "/srv/pg:data/sock", 5432, "/srv/pg:data/sock/.s.PGSQL.5432"},
  };
  for (const Case& c : cases) {
    auto parsed = parse_upstream_address(c.text);
    ASSERT_TRUE(parsed) << c.text << ": " << parsed.error;
    EXPECT_TRUE(parsed.value->is_unix()) << c.text;
    EXPECT_EQ(parsed.value->host, c.directory) << c.text;
    EXPECT_EQ(parsed.value->port, c.port) << c.text;
    EXPECT_EQ(parsed.value->unix_socket_path(), c.socket_file) << c.text;
    EXPECT_EQ(parsed.value->to_string(), c.socket_file) << c.text;
    // What /config and the logs print reads back as the same address.
    auto again = parse_upstream_address(parsed.value->to_string());
    ASSERT_TRUE(again) << again.error;
    EXPECT_EQ(*again.value, *parsed.value) << c.text;
  }

  auto tcp = parse_upstream_address("db.internal:5433");
  ASSERT_TRUE(tcp) << tcp.error;
  EXPECT_FALSE(tcp.value->is_unix());
  EXPECT_EQ(tcp.value->to_string(), "db.internal:5433");
}

TEST(ConfigUpstreamAddressTest, RejectsBadUnixSocketsWithAReason) {
  struct Case {
    std::string_view text;
    std::string_view says;
  };
  const std::string too_long = "/" + std::string(100, 'd');
  const Case cases[] = {
      {"/tmp:0", "port 0"},
      {"/tmp:x", "is not a number"},
      {"/tmp:70000", "out of range"},
      {"/tmp/.s.PGSQL.", "is not a number"},
      {"/tmp/.s.PGSQL.5432x", "is not a number"},
      {"run/postgresql", "absolute path"},
      {"./sock:5432", "absolute path"},
      {too_long, "at most 107"},
  };
  for (const Case& c : cases) {
    auto parsed = parse_upstream_address(c.text);
    ASSERT_FALSE(parsed) << c.text;
    EXPECT_NE(parsed.error.find(c.says), std::string::npos) << c.text << ": " << parsed.error;
  }
}

TEST(ConfigDurationTest, ParsesEachUnit) {
  struct Case {
    std::string_view text;
    std::chrono::milliseconds expected;
  };
  const Case cases[] = {
      {"250ms", 250ms}, {"10s", 10s}, {"2m", 2min}, {"1h", 1h}, {"0s", 0ms}, {"168h", 168h},
  };
  for (const Case& c : cases) {
    auto parsed = parse_duration(c.text);
    ASSERT_TRUE(parsed) << c.text << ": " << parsed.error;
    EXPECT_EQ(*parsed.value, c.expected) << c.text;
  }
}

TEST(ConfigDurationTest, RejectsWhatItCannotRead) {
  for (std::string_view text :
       {"", "10", "s", "10x", "1.5s", "-1s", " 10s", "10 s", "169h", "99999999999999999999999ms"}) {
    auto parsed = parse_duration(text);
    EXPECT_FALSE(parsed) << text;
    EXPECT_FALSE(parsed.error.empty()) << text;
  }
  EXPECT_NE(parse_duration("10x").error.find("ms, s, m, h"), std::string::npos);
}

TEST(ConfigDurationTest, FormatRoundTrips) {
  for (auto duration : {0ms, 250ms, 1000ms, 1500ms, 60000ms, 90000ms, 3600000ms, 7200000ms}) {
    const std::string text = format_duration(duration);
    auto parsed = parse_duration(text);
    ASSERT_TRUE(parsed) << text;
    EXPECT_EQ(*parsed.value, duration) << text;
  }
  EXPECT_EQ(format_duration(10s), "10s");
  EXPECT_EQ(format_duration(250ms), "250ms");
  EXPECT_EQ(format_duration(2min), "2m");
}

TEST(ConfigSuggestTest, CountsTypicalTyposAsSmallEdits) {
  EXPECT_EQ(edit_distance("writes", "writes"), 0u);
  EXPECT_EQ(edit_distance("wirtes", "writes"), 1u);  // transposition
  EXPECT_EQ(edit_distance("adress", "address"), 1u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);

  constexpr std::array<std::string_view, 3> known{"address", "database", "user"};
  EXPECT_EQ(closest_match("adress", known), "address");
  EXPECT_EQ(closest_match("usr", known), "user");
  EXPECT_EQ(closest_match("completely-else", known), std::nullopt);
}

}  // namespace
}  // namespace switchyard::config
