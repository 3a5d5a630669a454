#include "protocol/framer.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "protocol/message_types.hpp"
#include "test_bytes.hpp"

namespace switchyard::protocol {
namespace {

using namespace std::literals;
using test::as_string;
using test::raw_message;
using test::to_bytes;

struct Sample {
  std::string name;
  std::vector<std::byte> bytes;
};

// One message of every kind in message_types.hpp, with plausible bodies.
std::vector<Sample> every_message_kind() {
  namespace f = frontend;
  namespace b = backend;
  return {
      {"Query", raw_message(f::kQuery, "SELECT 1\0"sv)},
      {"Parse", raw_message(f::kParse, "s1\0SELECT $1\0\0\x01\0\0\0\x17"sv)},
      {"Bind", raw_message(f::kBind,
                           "\0s1\0\0\0\0\x01\0\0\0\x01"
                           "7\0\0"sv)},
      {"Describe", raw_message(f::kDescribe, "Ss1\0"sv)},
      {"Execute", raw_message(f::kExecute, "\0\0\0\0\0"sv)},
      {"Close", raw_message(f::kClose, "Pp\0"sv)},
      {"Sync", raw_message(f::kSync, ""sv)},
      {"Flush", raw_message(f::kFlush, ""sv)},
      {"Terminate", raw_message(f::kTerminate, ""sv)},
      {"CopyData", raw_message(f::kCopyData, "1\tactive\n"sv)},
      {"CopyDone", raw_message(f::kCopyDone, ""sv)},
      {"CopyFail", raw_message(f::kCopyFail, "aborted\0"sv)},
      {"FunctionCall", raw_message(f::kFunctionCall,
                                   "\0\0\x04\xd2\0\0\0\x01\0\0\0\0\x02"
                                   "ab\0\0"sv)},
      {"PasswordMessage", raw_message(f::kPassword, "md5abcdef\0"sv)},
      {"AuthenticationOk", raw_message(b::kAuthentication, "\0\0\0\0"sv)},
      {"AuthenticationSASL",
       raw_message(b::kAuthentication, "\0\0\0\x0aSCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0"sv)},
      {"BackendKeyData", raw_message(b::kBackendKeyData, "\0\0\x30\x39\x12\x34\x56\x78"sv)},
      {"ParameterStatus", raw_message(b::kParameterStatus, "TimeZone\0UTC\0"sv)},
      {"ReadyForQuery", raw_message(b::kReadyForQuery, "I"sv)},
      {"ErrorResponse", raw_message(b::kErrorResponse, "SERROR\0C42P01\0Mno\0\0"sv)},
      {"NoticeResponse", raw_message(b::kNoticeResponse, "SNOTICE\0C00000\0Mhi\0\0"sv)},
      {"NotificationResponse", raw_message(b::kNotification,
                                           "\0\0\0\x07"
                                           "ch\0payload\0"sv)},
      {"ParseComplete", raw_message(b::kParseComplete, ""sv)},
      {"BindComplete", raw_message(b::kBindComplete, ""sv)},
      {"CloseComplete", raw_message(b::kCloseComplete, ""sv)},
      {"NoData", raw_message(b::kNoData, ""sv)},
      {"ParameterDescription", raw_message(b::kParameterDescription, "\0\x01\0\0\0\x17"sv)},
      {"RowDescription", raw_message(b::kRowDescription,
                                     "\0\x01"
                                     "a\0\0\0\0\0\0\0\0\0\0\x17\0\x04\xff\xff\xff\xff\0\0"sv)},
      {"DataRow", raw_message(b::kDataRow,
                              "\0\x02\0\0\0\x01"
                              "1\xff\xff\xff\xff"sv)},
      {"CommandComplete", raw_message(b::kCommandComplete, "SELECT 1\0"sv)},
      {"EmptyQueryResponse", raw_message(b::kEmptyQueryResponse, ""sv)},
      {"PortalSuspended", raw_message(b::kPortalSuspended, ""sv)},
      {"CopyInResponse", raw_message(b::kCopyInResponse, "\0\0\x02\0\0\0\0"sv)},
      {"CopyOutResponse", raw_message(b::kCopyOutResponse, "\x01\0\x01\0\x01"sv)},
      {"CopyBothResponse", raw_message(b::kCopyBothResponse, "\0\0\0"sv)},
      {"BackendCopyData", raw_message(b::kCopyData, std::string(300, 'x'))},
      {"BackendCopyDone", raw_message(b::kCopyDone, ""sv)},
      {"NegotiateProtocolVersion",
       raw_message(b::kNegotiateProtocolVersion, "\0\0\0\0\0\0\0\x01_pq_.x\0"sv)},
      {"FunctionCallResponse", raw_message(b::kFunctionCallResponse, "\0\0\0\x01z"sv)},
  };
}

void expect_need_more(const FrameResult& r, std::size_t total) {
  const NeedMore* need = std::get_if<NeedMore>(&r);
  ASSERT_NE(need, nullptr);
  EXPECT_EQ(need->total, total);
}

void expect_error(const FrameResult& r, FrameError e) {
  const FrameError* err = std::get_if<FrameError>(&r);
  ASSERT_NE(err, nullptr);
  EXPECT_EQ(*err, e);
}

TEST(FramerTest, EveryMessageKindSplitAtEveryByte) {
  for (const Sample& s : every_message_kind()) {
    SCOPED_TRACE(s.name);
    std::span<const std::byte> all = s.bytes;
    for (std::size_t n = 0; n < all.size(); ++n) {
      SCOPED_TRACE(n);
      expect_need_more(next_frame(all.first(n)), n < 5 ? 5 : all.size());
    }
    FrameResult r = next_frame(all);
    const Frame* f = std::get_if<Frame>(&r);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->type, static_cast<char>(all[0]));
    EXPECT_EQ(f->size, all.size());
    EXPECT_EQ(f->body.data(), all.data() + 5);
    EXPECT_EQ(f->body.size(), all.size() - 5);
  }
}

TEST(FramerTest, PeekHeaderReportsLengthAndSizes) {
  auto msg = raw_message('Q', "SELECT 1\0"sv);
  HeaderResult r = peek_header(std::span(msg).first(5));
  const Header* h = std::get_if<Header>(&r);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->type, 'Q');
  EXPECT_EQ(h->length, 13u);
  EXPECT_EQ(h->frame_size(), 14u);
  EXPECT_EQ(h->body_size(), 9u);
  EXPECT_EQ((Header{0, 8}.frame_size()), 8u) << "startup packets have no type byte";
  EXPECT_TRUE(std::holds_alternative<NeedMore>(peek_header(std::span(msg).first(4))));
}

