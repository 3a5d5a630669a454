#include "protocol/row_description.hpp"

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

using namespace std::literals;

struct Column {
  std::string_view name;
  std::uint32_t type;
};

// A RowDescription as Postgres writes one for a statement (formats not chosen yet: 0).
MessageWriter row_description(std::initializer_list<Column> columns) {
  MessageWriter w;
  w.begin_message(backend::kRowDescription);
  w.i16(static_cast<std::int16_t>(columns.size()));
  for (const Column& c : columns) {
    w.cstring(c.name);
    w.i32(16384);  // table OID
    w.i16(2);      // column number
    w.i32(static_cast<std::int32_t>(c.type));
    w.i16(-1);  // type size
    w.i32(-1);  // type modifier
    w.i16(0);   // format
  }
  w.finish_message();
  return w;
}

TEST(RowDescriptionTest, TypesInColumnOrder) {
  struct Case {
    std::string_view name;
    MessageWriter message;
    std::vector<std::uint32_t> types;
  };
  Case cases[] = {
      {"no columns", row_description({}), {}},
      {"one int4", row_description({{"n", 23}}), {23}},
      {"int8, text, numeric",
       row_description({{"max", 20}, {"?column?", 25}, {"", 1700}}),
       {20, 25, 1700}},
      {"a type OID past 2^31", row_description({{"x", 0x80000001u}}), {0x80000001u}},
  };
  for (auto& c : cases) {
    auto frame = test::single_frame(c.message.data(), backend::kRowDescription);
    ASSERT_TRUE(frame) << c.name;
    EXPECT_EQ(decode_row_description_types(frame->body), c.types) << c.name;
  }
}

TEST(RowDescriptionTest, MalformedBodiesDecodeToNothing) {
  auto whole = row_description({{"n", 23}});
  auto frame = test::single_frame(whole.data(), backend::kRowDescription);
  ASSERT_TRUE(frame);
  const std::span<const std::byte> body = frame->body;
  for (std::size_t cut = 0; cut < body.size(); ++cut) {
    EXPECT_EQ(decode_row_description_types(body.first(cut)), std::nullopt) << "cut at " << cut;
  }
  std::vector<std::byte> longer(body.begin(), body.end());
  longer.push_back(std::byte{0});
  EXPECT_EQ(decode_row_description_types(longer), std::nullopt) << "a byte past the fields";
  EXPECT_EQ(decode_row_description_types(test::to_bytes("\xff\xff"sv)), std::nullopt)
      << "a negative count";
}

}  // namespace
}  // namespace switchyard::protocol
