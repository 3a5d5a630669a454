#include "protocol/error_response.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "protocol/message_types.hpp"
#include "test_bytes.hpp"

namespace switchyard::protocol {
namespace {

using namespace std::literals;
using test::as_string;
using test::to_bytes;

TEST(ErrorResponseTest, RoundTripWithEveryField) {
  Notice n;
  n.severity = "FATAL";
  n.code = "0A000";
  n.message = "migration users-status-to-state: cannot rewrite";
  n.detail = "MERGE is not supported";
  n.hint = "set on_unsupported";
  n.other = {{'P', "12"}, {'W', "where"}, {'s', "public"}, {'t', "users"}};
  MessageWriter w;
  encode_error_response(w, n);
  auto f = test::single_frame(w.data(), backend::kErrorResponse);
  ASSERT_TRUE(f);
  EXPECT_EQ(decode_notice(f->body), n);
}

TEST(ErrorResponseTest, MinimalErrorHasSeverityTwiceCodeAndMessage) {
  Notice n;
  n.code = "08P01";
  n.message = "bad";
  MessageWriter w;
  encode_error_response(w, n);
  auto f = test::single_frame(w.data(), backend::kErrorResponse);
  ASSERT_TRUE(f);
  EXPECT_EQ(as_string(f->body), "SERROR\0VERROR\0C08P01\0Mbad\0\0"sv);
  EXPECT_EQ(decode_notice(f->body), n);
}

TEST(ErrorResponseTest, NoticeRoundTrip) {
  Notice n;
  n.severity = "WARNING";
  n.code = "01000";
  n.message = "rewrite passed through";
  MessageWriter w;
  encode_notice_response(w, n);
  auto f = test::single_frame(w.data(), backend::kNoticeResponse);
  ASSERT_TRUE(f);
  EXPECT_EQ(decode_notice(f->body), n);
}

TEST(ErrorResponseTest, NonLocalizedSeverityWins) {
  auto body = to_bytes("SERREUR\0VERROR\0C42P01\0Mla relation n'existe pas\0\0"sv);
  auto n = decode_notice(body);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->severity, "ERROR");
  EXPECT_TRUE(n->other.empty());
}

TEST(ErrorResponseTest, LocalizedSeverityUsedWhenAlone) {
  auto n = decode_notice(to_bytes("SPANIC\0Mx\0\0"sv));
  ASSERT_TRUE(n);
  EXPECT_EQ(n->severity, "PANIC");
  EXPECT_EQ(n->code, "");
}

TEST(ErrorResponseTest, MalformedBodiesDecodeToNothing) {
  for (std::string_view body : {""sv, "SERROR\0"sv, "SERROR"sv, "S"sv, "SERROR\0\0x"sv}) {
    SCOPED_TRACE(body.size());
    EXPECT_EQ(decode_notice(to_bytes(body)), std::nullopt);
  }
  EXPECT_TRUE(decode_notice(to_bytes("\0"sv))) << "no fields is well formed";
}

}  // namespace
}  // namespace switchyard::protocol
