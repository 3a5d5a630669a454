#include "protocol/command_complete.hpp"

#include <gtest/gtest.h>

#include <string_view>

#include "protocol/message_types.hpp"
#include "test_bytes.hpp"

namespace switchyard::protocol {
namespace {

using namespace std::literals;
using test::to_bytes;

TEST(CommandCompleteTest, RoundTrip) {
  MessageWriter w;
  encode_command_complete(w, "COPY 12");
  auto f = test::single_frame(w.data(), backend::kCommandComplete);
  ASSERT_TRUE(f);
  EXPECT_EQ(decode_command_complete(f->body), "COPY 12");
}

TEST(CommandCompleteTest, MalformedBodiesDecodeToNothing) {
  for (std::string_view body : {""sv, "COPY 1"sv, "COPY 1\0x"sv}) {
    EXPECT_EQ(decode_command_complete(to_bytes(body)), std::nullopt) << body;
  }
}

TEST(CommandCompleteTest, AnInsertsTagToldAsACopys) {
  const struct {
    std::string_view tag;
    std::optional<std::string> told;
  } cases[] = {
      {"INSERT 0 5", "COPY 5"},
      {"INSERT 0 0", "COPY 0"},
      {"INSERT 0 4294967296", "COPY 4294967296"},
      {"INSERT 16385 1", "COPY 1"},  // a table WITH OIDS, long ago
      {"INSERT 0", std::nullopt},
      {"INSERT 0 ", std::nullopt},
      {"INSERT 0 5x", std::nullopt},
      {"UPDATE 5", std::nullopt},
      {"COPY 5", std::nullopt},
      {"", std::nullopt},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(insert_tag_as_copy(c.tag), c.told) << c.tag;
  }
}

}  // namespace
}  // namespace switchyard::protocol
