#include "config/identifier.hpp"

#include <gtest/gtest.h>

namespace switchyard::config {
namespace {

TEST(ConfigIdentifierTest, PlainAndQuotedNamesMapToWhatPostgresStores) {
  struct Case {
    std::string_view written;
    std::string_view stored;
  };
  const Case cases[] = {
      {"status", "status"},
      {"_private", "_private"},
      {"col$1", "col$1"},
      {"caf\xc3\xa9", "caf\xc3\xa9"},  // non-ASCII letters are identifier characters
      {"\"Order Status\"", "Order Status"},
      {"\"status\"", "status"},
      {"\"say \"\"hi\"\"\"", "say \"hi\""},
      {"\"a.b\"", "a.b"},
  };
  for (const Case& c : cases) {
    auto parsed = parse_identifier(c.written);
    ASSERT_TRUE(parsed) << c.written << ": " << parsed.error;
    EXPECT_EQ(*parsed.value, c.stored);
    EXPECT_EQ(identifier_name(c.written), c.stored);
  }
}

TEST(ConfigIdentifierTest, RejectsAmbiguousOrImpossibleNames) {
  struct Case {
    std::string_view written;
    std::string_view says;
  };
  const std::string long_name(64, 'a');
  const std::string long_quoted = "\"" + std::string(64, 'A') + "\"";
  const Case cases[] = {
      {"", "empty"},
      {"Status", "quote it"},
      {"1col", "plain identifier"},
      {"$col", "plain identifier"},
      {"order status", "quote it"},
      {"\"open", "does not close"},
      {"\"\"", "cannot be empty"},
      {"\"a\"b\"", "must be doubled"},
      {long_name, "at most 63 bytes"},
      {long_quoted, "at most 63 bytes"},
  };
  for (const Case& c : cases) {
    auto parsed = parse_identifier(c.written);
    ASSERT_FALSE(parsed) << c.written;
    EXPECT_NE(parsed.error.find(c.says), std::string::npos) << c.written << ": " << parsed.error;
  }
  EXPECT_NE(parse_identifier("Status").error.find("write status"), std::string::npos);
}

TEST(ConfigIdentifierTest, SplitsQualifiedNamesOutsideQuotes) {
  struct Case {
    std::string_view written;
    std::vector<std::string> parts;
  };
  const Case cases[] = {
      {"public.users", {"public", "users"}},
      {"users", {"users"}},
      {"\"My Schema\".\"Users\"", {"\"My Schema\"", "\"Users\""}},
      {"\"a.b\".c", {"\"a.b\"", "c"}},
      {"app.public.users", {"app", "public", "users"}},
  };
  for (const Case& c : cases) {
    auto parsed = split_qualified_name(c.written);
    ASSERT_TRUE(parsed) << c.written << ": " << parsed.error;
    EXPECT_EQ(*parsed.value, c.parts);
  }
  for (std::string_view bad :
       {"public.", ".users", "public..users", "Public.users", "\"public.users"}) {
    EXPECT_FALSE(split_qualified_name(bad)) << bad;
  }
}

}  // namespace
}  // namespace switchyard::config
