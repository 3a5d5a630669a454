#include "protocol/message_writer.hpp"

#include <gtest/gtest.h>

#include <string_view>

#include "test_bytes.hpp"

namespace switchyard::protocol {
namespace {

using namespace std::string_view_literals;
using test::as_string;

TEST(MessageWriterTest, TypedMessageGetsItsLengthPatched) {
  MessageWriter w;
  w.begin_message('Q');
  w.cstring("SELECT 1");
  w.finish_message();
  EXPECT_EQ(as_string(w.data()), "Q\0\0\0\x0dSELECT 1\0"sv);
  EXPECT_EQ(w.size(), 14u);
}

TEST(MessageWriterTest, EmptyBodyHasLengthFour) {
  MessageWriter w;
  w.begin_message('S');
  w.finish_message();
  EXPECT_EQ(as_string(w.data()), "S\0\0\0\x04"sv);
}

TEST(MessageWriterTest, UntypedMessageCountsOnlyLengthAndBody) {
  MessageWriter w;
  w.begin_untyped();
  w.i32(80877103);
  w.finish_message();
  EXPECT_EQ(as_string(w.data()), "\0\0\0\x08\x04\xd2\x16\x2f"sv);
}

TEST(MessageWriterTest, IntegersAreBigEndian) {
  MessageWriter w;
  w.u8(0xab);
  w.i16(-2);
  w.i32(0x01020304);
  w.i32(-1);
  EXPECT_EQ(as_string(w.data()), "\xab\xff\xfe\x01\x02\x03\x04\xff\xff\xff\xff"sv);
}

// The room append() gives, filled by the put_ helpers, holds the same bytes as the
// field-by-field calls, after what the writer held.
TEST(MessageWriterTest, AppendedRoomFilledByPutsMatchesFieldByField) {
  MessageWriter fields;
  fields.u8(7);
  fields.i16(-2);
  fields.i32(0x01020304);
  fields.cstring("ab");
  fields.bytes("xyz"sv);

  MessageWriter room;
  room.u8(7);
  std::byte* at = room.append(2 + 4 + 3 + 3).data();
  at = put_i16(at, -2);
  at = put_i32(at, 0x01020304);
  at = put_cstring(at, "ab");
  at = put_bytes(at, std::as_bytes(std::span("xyz", 3)));
  EXPECT_EQ(at, room.data().data() + room.size());
  EXPECT_EQ(as_string(room.data()), as_string(fields.data()));
  EXPECT_EQ(as_string(room.data()),
            "\x07\xff\xfe\x01\x02\x03\x04"
            "ab\0xyz"sv);
}

TEST(MessageWriterTest, MessagesFollowOneAnother) {
  MessageWriter w;
  w.begin_message('X');
  w.finish_message();
  w.begin_message('d');
  w.bytes("ab"sv);
  w.bytes(std::as_bytes(std::span("cd", 2)));
  w.finish_message();
  EXPECT_EQ(as_string(w.data()),
            "X\0\0\0\x04"
            "d\0\0\0\x08"
            "abcd"sv);
}

TEST(MessageWriterTest, TakeMovesTheBufferOutAndLeavesTheWriterEmpty) {
  MessageWriter w;
  w.begin_message('S');
  w.finish_message();
  auto bytes = w.take();
  EXPECT_EQ(bytes.size(), 5u);
  EXPECT_EQ(w.size(), 0u);
  w.begin_message('H');
  w.finish_message();
  EXPECT_EQ(as_string(w.data()), "H\0\0\0\x04"sv);
}

TEST(MessageWriterTest, ClearForgetsEverything) {
  MessageWriter w;
  w.begin_message('Q');
  w.cstring("x");
  w.finish_message();
  w.clear();
  EXPECT_EQ(w.size(), 0u);
  EXPECT_TRUE(w.data().empty());
}

}  // namespace
}  // namespace switchyard::protocol
