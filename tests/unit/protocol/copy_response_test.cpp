#include "protocol/copy_response.hpp"

#include <gtest/gtest.h>

#include <string_view>

#include "protocol/message_types.hpp"
#include "test_bytes.hpp"

namespace switchyard::protocol {
namespace {

using namespace std::literals;
using test::to_bytes;

TEST(CopyResponseTest, RoundTripForEachDirection) {
  const CopyResponse cases[] = {{0, {}}, {0, {0, 0, 0}}, {1, {1, 1}}};
  for (char type :
       {backend::kCopyInResponse, backend::kCopyOutResponse, backend::kCopyBothResponse}) {
    for (const CopyResponse& c : cases) {
      MessageWriter w;
      encode_copy_response(w, type, c);
      auto f = test::single_frame(w.data(), type);
      ASSERT_TRUE(f);
      EXPECT_EQ(decode_copy_response(f->body), c);
    }
  }
}

TEST(CopyResponseTest, MalformedBodiesDecodeToNothing) {
  for (std::string_view body : {
           ""sv,
           "\0"sv,              // no count
           "\x02\0\0"sv,        // format 2
           "\0\xff\xff"sv,      // negative count
           "\0\0\x01"sv,        // count one, no column
           "\0\0\x01\0\x02"sv,  // column format 2
           "\0\0\0\0"sv,        // trailing byte
       }) {
    SCOPED_TRACE(body.size());
    EXPECT_EQ(decode_copy_response(to_bytes(body)), std::nullopt);
  }
}

}  // namespace
}  // namespace switchyard::protocol
