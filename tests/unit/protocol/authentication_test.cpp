#include "protocol/authentication.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "protocol/message_types.hpp"
#include "test_bytes.hpp"

namespace switchyard::protocol {
namespace {

using namespace std::literals;
using test::to_bytes;

TEST(AuthenticationTest, OkRoundTrip) {
  MessageWriter w;
  encode_authentication_ok(w);
  auto f = test::single_frame(w.data(), backend::kAuthentication);
  ASSERT_TRUE(f);
  EXPECT_EQ(decode_auth_code(f->body), static_cast<std::int32_t>(AuthCode::ok));
}

TEST(AuthenticationTest, CodesOfOtherRequests) {
  EXPECT_EQ(decode_auth_code(to_bytes("\0\0\0\x05\x01\x02\x03\x04"sv)), 5) << "MD5 with salt";
  EXPECT_EQ(decode_auth_code(to_bytes("\0\0\0\x03"sv)), 3);
  EXPECT_EQ(decode_auth_code(to_bytes("\0\0\0\x07"sv)), 7) << "GSS kept as int";
  EXPECT_EQ(decode_auth_code(to_bytes("\0\0\0"sv)), std::nullopt);
}

TEST(AuthenticationTest, SaslRoundTrip) {
  const std::vector<std::string> mechs = {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"};
  MessageWriter w;
  encode_authentication_sasl(w, mechs);
  auto f = test::single_frame(w.data(), backend::kAuthentication);
  ASSERT_TRUE(f);
  EXPECT_EQ(decode_auth_code(f->body), static_cast<std::int32_t>(AuthCode::sasl));
  EXPECT_EQ(decode_sasl_mechanisms(f->body), mechs);
}

TEST(AuthenticationTest, SaslWithoutPlusDropsChannelBinding) {
  auto body = to_bytes("\0\0\0\x0aSCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0"sv);
  std::vector<std::byte> msg = encode_sasl_without_plus(body);
  auto f = test::single_frame(msg, backend::kAuthentication);
  ASSERT_TRUE(f);
  EXPECT_EQ(decode_sasl_mechanisms(f->body), std::vector<std::string>{"SCRAM-SHA-256"});
  EXPECT_EQ(test::as_string(msg), "R\0\0\0\x17\0\0\0\x0aSCRAM-SHA-256\0\0"sv);
}

TEST(AuthenticationTest, SaslWithoutPlusKeepsOrderOfTheRest) {
  auto body = to_bytes(
      "\0\0\0\x0a"
      "A\0B-PLUS\0C\0\0"sv);
  std::vector<std::byte> msg = encode_sasl_without_plus(body);
  auto f = test::single_frame(msg, backend::kAuthentication);
  ASSERT_TRUE(f);
  EXPECT_EQ(decode_sasl_mechanisms(f->body), (std::vector<std::string>{"A", "C"}));
}

TEST(AuthenticationTest, MalformedSaslGivesNothing) {
  for (std::string_view body : {
           ""sv,
           "\0\0\0\x0b"
           "SCRAM-SHA-256\0\0"sv,             // SASLContinue, not SASL
           "\0\0\0\x0aSCRAM-SHA-256\0"sv,     // no list terminator
           "\0\0\0\x0aSCRAM-SHA-256"sv,       // no NUL at all
           "\0\0\0\x0aSCRAM-SHA-256\0\0x"sv,  // trailing bytes
       }) {
    SCOPED_TRACE(body.size());
    EXPECT_TRUE(decode_sasl_mechanisms(to_bytes(body)).empty());
    EXPECT_TRUE(encode_sasl_without_plus(to_bytes(body)).empty());
  }
}

}  // namespace
}  // namespace switchyard::protocol