TEST(FramerTest, TwoMessagesInOneBuffer) {
  auto buf = raw_message('1', ""sv);
  auto second = raw_message('Z', "I"sv);
  buf.insert(buf.end(), second.begin(), second.end());
  std::span<const std::byte> rest = buf;

  FrameResult r1 = next_frame(rest);
  ASSERT_TRUE(std::holds_alternative<Frame>(r1));
  EXPECT_EQ(std::get<Frame>(r1).type, '1');
  EXPECT_EQ(std::get<Frame>(r1).size, 5u);
  rest = rest.subspan(std::get<Frame>(r1).size);

  FrameResult r2 = next_frame(rest);
  ASSERT_TRUE(std::holds_alternative<Frame>(r2));
  EXPECT_EQ(std::get<Frame>(r2).type, 'Z');
  EXPECT_EQ(as_string(std::get<Frame>(r2).body), "I");
  rest = rest.subspan(std::get<Frame>(r2).size);
  expect_need_more(next_frame(rest), 5);
}

// The way a socket reader uses the framer: append what arrives, cut every
// complete frame, keep the rest. Every chunk size must give the same frames.
TEST(FramerTest, StreamOfEveryKindCutIdenticallyForAnyChunkSize) {
  std::vector<std::byte> stream;
  std::vector<std::string> expected;
  for (const Sample& s : every_message_kind()) {
    stream.insert(stream.end(), s.bytes.begin(), s.bytes.end());
    expected.push_back(as_string(s.bytes));
  }
  for (std::size_t chunk : {1, 2, 3, 5, 7, 64, 4096}) {
    SCOPED_TRACE(chunk);
    std::vector<std::byte> pending;
    std::vector<std::string> got;
    for (std::size_t at = 0; at < stream.size(); at += chunk) {
      auto piece = std::span(stream).subspan(at, std::min(chunk, stream.size() - at));
      pending.insert(pending.end(), piece.begin(), piece.end());
      for (;;) {
        FrameResult r = next_frame(pending);
        if (const Frame* f = std::get_if<Frame>(&r)) {
          got.push_back(as_string(std::span(pending).first(f->size)));
          pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(f->size));
          continue;
        }
        ASSERT_TRUE(std::holds_alternative<NeedMore>(r));
        EXPECT_GT(std::get<NeedMore>(r).total, pending.size());
        break;
      }
    }
    EXPECT_TRUE(pending.empty());
    EXPECT_EQ(got, expected);
  }
}

