#include "protocol/parameter_status.hpp"

#include <gtest/gtest.h>

#include <string_view>

#include "protocol/message_types.hpp"
#include "test_bytes.hpp"

namespace switchyard::protocol {
namespace {

using namespace std::literals;
using test::to_bytes;

TEST(ParameterStatusTest, RoundTrip) {
  for (ParameterStatus p :
       {ParameterStatus{"server_version", "15.8"}, ParameterStatus{"application_name", ""}}) {
    MessageWriter w;
    encode_parameter_status(w, p.name, p.value);
    auto f = test::single_frame(w.data(), backend::kParameterStatus);
    ASSERT_TRUE(f);
    EXPECT_EQ(decode_parameter_status(f->body), p);
  }
}

TEST(ParameterStatusTest, MalformedBodiesDecodeToNothing) {
  for (std::string_view body : {""sv, "TimeZone\0"sv, "TimeZone\0UTC"sv, "a\0b\0c"sv}) {
    EXPECT_EQ(decode_parameter_status(to_bytes(body)), std::nullopt);
  }
}

}  // namespace
}  // namespace switchyard::protocol
