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