TEST(FramerTest, LengthBelowFourIsTooSmall) {
  for (std::string_view len : {"\0\0\0\0"sv, "\0\0\0\x01"sv, "\0\0\0\x03"sv}) {
    auto buf = to_bytes("Q"s + std::string(len));
    expect_error(next_frame(buf), FrameError::length_too_small);
    EXPECT_TRUE(std::holds_alternative<FrameError>(peek_header(buf)));
  }
}

// Type 0 would make Header::frame_size() count the frame as a startup packet,
// one byte short of the body the length announces.
TEST(FramerTest, TypeByteZeroIsInvalid) {
  auto buf = to_bytes("\0\0\0\0\x04"sv);
  expect_error(next_frame(buf), FrameError::invalid_type);
  EXPECT_TRUE(std::holds_alternative<FrameError>(peek_header(buf)));
}

TEST(FramerTest, LengthFourIsAnEmptyBody) {
  auto buf = to_bytes("S\0\0\0\x04"sv);
  FrameResult r = next_frame(buf);
  ASSERT_TRUE(std::holds_alternative<Frame>(r));
  EXPECT_TRUE(std::get<Frame>(r).body.empty());
}

TEST(FramerTest, LengthJustBelowOneGibNeedsMore) {
  auto buf = to_bytes("d\x3f\xff\xff\xff"sv);
  expect_need_more(next_frame(buf), std::size_t{1} << 30);
}

TEST(FramerTest, LengthOfOneGibOrMoreIsTooLarge) {
  for (std::string_view len :
       {"\x40\0\0\0"sv, "\x7f\xff\xff\xff"sv, "\x80\0\0\0"sv, "\xff\xff\xff\xff"sv}) {
    auto buf = to_bytes("d"s + std::string(len));
    expect_error(next_frame(buf), FrameError::length_too_large);
  }
}

TEST(FramerTest, CustomMaximumIsExclusive) {
  auto at_max = to_bytes("d\0\0\0\x64"sv);
  expect_error(next_frame(at_max, 100), FrameError::length_too_large);
  auto below = to_bytes("d\0\0\0\x63"sv);
  expect_need_more(next_frame(below, 100), 100);
}

// whole_header is the relay's check of every header (proxy/pump.hpp); when it refuses, the
// pump asks peek_header why. Input, the caller's limit, the header expected (none: refused).
TEST(FramerTest, WholeHeaderAcceptsWhatPeekHeaderCallsAHeader) {
  struct Case {
    std::string_view bytes;
    std::uint32_t max_length;
    std::optional<Header> expected;
  };
  const Case cases[] = {
      {"Q\0\0\0\x04"sv, kMaxMessageLength, Header{'Q', 4}},
      {"D\0\0\0\x0drest"sv, kMaxMessageLength, Header{'D', 13}},  // the body may come later
      {"d\x3f\xff\xff\xff"sv, kMaxMessageLength, Header{'d', kMaxMessageLength - 1}},
      {"d\0\0\0\x63"sv, 100, Header{'d', 99}},
      {""sv, kMaxMessageLength, std::nullopt},
      {"Q\0\0\0"sv, kMaxMessageLength, std::nullopt},       // four of the five bytes
      {"\0\0\0\0\x04"sv, kMaxMessageLength, std::nullopt},  // type 0
      {"Q\0\0\0\x03"sv, kMaxMessageLength, std::nullopt},   // length below 4
      {"Q\0\0\0\0"sv, kMaxMessageLength, std::nullopt},
      {"d\x40\0\0\0"sv, kMaxMessageLength, std::nullopt},        // 1 GiB
      {"d\xff\xff\xff\xff"sv, kMaxMessageLength, std::nullopt},  // a "negative" Int32
      {"d\0\0\0\x64"sv, 100, std::nullopt},                      // the limit is exclusive
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.bytes));
    const auto buf = to_bytes(c.bytes);
    const std::optional<Header> got = whole_header(buf, c.max_length);
    const HeaderResult peeked = peek_header(buf, c.max_length);
    ASSERT_EQ(got.has_value(), c.expected.has_value());
    ASSERT_EQ(std::holds_alternative<Header>(peeked), c.expected.has_value());
    if (c.expected) {
      EXPECT_EQ(got->type, c.expected->type);
      EXPECT_EQ(got->length, c.expected->length);
      EXPECT_EQ(std::get<Header>(peeked).type, c.expected->type);
      EXPECT_EQ(std::get<Header>(peeked).length, c.expected->length);
    }
  }
}

