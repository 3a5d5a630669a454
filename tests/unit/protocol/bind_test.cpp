#include "protocol/bind.hpp"

#include <gtest/gtest.h>

#include <string_view>

#include "protocol/message_types.hpp"
#include "test_bytes.hpp"

namespace switchyard::protocol {
namespace {

using namespace std::literals;
using test::to_bytes;

TEST(BindTest, RoundTripWithoutParameters) {
  for (BindTarget t : {BindTarget{"", ""}, BindTarget{"p1", "s1"}}) {
    MessageWriter w;
    encode_bind_no_params(w, t.portal, t.statement);
    auto f = test::single_frame(w.data(), frontend::kBind);
    ASSERT_TRUE(f);
    EXPECT_EQ(decode_bind_target(f->body), t);
  }
}

TEST(BindTest, NoParamsMeansThreeZeroCounts) {
  MessageWriter w;
  encode_bind_no_params(w, "p", "s");
  EXPECT_EQ(test::as_string(w.data()),
            "B\0\0\0\x0e"
            "p\0s\0\0\0\0\0\0\0"sv);
}

TEST(BindTest, TargetOfABindWithParameters) {
  // portal "", statement "s1", one text format, one parameter "7", one result format.
  auto body = to_bytes(
      "\0s1\0\0\x01\0\0\0\x01\0\0\0\x01"
      "7\0\x01\0\x01"sv);
  EXPECT_EQ(decode_bind_target(body), (BindTarget{"", "s1"}));
}

TEST(BindTest, MalformedTargetsDecodeToNothing) {
  for (std::string_view body : {""sv, "portal"sv, "portal\0"sv, "portal\0stmt"sv}) {
    EXPECT_EQ(decode_bind_target(to_bytes(body)), std::nullopt);
  }
}

}  // namespace
}  // namespace switchyard::protocol
