#include "protocol/byte_reader.hpp"

#include <gtest/gtest.h>

#include <string_view>

#include "test_bytes.hpp"

namespace switchyard::protocol {
namespace {

using namespace std::string_view_literals;
using test::to_bytes;

TEST(ByteReaderTest, ReadsBigEndianIntegers) {
  auto data = to_bytes("\x01\x02\x03\x04\x05\x06\x07"sv);
  ByteReader r(data);
  EXPECT_EQ(r.u8(), 0x01);
  EXPECT_EQ(r.i16(), 0x0203);
  EXPECT_EQ(r.i32(), 0x04050607);
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_TRUE(r.at_end());
}

TEST(ByteReaderTest, ReadsNegativeValues) {
  auto data = to_bytes("\xff\xfe\xff\xff\xff\xfd\x80"sv);
  ByteReader r(data);
  EXPECT_EQ(r.i16(), -2);
  EXPECT_EQ(r.i32(), -3);
  EXPECT_EQ(r.i8(), -128);
}

TEST(ByteReaderTest, ReadsUnsignedLength) {
  auto data = to_bytes("\x80\x00\x00\x00"sv);
  ByteReader r(data);
  EXPECT_EQ(r.u32(), 0x80000000u);
}

TEST(ByteReaderTest, ShortReadFailsAndConsumesNothing) {
  auto data = to_bytes("\x01\x02\x03"sv);
  ByteReader r(data);
  EXPECT_EQ(r.i32(), std::nullopt);
  EXPECT_EQ(r.position(), 0u);
  EXPECT_EQ(r.bytes(4), std::nullopt);
  EXPECT_EQ(r.position(), 0u);
  EXPECT_EQ(r.i16(), 0x0102);
  EXPECT_EQ(r.i16(), std::nullopt);
  EXPECT_EQ(r.position(), 2u);
  EXPECT_EQ(r.u8(), 0x03);
  EXPECT_EQ(r.u8(), std::nullopt);
}

TEST(ByteReaderTest, CstringStopsAtNulAndConsumesIt) {
  auto data = to_bytes("abc\0\0x"sv);
  ByteReader r(data);
  EXPECT_EQ(r.cstring(), "abc");
  EXPECT_EQ(r.position(), 4u);
  EXPECT_EQ(r.cstring(), "");
  EXPECT_EQ(r.position(), 5u);
  EXPECT_EQ(r.cstring(), std::nullopt) << "no NUL after x";
  EXPECT_EQ(r.position(), 5u);
}

TEST(ByteReaderTest, EmptyInputFailsEverything) {
  ByteReader r(std::span<const std::byte>{});
  EXPECT_EQ(r.u8(), std::nullopt);
  EXPECT_EQ(r.i8(), std::nullopt);
  EXPECT_EQ(r.i16(), std::nullopt);
  EXPECT_EQ(r.i32(), std::nullopt);
  EXPECT_EQ(r.cstring(), std::nullopt);
  EXPECT_EQ(r.bytes(1), std::nullopt);
  ASSERT_TRUE(r.bytes(0));
  EXPECT_TRUE(r.at_end());
}

TEST(ByteReaderTest, BytesReturnsAViewIntoTheInput) {
  auto data = to_bytes("hello"sv);
  ByteReader r(data);
  ASSERT_TRUE(r.u8());
  auto b = r.bytes(3);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->data(), data.data() + 1);
  EXPECT_EQ(test::as_string(*b), "ell");
  EXPECT_EQ(r.remaining(), 1u);
}

}  // namespace
}  // namespace switchyard::protocol
