#include "protocol/parameter_description.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "protocol/message_types.hpp"
#include "protocol/message_writer.hpp"
#include "test_bytes.hpp"

namespace switchyard::protocol {
namespace {

MessageWriter parameter_description(std::initializer_list<std::uint32_t> types) {
  MessageWriter w;
  w.begin_message(backend::kParameterDescription);
  w.i16(static_cast<std::int16_t>(types.size()));
  for (std::uint32_t type : types) {
    w.i32(static_cast<std::int32_t>(type));
  }
  w.finish_message();
  return w;
}

TEST(ParameterDescriptionTest, TypesInOrder) {
  struct Case {
    std::string_view name;
    MessageWriter message;
    std::vector<std::uint32_t> types;
  };
  Case cases[] = {
      {"no parameters", parameter_description({}), {}},
      {"int4, text", parameter_description({23, 25}), {23, 25}},
      {"a type OID past 2^31", parameter_description({0x80000001u}), {0x80000001u}},
  };
  for (auto& c : cases) {
    auto frame = test::single_frame(c.message.data(), backend::kParameterDescription);
    ASSERT_TRUE(frame) << c.name;
    EXPECT_EQ(decode_parameter_description(frame->body), c.types) << c.name;
  }
}

TEST(ParameterDescriptionTest, MalformedBodiesAreRefused) {
  const std::vector<std::vector<std::byte>> bodies = {
      {},                                                        // no count
      {std::byte{0xff}, std::byte{0xff}},                        // -1
      {std::byte{0}, std::byte{1}, std::byte{0}, std::byte{0}},  // a short OID
      {std::byte{0}, std::byte{0}, std::byte{0}},                // trailing byte
  };
  for (const auto& body : bodies) {
    EXPECT_EQ(decode_parameter_description(body), std::nullopt) << body.size();
  }
}

}  // namespace
}  // namespace switchyard::protocol
