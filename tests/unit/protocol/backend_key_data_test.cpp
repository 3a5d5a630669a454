#include "protocol/backend_key_data.hpp"

#include <gtest/gtest.h>

#include <string_view>

#include "protocol/message_types.hpp"
#include "test_bytes.hpp"

namespace switchyard::protocol {
namespace {

using namespace std::literals;
using test::to_bytes;

TEST(BackendKeyDataTest, RoundTrip) {
  for (BackendKeyData k : {BackendKeyData{12345, 0x12345678}, BackendKeyData{1, -1},
                           BackendKeyData{0x7fffffff, INT32_MIN}}) {
    MessageWriter w;
    encode_backend_key_data(w, k);
    auto f = test::single_frame(w.data(), backend::kBackendKeyData);
    ASSERT_TRUE(f);
    EXPECT_EQ(decode_backend_key_data(f->body), k);
  }
}

TEST(BackendKeyDataTest, OnlyTwoInt32AreAccepted) {
  EXPECT_EQ(decode_backend_key_data(to_bytes("\0\0\x30\x39\x12\x34\x56"sv)), std::nullopt);
  EXPECT_EQ(decode_backend_key_data(to_bytes("\0\0\x30\x39\x12\x34\x56\x78\x9a"sv)), std::nullopt)
      << "protocol 3.2 longer keys are not supported";
  EXPECT_EQ(decode_backend_key_data(to_bytes("\0\0\x30\x39\x12\x34\x56\x78"sv)),
            (BackendKeyData{12345, 0x12345678}));
}

}  // namespace
}  // namespace switchyard::protocol
