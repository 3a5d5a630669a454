#include "protocol/parse.hpp"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "protocol/message_types.hpp"
#include "protocol/query.hpp"
#include "test_bytes.hpp"

namespace switchyard::protocol {
namespace {

using namespace std::literals;
using test::to_bytes;

// Type OIDs as a Parse carries them: big-endian Int32s.
std::vector<std::byte> wire_types(const std::vector<std::int32_t>& oids) {
  MessageWriter w;
  for (std::int32_t oid : oids) {
    w.i32(oid);
  }
  return w.take();
}

TEST(ParseTest, RoundTrip) {
  struct Case {
    std::string_view statement;
    std::string_view query;
    std::vector<std::int32_t> types;
  };
  const Case cases[] = {
      {"", "SELECT 1", {}},
      {"s1", "SELECT $1::int, $2, $3", {23, 0, 25}},
      {"stmt_42", "INSERT INTO users (status) VALUES ($1)", {-1}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.query);
    const auto types = wire_types(c.types);
    MessageWriter w;
    encode_parse(w, c.statement, c.query, ParamTypes(types));
    auto f = test::single_frame(w.data(), frontend::kParse);
    ASSERT_TRUE(f);
    auto p = decode_parse(f->body);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->statement, c.statement);
    EXPECT_EQ(p->query, c.query);
    ASSERT_EQ(p->param_types.size(), c.types.size());
    for (std::size_t i = 0; i < c.types.size(); ++i) {
      EXPECT_EQ(p->param_types[i], c.types[i]);
    }
  }
}

TEST(ParseTest, ExactBytes) {
  MessageWriter w;
  const auto types = wire_types({23});
  encode_parse(w, "s", "SELECT $1", ParamTypes(types));
  EXPECT_EQ(test::as_string(w.data()), "P\0\0\0\x16s\0SELECT $1\0\0\x01\0\0\0\x17"sv);
}

// Written in one pass after other messages, as the relay writes a replaced Parse after the
// Close of a statement prepared again.
TEST(ParseTest, AppendsAfterWhatTheWriterHolds) {
  MessageWriter w;
  encode_query(w, "SELECT 1");
  const auto types = wire_types({0, 1043});
  encode_parse(w, "", "SELECT $1, $2", ParamTypes(types));
  EXPECT_EQ(test::as_string(w.data()),
            "Q\0\0\0\x0dSELECT 1\0"
            "P\0\0\0\x1d\0SELECT $1, $2\0\0\x02\0\0\0\0\0\0\x04\x13"sv);
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
