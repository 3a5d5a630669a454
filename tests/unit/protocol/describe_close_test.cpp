#include "protocol/describe_close.hpp"

#include <gtest/gtest.h>

#include <string_view>

#include "protocol/message_types.hpp"
#include "test_bytes.hpp"

namespace switchyard::protocol {
namespace {

using namespace std::literals;
using test::to_bytes;

TEST(DescribeCloseTest, DescribeRoundTrip) {
  for (DescribeOrClose d : {DescribeOrClose{'S', "s1"}, DescribeOrClose{'P', ""}}) {
    MessageWriter w;
    encode_describe(w, d.kind, d.name);
    auto f = test::single_frame(w.data(), frontend::kDescribe);
    ASSERT_TRUE(f);
    EXPECT_EQ(decode_describe_or_close(f->body), d);
  }
}

TEST(DescribeCloseTest, CloseRoundTrip) {
  for (DescribeOrClose d : {DescribeOrClose{'S', ""}, DescribeOrClose{'P', "portal"}}) {
    MessageWriter w;
    encode_close(w, d.kind, d.name);
    auto f = test::single_frame(w.data(), frontend::kClose);
    ASSERT_TRUE(f);
    EXPECT_EQ(decode_describe_or_close(f->body), d);
  }
}

TEST(DescribeCloseTest, MalformedBodiesDecodeToNothing) {
  for (std::string_view body : {""sv, "S"sv, "Ss1"sv, "Xs1\0"sv, "s\0"sv, "Ss1\0\0"sv}) {
    EXPECT_EQ(decode_describe_or_close(to_bytes(body)), std::nullopt);
  }
}

}  // namespace
}  // namespace switchyard::protocol
