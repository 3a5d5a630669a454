#include "backfill/pg_connection.hpp"

#include <gtest/gtest.h>

#include <map>

namespace switchyard::backfill {
namespace {

std::map<std::string, std::string> as_map(const ConnectionParameters& p) {
  EXPECT_EQ(p.keywords.size(), p.values.size());
  std::map<std::string, std::string> out;
  for (std::size_t i = 0; i < p.keywords.size(); ++i) {
    out[p.keywords[i]] = p.values[i];
  }
  return out;
}

config::Config sample() {
  config::Config c;
  c.upstream.address = {"db.internal", 5433};
  c.upstream.tls = config::TlsMode::verify_full;
  c.upstream.ca_file = "/etc/ca.pem";
  c.upstream.user = "switchyard";
  c.upstream.password.value = "s3cret";
  c.upstream.database = "app";
  c.timeouts.connect = std::chrono::milliseconds(2500);
  return c;
}

TEST(PgConnectionTest, ParametersComeFromUpstream) {
  auto p = as_map(own_connection_parameters(sample(), ""));
  EXPECT_EQ(p["host"], "db.internal");
  EXPECT_EQ(p["port"], "5433");
  EXPECT_EQ(p["user"], "switchyard");
  EXPECT_EQ(p["password"], "s3cret");
  EXPECT_EQ(p["dbname"], "app");
  EXPECT_EQ(p["sslmode"], "verify-full");
  EXPECT_EQ(p["sslrootcert"], "/etc/ca.pem");
  EXPECT_EQ(p["connect_timeout"], "3");  // rounded up to whole seconds
  EXPECT_EQ(p["application_name"], "switchyard");
  EXPECT_EQ(p["keepalives_idle"], "30");  // a vanished server is noticed within a minute
  EXPECT_EQ(p["tcp_user_timeout"], "60000");
  EXPECT_EQ(p["client_encoding"], "UTF8");  // the config's text, whatever the database's encoding
}

TEST(PgConnectionTest, MigrationDatabaseAndApplicationName) {
  auto p = as_map(own_connection_parameters(sample(), "other", "switchyard-backfill"));
  EXPECT_EQ(p["dbname"], "other");
  EXPECT_EQ(p["application_name"], "switchyard-backfill");
}

TEST(PgConnectionTest, EmptyValuesAreLeftToLibpqDefaults) {
  config::Config c;
  c.upstream.address = {"127.0.0.1", 5432};
  c.upstream.tls = config::TlsMode::disable;
  auto p = as_map(own_connection_parameters(c, ""));
  EXPECT_FALSE(p.contains("user"));
  EXPECT_FALSE(p.contains("password"));
  EXPECT_FALSE(p.contains("dbname"));
  EXPECT_FALSE(p.contains("sslrootcert"));
  EXPECT_EQ(p["sslmode"], "disable");
}

TEST(PgConnectionTest, ErrorClasses) {
  EXPECT_TRUE((DbError{"55P03", ""}.transient()));
  EXPECT_TRUE((DbError{"57014", ""}.transient()));
  EXPECT_TRUE((DbError{"40P01", ""}.transient()));
  EXPECT_FALSE((DbError{"22P02", ""}.transient()));
  EXPECT_TRUE((DbError{"", "server closed the connection"}.connection_lost()));
  EXPECT_TRUE((DbError{"08006", ""}.connection_lost()));
  EXPECT_TRUE((DbError{"57P01", ""}.connection_lost()));
  EXPECT_FALSE((DbError{"22012", ""}.connection_lost()));
  EXPECT_TRUE((DbError{"3D000", ""}.missing_database()));
  EXPECT_FALSE((DbError{"3D000", ""}.connection_lost()));  // the server answered: no retry soon
  EXPECT_FALSE((DbError{"08006", ""}.missing_database()));
}

// The connection is made with verbose errors so that the server's SQLSTATE is known; the
// message shown is the one libpq gives by default.
TEST(PgConnectionTest, AVerboseConnectErrorGivesItsSqlstateAndTheUsualMessage) {
  struct Row {
    std::string verbose;
    std::string sqlstate;
    std::string message;
  };
  const std::vector<Row> rows = {
      {"connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  3D000: database "
       "\"nope\" does not exist\nLOCATION:  InitPostgres, postinit.c:885\n",
       "3D000",
       "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  database \"nope\" "
       "does not exist"},
      {"connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  28P01: password "
       "authentication failed for user \"u\"\nLOCATION:  auth_failed, auth.c:326\n",
       "28P01",
       "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  password "
       "authentication failed for user \"u\""},
      // A translated severity keeps the code where it was.
      {"FATAL:  3D000: la base de données « x » n'existe pas\n", "3D000",
       "FATAL:  la base de données « x » n'existe pas"},
      // Failures of libpq's own have no code and stay as they are.
      {"connection to server at \"127.0.0.1\", port 1 failed: Connection refused\n\tIs the "
       "server running on that host and accepting TCP/IP connections?\n",
       "",
       "connection to server at \"127.0.0.1\", port 1 failed: Connection refused\n\tIs the "
       "server running on that host and accepting TCP/IP connections?"},
      {"timeout expired", "", "timeout expired"},
      // A word of five capitals in a message is not taken for a code.
      {"could not connect:  ABCDE is not a code", "", "could not connect:  ABCDE is not a code"},
  };
  for (const Row& row : rows) {
    auto [sqlstate, message] = split_sqlstate(row.verbose);
    EXPECT_EQ(sqlstate, row.sqlstate) << row.verbose;
    EXPECT_EQ(message, row.message) << row.verbose;
  }
}

TEST(PgConnectionTest, UnreachableUpstreamNamesItWithoutThePassword) {
  auto c = sample();
  c.upstream.address = {"127.0.0.1", 1};
  c.upstream.tls = config::TlsMode::disable;
  auto result = PgConnection::connect(c, "", "backfill");
  ASSERT_TRUE(std::holds_alternative<DbError>(result));
  const auto& error = std::get<DbError>(result).message;
  EXPECT_TRUE(
      error.starts_with("backfill connection to upstream 127.0.0.1:1 (user \"switchyard\","
                        " database \"app\") failed: "))
      << error;
  EXPECT_EQ(error.find("s3cret"), std::string::npos);
}

}  // namespace
}  // namespace switchyard::backfill
