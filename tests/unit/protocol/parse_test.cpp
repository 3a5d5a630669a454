#include "protocol/parse.hpp"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "protocol/message_types.hpp"
#include "test_bytes.hpp"

namespace switchyard::protocol {
namespace {

using namespace std::literals;
using test::to_bytes;

TEST(ParseTest, RoundTrip) {
  const Parse cases[] = {
      {"", "SELECT 1", {}},
      {"s1", "SELECT $1::int, $2, $3", {23, 0, 25}},
      {"stmt_42", "INSERT INTO users (status) VALUES ($1)", {-1}},
  };
  for (const Parse& p : cases) {
    MessageWriter w;
    encode_parse(w, p.statement, p.query, p.param_types);
    auto f = test::single_frame(w.data(), frontend::kParse);
    ASSERT_TRUE(f);
    EXPECT_EQ(decode_parse(f->body), p);
  }
}

TEST(ParseTest, ExactBytes) {
  MessageWriter w;
  const std::int32_t types[] = {23};
  encode_parse(w, "s", "SELECT $1", types);
  EXPECT_EQ(test::as_string(w.data()), "P\0\0\0\x16s\0SELECT $1\0\0\x01\0\0\0\x17"sv);
}

TEST(ParseTest, MalformedBodiesDecodeToNothing) {
  for (std::string_view body : {
           ""sv,
           "s\0"sv,                       // no query
           "s\0q\0"sv,                    // no count
           "s\0q\0\0"sv,                  // half a count
           "s\0q\0\xff\xff"sv,            // negative count
           "s\0q\0\0\x02\0\0\0\x17"sv,    // count says two, one present
           "s\0q\0\x7f\xff"sv,            // huge count, no data
           "s\0q\0\0\x01\0\0\0\x17\0"sv,  // trailing byte
       }) {
    SCOPED_TRACE(body.size());
    EXPECT_EQ(decode_parse(to_bytes(body)), std::nullopt);
  }
}

}  // namespace
}  // namespace switchyard::protocol
