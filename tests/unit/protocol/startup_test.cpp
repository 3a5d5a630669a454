#include "protocol/startup.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <variant>

#include "test_bytes.hpp"

namespace switchyard::protocol {
namespace {

using namespace std::literals;
using test::as_string;
using test::to_bytes;

// Encodes, frames and decodes `packet`, checking the frame covers the bytes exactly.
StartupPacket round_trip(const MessageWriter& w) {
  auto frame = test::single_startup_frame(w.data());
  if (!frame) {
    return StartupDecodeError{"no frame"};
  }
  return decode_startup(frame->body);
}

std::string reason_of(const StartupPacket& p) {
  const auto* e = std::get_if<StartupDecodeError>(&p);
  return e ? e->reason : "<decoded>";
}

TEST(StartupTest, Protocol30RoundTrip) {
  StartupMessage m{kProtocol30, {{"user", "alice"}, {"database", "app"}, {"application_name", ""}}};
  MessageWriter w;
  encode_startup(w, m);
  StartupPacket p = round_trip(w);
  ASSERT_TRUE(std::holds_alternative<StartupMessage>(p)) << reason_of(p);
  const auto& got = std::get<StartupMessage>(p);
  EXPECT_EQ(got, m);
  EXPECT_EQ(got.get("user"), "alice");
  EXPECT_EQ(got.get("application_name"), "");
  EXPECT_EQ(got.get("options"), "") << "absent reads as empty";
}

TEST(StartupTest, ExactBytesOfAMinimalStartupMessage) {
  MessageWriter w;
  encode_startup(w, StartupMessage{kProtocol30, {{"user", "bob"}}});
  EXPECT_EQ(as_string(w.data()), "\0\0\0\x12\0\x03\0\0user\0bob\0\0"sv);
}

TEST(StartupTest, Protocol32MinorVersionIsRelayed) {
  constexpr std::int32_t kProtocol32 = (3 << 16) | 2;
  auto bytes = to_bytes("\0\0\0\x12\0\x03\0\x02user\0bob\0\0"sv);
  auto frame = test::single_startup_frame(bytes);
  ASSERT_TRUE(frame);
  StartupPacket p = decode_startup(frame->body);
  ASSERT_TRUE(std::holds_alternative<StartupMessage>(p)) << reason_of(p);
  EXPECT_EQ(std::get<StartupMessage>(p).version, kProtocol32);
  MessageWriter w;
  encode_startup(w, std::get<StartupMessage>(p));
  EXPECT_EQ(as_string(w.data()), as_string(bytes)) << "re-encoded byte for byte";
}

TEST(StartupTest, ProtocolOptionParametersAreKeptInOrder) {
  StartupMessage m{(3 << 16) | 2,
                   {{"user", "u"}, {"_pq_.compression", "on"}, {"database", "d"}, {"_pq_.x", ""}}};
  MessageWriter w;
  encode_startup(w, m);
  StartupPacket p = round_trip(w);
  ASSERT_TRUE(std::holds_alternative<StartupMessage>(p)) << reason_of(p);
  EXPECT_EQ(std::get<StartupMessage>(p).parameters, m.parameters);
}

TEST(StartupTest, SslRequest) {
  MessageWriter w;
  encode_ssl_request(w);
  EXPECT_EQ(as_string(w.data()), "\0\0\0\x08\x04\xd2\x16\x2f"sv);
  EXPECT_TRUE(std::holds_alternative<SslRequest>(round_trip(w)));
}

TEST(StartupTest, GssEncRequest) {
  MessageWriter w;
  encode_gssenc_request(w);
  EXPECT_EQ(as_string(w.data()), "\0\0\0\x08\x04\xd2\x16\x30"sv);
  EXPECT_TRUE(std::holds_alternative<GssEncRequest>(round_trip(w)));
}

TEST(StartupTest, CancelRequestRoundTrip) {
  CancelRequest c{4242, -123456789};
  MessageWriter w;
  encode_cancel_request(w, c);
  EXPECT_EQ(w.size(), 16u);
  StartupPacket p = round_trip(w);
  ASSERT_TRUE(std::holds_alternative<CancelRequest>(p)) << reason_of(p);
  EXPECT_EQ(std::get<CancelRequest>(p), c);
}

TEST(StartupTest, Protocol20IsRejectedWithAReason) {
  auto body = to_bytes("\0\x02\0\0user\0bob\0\0"sv);
  EXPECT_EQ(reason_of(decode_startup(body)), "unsupported protocol version 2.0");
}

TEST(StartupTest, OtherMajorVersionsAreRejected) {
  EXPECT_EQ(reason_of(decode_startup(to_bytes("\0\x04\0\x01\0"sv))),
            "unsupported protocol version 4.1");
  EXPECT_EQ(reason_of(decode_startup(to_bytes("\x04\xd2\x16\x31"sv))),
            "unsupported protocol version 1234.5681");
}

struct MalformedCase {
  std::string name;
  std::string body;  // after the length field
};

TEST(StartupTest, MalformedBodiesAreErrorsNotCrashes) {
  const MalformedCase cases[] = {
      {"empty", ""},
      {"short code", "\0\x03"s},
      {"missing terminator", "\0\x03\0\0user\0bob\0"s},
      {"missing value", "\0\x03\0\0user\0"s},
      {"value without NUL", "\0\x03\0\0user\0bob"s},
      {"bytes after terminator", "\0\x03\0\0user\0bob\0\0x"s},
      {"version only", "\0\x03\0\0"s},
      {"SSLRequest with extra bytes", "\x04\xd2\x16\x2f\0"s},
      {"GSSENCRequest with extra bytes", "\x04\xd2\x16\x30\0"s},
      {"short CancelRequest", "\x04\xd2\x16\x2e\0\0\0\x01\0\0\0"s},
      {"long CancelRequest", "\x04\xd2\x16\x2e\0\0\0\x01\0\0\0\x02\0"s},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    StartupPacket p = decode_startup(to_bytes(c.body));
    ASSERT_TRUE(std::holds_alternative<StartupDecodeError>(p));
    EXPECT_FALSE(std::get<StartupDecodeError>(p).reason.empty());
  }
}

TEST(StartupTest, MissingTerminatorReasonMatchesPostgres) {
  EXPECT_EQ(reason_of(decode_startup(to_bytes("\0\x03\0\0user\0bob\0"sv))),
            "invalid startup packet layout: expected terminator as last byte");
}

TEST(StartupTest, EmptyParameterListIsAccepted) {
  StartupPacket p = decode_startup(to_bytes("\0\x03\0\0\0"sv));
  ASSERT_TRUE(std::holds_alternative<StartupMessage>(p)) << reason_of(p);
  EXPECT_TRUE(std::get<StartupMessage>(p).parameters.empty());
}

}  // namespace
}  // namespace switchyard::protocol