TEST(FramerTest, ErrorNamesAreStable) {
  EXPECT_EQ(to_string(FrameError::length_too_small), "message length too small");
  EXPECT_EQ(to_string(FrameError::length_too_large), "message length too large");
  EXPECT_EQ(to_string(FrameError::invalid_type), "invalid message type 0");
}

// Input, expected type of its last message (0 = none: it does not end at a message's end).
TEST(FramerTest, LastFrameTypeOnlyWhenTheBytesEndAtAMessageEnd) {
  const auto rfq = "Z\0\0\0\x05I"s;
  const auto sync = "S\0\0\0\x04"s;
  const auto query = "Q\0\0\0\x0eSELECT 1;\0"s;
  const auto row = "D\0\0\0\x0b\0\x01\0\0\0\x01x"s;
  const struct {
    std::string name;
    std::string bytes;
    char last;
  } cases[] = {
      {"empty", "", 0},
      {"one ReadyForQuery", rfq, 'Z'},
      {"a result then ReadyForQuery", row + "C\0\0\0\x0dSELECT 1\0"s + rfq, 'Z'},
      {"ReadyForQuery then a row", rfq + row, 'D'},
      {"a Query", query, 'Q'},
      {"Parse then Sync", as_string(raw_message(frontend::kParse, "\0SELECT 1\0\0\0"sv)) + sync,
       'S'},
      {"a header only", "Z\0\0\0"s, 0},
      {"one byte short", rfq.substr(0, 5), 0},
      {"one byte over", rfq + "Z", 0},
      {"a bad length after a whole message", sync + "Z\0\0\0\x01"s, 0},
      {"type byte zero", "\0\0\0\0\x04"s, 0},
      // walked on regardless, the length 3 would land on a "message" that ends at the end
      {"a length below 4", "A\0\0\0\x03\0\0\0\x04"s, 0},
  };
  for (const auto& c : cases) {
    auto buf = to_bytes(c.bytes);
    auto last = last_frame_type(buf);
    if (c.last == 0) {
      EXPECT_FALSE(last.has_value()) << c.name;
    } else {
      EXPECT_EQ(last, std::optional<char>(c.last)) << c.name;
    }
  }
}

TEST(StartupFramerTest, SplitAtEveryByte) {
  auto packet = to_bytes("\0\0\0\x12\0\x03\0\0user\0bob\0\0"sv);
  std::span<const std::byte> all = packet;
  for (std::size_t n = 0; n < all.size(); ++n) {
    SCOPED_TRACE(n);
    expect_need_more(next_startup_frame(all.first(n)), n < 4 ? 4 : all.size());
  }
  FrameResult r = next_startup_frame(all);
  const Frame* f = std::get_if<Frame>(&r);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->type, 0);
  EXPECT_EQ(f->size, 18u);
  EXPECT_EQ(f->body.data(), all.data() + 4);
  EXPECT_EQ(f->body.size(), 14u);
}

TEST(StartupFramerTest, LeavesWhatFollowsThePacket) {
  auto buf = to_bytes(
      "\0\0\0\x08\x04\xd2\x16\x2f"
      "Q\0\0\0\x04"sv);
  FrameResult r = next_startup_frame(buf);
  ASSERT_TRUE(std::holds_alternative<Frame>(r));
  EXPECT_EQ(std::get<Frame>(r).size, 8u);
}

TEST(StartupFramerTest, LengthBelowEightIsTooSmall) {
  for (std::string_view len : {"\0\0\0\0"sv, "\0\0\0\x04"sv, "\0\0\0\x07"sv}) {
    expect_error(next_startup_frame(to_bytes(len)), FrameError::length_too_small);
  }
}

TEST(StartupFramerTest, LengthAboveTenThousandIsTooLarge) {
  expect_need_more(next_startup_frame(to_bytes("\0\0\x27\x10"sv)), 10000);
  for (std::string_view len : {"\0\0\x27\x11"sv, "\x80\0\0\0"sv, "\xff\xff\xff\xff"sv}) {
    expect_error(next_startup_frame(to_bytes(len)), FrameError::length_too_large);
  }
}

