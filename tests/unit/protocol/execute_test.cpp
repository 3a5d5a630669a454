#include "protocol/execute.hpp"

#include <gtest/gtest.h>

#include <string_view>

#include "protocol/message_types.hpp"
#include "test_bytes.hpp"

namespace switchyard::protocol {
namespace {

using namespace std::literals;
using test::to_bytes;

TEST(ExecuteTest, RoundTrip) {
  for (Execute e : {Execute{"", 0}, Execute{"p1", 100}, Execute{"x", -1}}) {
    MessageWriter w;
    encode_execute(w, e.portal, e.max_rows);
    auto f = test::single_frame(w.data(), frontend::kExecute);
    ASSERT_TRUE(f);
    EXPECT_EQ(decode_execute(f->body), e);
  }
}

TEST(ExecuteTest, SyncAndFlushHaveEmptyBodies) {
  MessageWriter w;
  encode_sync(w);
  encode_flush(w);
  EXPECT_EQ(test::as_string(w.data()), "S\0\0\0\x04H\0\0\0\x04"sv);
}

TEST(ExecuteTest, MalformedBodiesDecodeToNothing) {
  for (std::string_view body : {""sv, "\0"sv, "\0\0\0\0"sv, "p"sv, "\0\0\0\0\0\0"sv}) {
    EXPECT_EQ(decode_execute(to_bytes(body)), std::nullopt);
  }
}

}  // namespace
}  // namespace switchyard::protocol
