#include "protocol/transaction_state.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

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

// Postgres skips everything after an error in the extended protocol up to the next Sync, a Query
// too; whose the error is (the run's, or the Query's after it) is told by counting the run's
// answers. Steps: ">..." messages sent, "<..." received ('Z' is a ReadyForQuery saying 'I').
TEST_F(ExtendedStateTest, AnErrorInARunSkipsTheQueriesAfterItUpToTheSync) {
  struct Case {
    const char* name;
    const char* steps;
    std::size_t skipped;  // the Queries on_backend reported skipped
    std::size_t outstanding;
    bool idle;
  };
  const std::vector<Case> cases = {
      {"no unnamed portal: the Query is skipped", ">EQS <EZ", 1, 0, true},
      {"the Query after it is skipped before the Sync is sent", ">EQ <E >S <Z", 1, 0, true},
      {"a FunctionCall too", ">EFS <EZ", 1, 0, true},
      {"every Query up to the Sync, runs between too", ">EQPBQS <EZ", 2, 0, true},
      {"not a Query after the Sync", ">EQSQ <EZ", 1, 1, false},
      {"a Query after the Sync is answered", ">EQSQ <EZCZ", 1, 0, true},
      {"a Parse fails second in a pipeline", ">PBES >PBEQS <12CZ <EZ", 1, 0, true},
      {"the run is answered: the error is the Query's", ">PBEQS <12CE <Z", 0, 1, false},
      {"... and its ReadyForQuery comes", ">PBEQS <12CEZ <Z", 0, 0, true},
      {"a statement's Describe: ParameterDescription is not its answer", ">PDQS <1tEZ", 1, 0, true},
      {"a statement's Describe answered: the Query's error", ">PDQS <1tTEZZ", 0, 0, true},
      {"NoData answers a Describe", ">PDQS <1tnEZZ", 0, 0, true},
      {"PortalSuspended answers an Execute", ">BEQS <2DDsEZZ", 0, 0, true},
      {"EmptyQueryResponse answers an Execute", ">PBEQS <12IEZZ", 0, 0, true},
      {"CloseComplete answers a Close", ">CQS <3EZZ", 0, 0, true},
      {"Flush has no answer", ">PHQS <1EZZ", 0, 0, true},
      {"the Query's own answers do not settle a later run", ">QPBES <TDCZ <E <Z", 0, 0, true},
      {"an error committing at Sync skips nothing", ">PBES <12CEZ", 0, 0, true},
      {"sent while the server skips: not awaited", ">EQ <E >QPBQ", 1, 0, false},
      {"... until the Sync", ">EQ <E >QPBQS <Z", 1, 0, true},
      {"a simple Query's error stops only itself", ">QQ <EZ", 0, 1, false},
      {"libpq's COPY FROM STDIN by Execute, pipelined Sync", ">PBES <12G >dcS <CZ", 0, 0, true},
      {"... failed by the client", ">PBES <12G >dfS <EZ", 0, 0, true},
      {"asyncpg's COPY as a Query behind a described statement", ">PDH <1tT >Q <G >dc <CZ", 0, 0,
       true},
  };
  for (const Case& c : cases) {
    ExtendedState state;
    std::size_t skipped = 0;
    std::string_view steps = c.steps;
    while (!steps.empty()) {
      const std::size_t end = std::min(steps.find(' '), steps.size());
      const std::string_view step = steps.substr(1, end - 1);
      for (char t : step) {
        if (steps.front() == '>') {
          state.on_frontend(t);
        } else if (t == backend::kReadyForQuery) {
          skipped += state.on_backend(t, test::to_bytes("I"));
        } else {
          skipped += state.on_backend(t, {});
        }
      }
      steps.remove_prefix(std::min(end + 1, steps.size()));
    }
    EXPECT_EQ(skipped, c.skipped) << c.name;
    EXPECT_EQ(state.outstanding(), c.outstanding) << c.name;
    EXPECT_EQ(state.idle(), c.idle) << c.name;
  }
}