// Checks that a result is consistent with the bytes it was computed from.
void expect_consistent(std::span<const std::byte> buf, const FrameResult& r, bool startup) {
  const std::size_t header = startup ? 4 : 5;
  if (buf.size() < header) {
    ASSERT_TRUE(std::holds_alternative<NeedMore>(r));
    EXPECT_EQ(std::get<NeedMore>(r).total, header);
    return;
  }
  std::uint32_t len = 0;
  for (std::size_t i = header - 4; i < header; ++i) {
    len = (len << 8) | static_cast<std::uint32_t>(buf[i]);
  }
  if (!startup && buf[0] == std::byte{0}) {
    ASSERT_TRUE(std::holds_alternative<FrameError>(r));
    EXPECT_EQ(std::get<FrameError>(r), FrameError::invalid_type);
    return;
  }
  const std::uint32_t min = startup ? 8 : 4;
  const bool too_large = startup ? len > kMaxStartupLength : len >= kMaxMessageLength;
  const std::size_t frame_size = startup ? len : std::size_t{1} + len;
  if (len < min) {
    ASSERT_TRUE(std::holds_alternative<FrameError>(r));
    EXPECT_EQ(std::get<FrameError>(r), FrameError::length_too_small);
  } else if (too_large) {
    ASSERT_TRUE(std::holds_alternative<FrameError>(r));
    EXPECT_EQ(std::get<FrameError>(r), FrameError::length_too_large);
  } else if (buf.size() < frame_size) {
    ASSERT_TRUE(std::holds_alternative<NeedMore>(r));
    EXPECT_EQ(std::get<NeedMore>(r).total, frame_size);
  } else {
    ASSERT_TRUE(std::holds_alternative<Frame>(r));
    const Frame& f = std::get<Frame>(r);
    EXPECT_EQ(f.size, frame_size);
    EXPECT_EQ(f.type, startup ? 0 : static_cast<char>(buf[0]));
    EXPECT_EQ(f.body.data(), buf.data() + header);
    EXPECT_EQ(f.body.size(), len - 4u);
  }
}

TEST(FramerTest, RandomBytesGiveConsistentResults) {
  std::mt19937 rng(20240607);  // fixed seed: the same buffers on every run
  for (int i = 0; i < 4000; ++i) {
    std::vector<std::byte> buf(rng() % 48);
    for (auto& b : buf) {
      b = static_cast<std::byte>(rng() & 0xff);
    }
    // Often write a small length, typed or startup, so that complete frames occur too.
    const auto small = static_cast<std::byte>(rng() % 48);
    if (buf.size() >= 5 && rng() % 3 == 0) {
      buf[1] = buf[2] = buf[3] = std::byte{0};
      buf[4] = small;
    } else if (buf.size() >= 4 && rng() % 2 == 0) {
      buf[0] = buf[1] = buf[2] = std::byte{0};
      buf[3] = small;
    }
    SCOPED_TRACE(i);
    expect_consistent(buf, next_frame(buf), false);
    expect_consistent(buf, next_startup_frame(buf), true);
  }
}

// last_frame_type reads headers in place; next_frame, message by message, is the reference.
TEST(FramerTest, LastFrameTypeAgreesWithNextFrameOnRandomStreams) {
  auto reference = [](std::span<const std::byte> data) -> std::optional<char> {
    std::optional<char> last;
    while (!data.empty()) {
      FrameResult r = next_frame(data);
      const Frame* f = std::get_if<Frame>(&r);
      if (f == nullptr) {
        return std::nullopt;
      }
      last = f->type;
      data = data.subspan(f->size);
    }
    return last;
  };
  std::mt19937 rng(20261129);
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::byte> buf;
    for (int messages = static_cast<int>(rng() % 4); messages > 0; --messages) {
      const std::uint32_t body = rng() % 6;
      // Mostly well-formed; now and then a type 0, a length below 4 or one of 1 GiB or more.
      const auto type = static_cast<std::byte>(rng() % 16 == 0 ? 0 : 'A' + rng() % 26);
      std::uint32_t length = body + 4;
      if (rng() % 16 == 0) {
        length = rng() % 4;
      } else if (rng() % 32 == 0) {
        length = kMaxMessageLength + rng() % 2 - 1;
      }
      buf.push_back(type);
      for (int shift = 24; shift >= 0; shift -= 8) {
        buf.push_back(static_cast<std::byte>((length >> shift) & 0xff));
      }
      for (std::uint32_t k = 0; k < body; ++k) {
        buf.push_back(static_cast<std::byte>(rng() & 0xff));
      }
    }
    buf.resize(buf.size() - (rng() % 4 == 0 && !buf.empty() ? 1 + rng() % buf.size() : 0));
    SCOPED_TRACE(i);
    ASSERT_EQ(last_frame_type(buf), reference(buf));
  }
}

}  // namespace
}  // namespace switchyard::protocol
