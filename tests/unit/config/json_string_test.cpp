#include "config/json_string.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace switchyard::config {
namespace {

struct Case {
  std::string_view text;
  std::string_view json;
};

TEST(JsonStringTest, EscapesQuotesBackslashesAndControlCharacters) {
  using namespace std::string_view_literals;
  const Case cases[] = {
      {"", R"("")"},
      {"plain text", R"("plain text")"},
      {"a\"b\\c\nd\x01", R"("a\"b\\c\nd\u0001")"},
      {"\r\t", R"("\r\t")"},
      {"\x1f\x7f", "\"\\u001f\x7f\""},
      {"nul\0byte"sv, R"("nul\u0000byte")"},
      {"caf\xc3\xa9", "\"caf\xc3\xa9\""},  // UTF-8 passes as it is
  };
  for (const auto& c : cases) {
    EXPECT_EQ(json_string(c.text), c.json) << c.text;
  }
}

TEST(JsonStringTest, AppendsAfterWhatTheStringHolds) {
  std::string out = "{\"k\":";
  append_json_string(out, "v\"");
  EXPECT_EQ(out, R"({"k":"v\"")");
}

}  // namespace
}  // namespace switchyard::config
