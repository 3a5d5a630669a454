#include "protocol/transaction_state.hpp"

#include <gtest/gtest.h>

#include <string_view>

#include "protocol/message_types.hpp"
#include "test_bytes.hpp"

namespace switchyard::protocol {
namespace {

// Drives an ExtendedState with message sequences as they cross the proxy:
// "PBDES" are frontend type bytes sent, in order; backend messages arrive one by
// one with their bodies ("Z" takes the status letter).
class ExtendedStateTest : public ::testing::Test {
 protected:
  void send(std::string_view types) {
    for (char t : types) {
      state_.on_frontend(t);
    }
  }
  void receive(std::string_view types) {
    for (char t : types) {
      state_.on_backend(t, {});
    }
  }
  void ready(char status) {
    const auto body = test::to_bytes(std::string_view(&status, 1));
    state_.on_backend(backend::kReadyForQuery, body);
  }

  ExtendedState state_;
};

TEST_F(ExtendedStateTest, FreshSessionIsIdle) {
  EXPECT_TRUE(state_.idle());
  EXPECT_EQ(state_.status(), TransactionStatus::idle);
  EXPECT_EQ(state_.outstanding(), 0u);
}

TEST_F(ExtendedStateTest, ReadyForQueryAfterStartupOnlySetsStatus) {
  receive("RSSK");
  ready('I');
  EXPECT_TRUE(state_.idle());
  EXPECT_EQ(state_.outstanding(), 0u);
}

TEST_F(ExtendedStateTest, SimpleQuery) {
  send("Q");
  EXPECT_FALSE(state_.idle());
  EXPECT_EQ(state_.outstanding(), 1u);
  receive("TDC");
  EXPECT_FALSE(state_.idle());
  ready('I');
  EXPECT_TRUE(state_.idle());
}

TEST_F(ExtendedStateTest, MultiStatementQueryGetsOneReadyForQuery) {
  send("Q");  // "SELECT 1; SELECT 2"
  receive("TDCTDC");
  ready('I');
  EXPECT_TRUE(state_.idle());
}

TEST_F(ExtendedStateTest, AQuerySkippedAfterAnErrorInItsBatchIsNotAwaited) {
  send("PBEQS");  // a Query sent inside a batch, skipped after the Execute fails
  EXPECT_EQ(state_.outstanding(), 2u);
  receive("12E");
  state_.query_skipped();
  EXPECT_EQ(state_.outstanding(), 1u);
  ready('I');  // the Sync's
  EXPECT_TRUE(state_.idle());
}

TEST_F(ExtendedStateTest, TransactionBlockIsNotIdleUntilCommit) {
  send("Q");  // BEGIN
  receive("C");
  ready('T');
  EXPECT_EQ(state_.outstanding(), 0u);
  EXPECT_EQ(state_.status(), TransactionStatus::in_block);
  EXPECT_FALSE(state_.idle());
  send("Q");  // UPDATE fails
  receive("E");
  ready('E');
  EXPECT_EQ(state_.status(), TransactionStatus::failed);
  EXPECT_FALSE(state_.idle());
  send("Q");  // ROLLBACK
  receive("C");
  ready('I');
  EXPECT_TRUE(state_.idle());
}

TEST_F(ExtendedStateTest, ExtendedQuery) {
  send("PBDES");
  EXPECT_EQ(state_.outstanding(), 1u);
  receive("12TDC");
  EXPECT_FALSE(state_.idle());
  ready('I');
  EXPECT_TRUE(state_.idle());
}

TEST_F(ExtendedStateTest, PipelineNeedsEveryReadyForQuery) {
  send(
      "PBES"
      "BES"
      "PBES");
  EXPECT_EQ(state_.outstanding(), 3u);
  receive("12C");
  ready('I');
  EXPECT_FALSE(state_.idle());
  receive("2C");
  ready('I');
  EXPECT_FALSE(state_.idle());
  EXPECT_EQ(state_.outstanding(), 1u);
  receive("12C");
  ready('I');
  EXPECT_TRUE(state_.idle());
}

TEST_F(ExtendedStateTest, ErrorInPipelineStillAnswersEachSync) {
  send(
      "PBES"
      "PBES");
  receive("E");  // the first Parse fails; the server skips to its Sync
  ready('I');
  receive("12C");
  ready('I');
  EXPECT_TRUE(state_.idle());
}

TEST_F(ExtendedStateTest, MessagesWithoutSyncAreNotIdle) {
  send("PDH");  // Parse, Describe, Flush: a driver preparing a statement
  receive("1tT");
  EXPECT_EQ(state_.outstanding(), 0u);
  EXPECT_FALSE(state_.idle()) << "the client has not reached a Sync";
  send("S");
  ready('I');
  EXPECT_TRUE(state_.idle());
}

TEST_F(ExtendedStateTest, AllAnsweredAtEachReadyForQueryAlsoInsideATransaction) {
  EXPECT_TRUE(state_.all_answered());
  send("Q");  // BEGIN
  EXPECT_FALSE(state_.all_answered());
  receive("C");
  ready('T');
  EXPECT_TRUE(state_.all_answered()) << "in a transaction, nothing waits for an answer";
  send("PDH");
  receive("1tT");
  EXPECT_FALSE(state_.all_answered()) << "answered up to the Flush, but no ReadyForQuery";
  send("S");
  ready('T');
  EXPECT_TRUE(state_.all_answered());
}

TEST_F(ExtendedStateTest, FunctionCallIsAnsweredLikeAQuery) {
  send("F");
  receive("V");
  EXPECT_FALSE(state_.idle());
  ready('I');
  EXPECT_TRUE(state_.idle());
}

// psql's \copy: Query, CopyInResponse, data, CopyDone.
TEST_F(ExtendedStateTest, SimpleCopyIn) {
  send("Q");
  receive("G");
  EXPECT_TRUE(state_.in_copy_in());
  send("ddd");
  EXPECT_TRUE(state_.in_copy_in());
  send("c");
  EXPECT_FALSE(state_.in_copy_in());
  receive("C");
  ready('I');
  EXPECT_TRUE(state_.idle());
}

TEST_F(ExtendedStateTest, SyncAndFlushDuringCopyInAreIgnoredByTheServer) {
  send("Q");
  receive("G");
  send("dSHdc");
  EXPECT_EQ(state_.outstanding(), 1u);
  receive("C");
  ready('I');
  EXPECT_TRUE(state_.idle());
}

// libpq's PQexecParams("COPY ... FROM STDIN") sends Parse/Bind/Describe/Execute
// and Sync at once; the server reads that Sync in copy-in mode and ignores it,
// so only the Sync libpq sends after CopyDone is answered.
TEST_F(ExtendedStateTest, ExtendedCopyInSwallowsThePipelinedSync) {
  send("PBDES");
  receive("12nG");
  EXPECT_TRUE(state_.in_copy_in());
  EXPECT_EQ(state_.outstanding(), 0u);
  send("ddc");
  send("S");
  EXPECT_EQ(state_.outstanding(), 1u);
  receive("C");
  ready('I');
  EXPECT_TRUE(state_.idle());
}

TEST_F(ExtendedStateTest, CopyDataSentBeforeCopyInResponse) {
  send("Qddc");  // a client that does not wait for CopyInResponse
  receive("G");
  EXPECT_FALSE(state_.in_copy_in()) << "the CopyDone already sent ends it";
  receive("C");
  ready('I');
  EXPECT_TRUE(state_.idle());
}

TEST_F(ExtendedStateTest, ExtendedCopyEverythingPipelined) {
  send("PBESddcS");
  receive("12G");
  EXPECT_FALSE(state_.in_copy_in());
  EXPECT_EQ(state_.outstanding(), 1u) << "the first Sync was swallowed";
  receive("C");
  ready('I');
  EXPECT_TRUE(state_.idle());
}

TEST_F(ExtendedStateTest, CopyFail) {
  send("Q");
  receive("G");
  send("df");
  EXPECT_FALSE(state_.in_copy_in());
  receive("E");
  ready('I');
  EXPECT_TRUE(state_.idle());
}

TEST_F(ExtendedStateTest, ServerErrorDuringCopyThenLateCopyDone) {
  send("Q");
  receive("G");
  send("d");
  receive("E");  // a bad row
  EXPECT_FALSE(state_.in_copy_in());
  send("dc");  // still in flight from the client; the server drops them
  ready('I');
  EXPECT_TRUE(state_.idle());
  // A new COPY must not be ended by the stale CopyDone.
  send("Q");
  receive("G");
  EXPECT_TRUE(state_.in_copy_in());
  send("c");
  receive("C");
  ready('I');
  EXPECT_TRUE(state_.idle());
}

TEST_F(ExtendedStateTest, ServerErrorDuringExtendedCopy) {
  send("PBES");
  receive("12G");
  send("d");
  receive("E");
  send("dcS");  // libpq finishes its side and syncs
  EXPECT_EQ(state_.outstanding(), 1u);
  ready('I');
  EXPECT_TRUE(state_.idle());
}

TEST_F(ExtendedStateTest, QueryDuringCopyInAbortsItAndIsNotAnswered) {
  send("Q");
  receive("G");
  send("dQ");
  EXPECT_FALSE(state_.in_copy_in());
  EXPECT_EQ(state_.outstanding(), 1u);
  receive("E");
  ready('I');
  EXPECT_TRUE(state_.idle());
}

TEST_F(ExtendedStateTest, CopyOutNeedsNothingFromTheClient) {
  send("Q");
  receive("HdddcC");
  EXPECT_FALSE(state_.in_copy_in());
  ready('I');
  EXPECT_TRUE(state_.idle());
}

TEST_F(ExtendedStateTest, QueryPipelinedBehindACopyAbortsIt) {
  send("QQ");  // COPY FROM STDIN, then another query before any data
  receive("G");
  EXPECT_FALSE(state_.in_copy_in());
  EXPECT_EQ(state_.outstanding(), 1u) << "the second Query is consumed by the abort";
  receive("E");
  ready('I');
  EXPECT_TRUE(state_.idle());
}

// asyncpg's copy_records_to_table: the introspection statement is parsed and described
// with a Flush, no Sync, and the COPY follows as a Query. The COPY is the Query's, and its
// ReadyForQuery answers the Parse run as well: the session is idle after it, so a flip made
// meanwhile applies to the very next statement.
TEST_F(ExtendedStateTest, CopyQueryAfterARunWithoutSync) {
  send("PDH");
  receive("1tT");
  send("Q");
  receive("G");
  EXPECT_TRUE(state_.in_copy_in());
  send("dc");
  receive("C");
  ready('I');
  EXPECT_TRUE(state_.idle());
}

// The same run, but with an Execute: that Execute may be the COPY, and the Query aborts it.
TEST_F(ExtendedStateTest, CopyStartedByAnExecuteBeforeAQuery) {
  send("PBEHQ");
  receive("12G");
  EXPECT_FALSE(state_.in_copy_in()) << "the Query aborted it";
  EXPECT_EQ(state_.outstanding(), 0u) << "the Query is consumed by the abort";
  receive("E");
  send("S");
  ready('I');
  EXPECT_TRUE(state_.idle());
}

}  // namespace
}  // namespace switchyard::protocol