TEST_F(ExtendedStateTest, TheServerSkipsUntilTheSync) {
  send("EQ");
  receive("E");
  EXPECT_TRUE(state_.skipping());
  EXPECT_FALSE(state_.idle()) << "the batch is not over";
  send("Q");
  EXPECT_EQ(state_.outstanding(), 0u);
  send("S");
  EXPECT_FALSE(state_.skipping());
  EXPECT_EQ(state_.outstanding(), 1u);
  ready('I');
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

TEST_F(ExtendedStateTest, UnsyncedAnswersDueUntilTheRunIsAnswered) {
  EXPECT_FALSE(state_.unsynced_answers_due());
  send("PBE");  // no Sync yet: a Query sent now is answered behind the Execute
  EXPECT_TRUE(state_.unsynced_answers_due());
  receive("12");
  EXPECT_TRUE(state_.unsynced_answers_due());
  receive("C");
  EXPECT_FALSE(state_.unsynced_answers_due()) << "the run is answered";
  send("BES");  // behind a Sync, its answers end with a ReadyForQuery of their own
  EXPECT_FALSE(state_.unsynced_answers_due());
  send("Q");
  EXPECT_FALSE(state_.unsynced_answers_due());
  receive("2C");
  ready('I');
  receive("C");
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

// An Execute already answered (its CommandComplete came) did not start the COPY: the Query
// after it did.
TEST_F(ExtendedStateTest, CopyQueryAfterAnAnsweredExecute) {
  send("PBEHQ");
  receive("12DC");
  receive("G");
  EXPECT_TRUE(state_.in_copy_in());
  send("c");
  receive("C");
  ready('I');
  EXPECT_TRUE(state_.idle());
}

// A run longer than one group counts is split; the answers still go to the first part first.
TEST_F(ExtendedStateTest, ALongRunIsAnsweredInOrder) {
  const std::string binds(70000, 'B');
  for (bool answered : {false, true}) {
    ExtendedState state;
    for (char t : binds + "QS") {
      state.on_frontend(t);
    }
    for (std::size_t i = 0; i + (answered ? 0 : 1) < binds.size(); ++i) {
      state.on_backend(backend::kBindComplete, {});
    }
    EXPECT_EQ(state.on_backend(backend::kErrorResponse, {}), answered ? 0u : 1u) << answered;
    EXPECT_EQ(state.outstanding(), answered ? 2u : 1u) << answered;
  }
}

// Positions among the answers to extended messages (next_answer, answers_resolved): a message's
// position is reached when its answer comes or the server skips it after an error; a Query's
// answers take none, nor do messages sent while the server skips.
TEST(ExtendedStateAnswersTest, Table) {
  struct Step {
    std::string_view send;
    std::string_view receive;  // backend types, 'Z' an idle ReadyForQuery
    std::uint64_t resolved;
    std::uint64_t next;
  };
  struct Case {
    std::string_view name;
    std::vector<Step> steps;
  };
  const std::vector<Case> cases = {
      {"answered in order",
       {{"", "", 0, 1}, {"PBE", "", 0, 4}, {"", "12", 2, 4}, {"S", "CZ", 3, 4}}},
      {"an error skips the rest of the run and the next runs up to the Sync",
       {{"PBEPBEHPBE", "12C", 3, 10}, {"", "E", 9, 10}, {"S", "Z", 9, 10}}},
      {"a Query's answers take no position", {{"PBEQ", "12CTDC", 3, 4}, {"S", "Z", 3, 4}}},
      {"messages sent while skipping take none",
       {{"PBE", "E", 3, 4}, {"PBE", "", 3, 4}, {"S", "Z", 3, 4}, {"PBES", "12CZ", 6, 7}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ExtendedState state;
    for (const Step& step : c.steps) {
      for (char t : step.send) {
        state.on_frontend(t);
      }
      for (char t : step.receive) {
        if (t == backend::kReadyForQuery) {
          const auto body = test::to_bytes("I");
          state.on_backend(t, body);
        } else {
          state.on_backend(t, {});
        }
      }
      SCOPED_TRACE(std::string(step.send) + "/" + std::string(step.receive));
      EXPECT_EQ(state.answers_resolved(), step.resolved);
      EXPECT_EQ(state.next_answer(), step.next);
    }
  }
}

}  // namespace
}  // namespace switchyard::protocol
