// Reused buffers: kept while short, released once a long text has grown them.

#include "proxy/long_buffers.hpp"

#include <gtest/gtest.h>

#include <string>

namespace switchyard::proxy {
namespace {

TEST(LongBuffersTest, AShortBufferIsKeptWithItsContents) {
  std::string text(kKeptBufferBytes, 'x');
  const std::size_t capacity = text.capacity();
  ASSERT_LE(capacity, kKeptBufferBytes);
  EXPECT_FALSE(release_if_long(text));
  EXPECT_EQ(text.capacity(), capacity);
  EXPECT_EQ(text.size(), kKeptBufferBytes);
}

TEST(LongBuffersTest, ALongBufferIsReleasedAtTheEndOfTheScope) {
  std::string text;
  {
    const ReleaseIfLong release{text};
    text.assign(kKeptBufferBytes + 1, 'x');
    EXPECT_GT(text.capacity(), kKeptBufferBytes);  // still there inside the scope
  }
  EXPECT_TRUE(text.empty());
  EXPECT_LE(text.capacity(), 15u);  // back to the string's own inline buffer
}

}  // namespace
}  // namespace switchyard::proxy
