#include "protocol/query.hpp"

#include <gtest/gtest.h>

#include <string_view>

#include "protocol/message_types.hpp"
#include "test_bytes.hpp"

namespace switchyard::protocol {
namespace {

using namespace std::literals;
using test::to_bytes;

TEST(QueryTest, RoundTrip) {
  for (std::string_view sql :
       {"SELECT 1"sv, ""sv, "/* trace=abc */ UPDATE users SET status = 'x'; SELECT 2"sv}) {
    MessageWriter w;
    encode_query(w, sql);
    auto f = test::single_frame(w.data(), frontend::kQuery);
    ASSERT_TRUE(f);
    auto q = decode_query(f->body);
    ASSERT_TRUE(q);
    EXPECT_EQ(q->sql, sql);
    EXPECT_EQ(q->sql.data(), reinterpret_cast<const char*>(f->body.data())) << "a view, no copy";
  }
}

TEST(QueryTest, MalformedBodiesDecodeToNothing) {
  for (std::string_view body : {""sv, "SELECT 1"sv, "SELECT 1\0SELECT 2\0"sv, "x\0\0"sv}) {
    EXPECT_EQ(decode_query(to_bytes(body)), std::nullopt);
  }
}

}  // namespace
}  // namespace switchyard::protocol
