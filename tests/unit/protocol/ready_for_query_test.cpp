#include "protocol/ready_for_query.hpp"

#include <gtest/gtest.h>

#include <string_view>

#include "protocol/message_types.hpp"
#include "test_bytes.hpp"

namespace switchyard::protocol {
namespace {

using namespace std::literals;
using test::to_bytes;

TEST(ReadyForQueryTest, RoundTripEveryStatus) {
  for (auto status :
       {TransactionStatus::idle, TransactionStatus::in_block, TransactionStatus::failed}) {
    MessageWriter w;
    encode_ready_for_query(w, status);
    auto f = test::single_frame(w.data(), backend::kReadyForQuery);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->body.size(), 1u);
    EXPECT_EQ(decode_ready_for_query(f->body), status);
  }
}

TEST(ReadyForQueryTest, StatusBytesAreTheDocumentedLetters) {
  EXPECT_EQ(decode_ready_for_query(to_bytes("I"sv)), TransactionStatus::idle);
  EXPECT_EQ(decode_ready_for_query(to_bytes("T"sv)), TransactionStatus::in_block);
  EXPECT_EQ(decode_ready_for_query(to_bytes("E"sv)), TransactionStatus::failed);
}

TEST(ReadyForQueryTest, MalformedBodiesDecodeToNothing) {
  for (std::string_view body : {""sv, "X"sv, "i"sv, "II"sv, "\0"sv}) {
    EXPECT_EQ(decode_ready_for_query(to_bytes(body)), std::nullopt);
  }
}

}  // namespace
}  // namespace switchyard::protocol
