#include "protocol/bind.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "protocol/message_types.hpp"
#include "test_bytes.hpp"

namespace switchyard::protocol {
namespace {

using namespace std::literals;
using test::to_bytes;

TEST(BindTest, RoundTripWithoutParameters) {
  for (BindTarget t : {BindTarget{"", ""}, BindTarget{"p1", "s1"}}) {
    MessageWriter w;
    encode_bind_no_params(w, t.portal, t.statement);
    auto f = test::single_frame(w.data(), frontend::kBind);
    ASSERT_TRUE(f);
    EXPECT_EQ(decode_bind_target(f->body), t);
  }
}

TEST(BindTest, NoParamsMeansThreeZeroCounts) {
  MessageWriter w;
  encode_bind_no_params(w, "p", "s");
  EXPECT_EQ(test::as_string(w.data()),
            "B\0\0\0\x0e"
            "p\0s\0\0\0\0\0\0\0"sv);
}

TEST(BindTest, TargetOfABindWithParameters) {
  // portal "", statement "s1", one text format, one parameter "7", one result format.
  auto body = to_bytes(
      "\0s1\0\0\x01\0\0\0\x01\0\0\0\x01"
      "7\0\x01\0\x01"sv);
  EXPECT_EQ(decode_bind_target(body), (BindTarget{"", "s1"}));
}

TEST(BindTest, MalformedTargetsDecodeToNothing) {
  for (std::string_view body : {""sv, "portal"sv, "portal\0"sv, "portal\0stmt"sv}) {
    EXPECT_EQ(decode_bind_target(to_bytes(body)), std::nullopt);
  }
}

struct ResultFormatsCase {
  std::string_view name;
  std::string_view body;
  std::optional<std::vector<std::int16_t>> codes;  // nullopt: malformed
};

TEST(BindTest, ResultFormatsComeAfterTheParameters) {
  const ResultFormatsCase cases[] = {
      {"no parameters, all text", "\0s\0\0\0\0\0\0\0"sv, std::vector<std::int16_t>{}},
      {"one code for every column", "\0s\0\0\0\0\0\0\x01\0\x01"sv, std::vector<std::int16_t>{1}},
      {"a code per column", "p\0s\0\0\0\0\0\0\x03\0\0\0\x01\0\0"sv,
       std::vector<std::int16_t>{0, 1, 0}},
      {"text and binary parameters, then binary",
       "\0s\0\0\x02\0\0\0\x01\0\x02"
       "\0\0\0\x01"
       "7\0\0\0\x04\0\0\0\x08\0\x01\0\x01"sv,
       std::vector<std::int16_t>{1}},
      {"a NULL parameter", "\0s\0\0\0\0\x01\xff\xff\xff\xff\0\x01\0\x01"sv,
       std::vector<std::int16_t>{1}},
      {"empty", ""sv, std::nullopt},
      {"parameter longer than the body",
       "\0s\0\0\0\0\x01\0\0\0\x09"
       "7\0\0"sv,
       std::nullopt},
      {"negative parameter size", "\0s\0\0\0\0\x01\xff\xff\xff\xfe\0\0"sv, std::nullopt},
      {"negative format count", "\0s\0\0\0\0\0\xff\xff"sv, std::nullopt},
      {"codes cut short", "\0s\0\0\0\0\0\0\x02\0\x01"sv, std::nullopt},
  };
  for (const auto& c : cases) {
    auto got = decode_bind_result_formats(to_bytes(c.body));
    if (!c.codes) {
      EXPECT_EQ(got, std::nullopt) << c.name;
      continue;
    }
    ASSERT_TRUE(got) << c.name;
    EXPECT_EQ(got->codes, *c.codes) << c.name;
  }
}

TEST(BindTest, WhichColumnsComeInBinary) {
  EXPECT_FALSE(ResultFormats{}.binary(0));
  EXPECT_TRUE(ResultFormats{{1}}.binary(5)) << "one code applies to every column";
  EXPECT_FALSE(ResultFormats{{0}}.binary(0));
  const ResultFormats mixed{{0, 1}};
  EXPECT_FALSE(mixed.binary(0));
  EXPECT_TRUE(mixed.binary(1));
  EXPECT_FALSE(mixed.binary(2)) << "past the codes: the server refuses the Bind anyway";
}

}  // namespace
}  // namespace switchyard::protocol
