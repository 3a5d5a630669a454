// ReplyTracker: which ParseComplete/CloseComplete replies and statement descriptions answer
// messages Switchyard injected.

#include "proxy/reply_tracker.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace switchyard::proxy {
namespace {

using Sent = ReplyTracker::Sent;

TEST(ReplyTrackerTest, HidesOnlyTheRepliesToInjectedMessages) {
  ReplyTracker t;
  t.on_sent(Sent::close, true);  // injected re-prepare
  t.on_sent(Sent::parse, true);
  t.on_sent(Sent::parse);  // the client's own Parse
  t.on_sent(Sent::sync);
  EXPECT_TRUE(t.on_complete(Sent::close));
  EXPECT_TRUE(t.on_complete(Sent::parse));
  EXPECT_FALSE(t.on_complete(Sent::parse));
  t.on_ready();
  EXPECT_TRUE(t.empty());
}

TEST(ReplyTrackerTest, AnErrorSkipsToTheSyncAsTheServerDoes) {
  ReplyTracker t;
  t.on_sent(Sent::close, true);
  t.on_sent(Sent::parse, true);  // fails: the server skips the rest up to Sync
  t.on_sent(Sent::parse);
  t.on_sent(Sent::sync);
  t.on_sent(Sent::parse);  // the next batch
  t.on_sent(Sent::sync);
  EXPECT_TRUE(t.on_complete(Sent::close));
  t.on_error();
  t.on_ready();
  EXPECT_FALSE(t.on_complete(Sent::parse));
  t.on_ready();
  EXPECT_TRUE(t.empty());
}

TEST(ReplyTrackerTest, TellsWhetherTheServerDidEachClientsParseAndClose) {
  ReplyTracker t;
  t.on_sent(Sent::parse, false, true);  // done
  t.on_sent(Sent::parse);               // the unnamed statement's: not told
  t.on_sent(Sent::close, false, true);  // skipped after the error
  t.on_sent(Sent::parse, false, true);  // skipped too
  t.on_sent(Sent::sync);
  t.on_sent(Sent::parse, false, true);  // refused itself (42P05)
  t.on_sent(Sent::sync);
  EXPECT_FALSE(t.has_settled());
  EXPECT_FALSE(t.on_complete(Sent::parse));
  EXPECT_FALSE(t.on_complete(Sent::parse));
  t.on_error();
  t.on_ready();
  t.on_error();
  t.on_ready();
  std::vector<bool> told;
  while (t.has_settled()) {
    told.push_back(t.take_settled());
  }
  EXPECT_EQ(told, (std::vector<bool>{true, false, false, false}));
  EXPECT_TRUE(t.empty());
}

TEST(ReplyTrackerTest, ASimpleQueryEndsAtItsReadyForQuery) {
  ReplyTracker t;
  t.on_sent(Sent::query);
  t.on_error();  // inside a simple query nothing after it is skipped
  t.on_sent(Sent::parse, true);
  t.on_ready();
  t.on_sent(Sent::sync);
  EXPECT_TRUE(t.on_complete(Sent::parse));
}

TEST(ReplyTrackerTest, SyncsDuringCopyAreNotAnswered) {
  ReplyTracker t;
  t.on_sent(Sent::parse);
  t.on_sent(Sent::sync);  // swallowed by COPY FROM STDIN
  EXPECT_FALSE(t.on_complete(Sent::parse));
  t.on_copy_in();
  t.on_sent(Sent::sync);  // sent after CopyDone: this one is answered
  t.on_sent(Sent::parse, true);
  t.on_sent(Sent::sync);
  t.on_ready();
  EXPECT_TRUE(t.on_complete(Sent::parse));
}

TEST(ReplyTrackerTest, OutOfStepRepliesStopHiding) {
  ReplyTracker t;
  t.on_sent(Sent::parse, true);
  EXPECT_FALSE(t.on_complete(Sent::close));  // not what was sent: hide nothing from here on
  EXPECT_TRUE(t.empty());
  EXPECT_FALSE(t.on_complete(Sent::parse));
}

using Description = ReplyTracker::Description;

TEST(ReplyTrackerTest, DescriptionsGoToTheDescribeFirstInLine) {
  ReplyTracker t;
  t.on_sent(Sent::describe);        // the client's Describe of a portal
  t.on_sent(Sent::describe, true);  // injected: the statement before its re-prepare
  t.on_sent(Sent::close, true);
  t.on_sent(Sent::parse, true);
  t.on_sent(Sent::describe, true);  // and after
  EXPECT_EQ(t.hidden_describes(), 2u);
  EXPECT_EQ(t.on_description(true), Description::client);   // RowDescription of the portal
  EXPECT_EQ(t.on_description(false), Description::hidden);  // ParameterDescription
  EXPECT_EQ(t.on_description(true), Description::hidden_last);
  EXPECT_EQ(t.hidden_describes(), 1u);
  EXPECT_TRUE(t.on_complete(Sent::close));
  EXPECT_TRUE(t.on_complete(Sent::parse));
  EXPECT_EQ(t.on_description(false), Description::hidden);
  EXPECT_EQ(t.on_description(true), Description::hidden_last);  // NoData
  EXPECT_EQ(t.hidden_describes(), 0u);
  EXPECT_TRUE(t.empty());
}

TEST(ReplyTrackerTest, ASimpleQuerysRowsAreNotADescribesAnswer) {
  ReplyTracker t;
  t.on_sent(Sent::query);
  t.on_sent(Sent::describe, true);
  EXPECT_EQ(t.on_description(true), Description::client);
  EXPECT_EQ(t.hidden_describes(), 1u);
  t.on_ready();
  EXPECT_EQ(t.on_description(false), Description::hidden);
}

TEST(ReplyTrackerTest, DescribesSkippedAfterAnErrorAreNoLongerAwaited) {
  ReplyTracker t;
  t.on_sent(Sent::parse);           // the client's, which fails
  t.on_sent(Sent::describe, true);  // skipped by the server up to the Sync
  t.on_sent(Sent::close, true);
  t.on_sent(Sent::sync);
  t.on_sent(Sent::describe, true);  // after the Sync: answered
  EXPECT_EQ(t.hidden_describes(), 2u);
  t.on_error();
  EXPECT_EQ(t.hidden_describes(), 1u);
  t.on_ready();
  EXPECT_EQ(t.on_description(true), Description::hidden_last);
  EXPECT_EQ(t.hidden_describes(), 0u);

  t.on_sent(Sent::describe, true);
  EXPECT_FALSE(t.on_complete(Sent::parse));  // out of step: nothing is awaited any more
  EXPECT_EQ(t.hidden_describes(), 0u);
}

TEST(ReplyTrackerTest, StatementsPutInFrontOfAQueryAreHiddenAndConfirmOnce) {
  ReplyTracker t;
  t.on_sent(Sent::parse);  // a client's batch still unanswered
  t.on_sent(Sent::sync);
  t.on_sent(Sent::query);
  t.hide_first_completes(2, 7, 40);  // DEALLOCATE and PREPARE in front of the client's text
  t.on_sent(Sent::query);            // the client's next text, pipelined
  EXPECT_EQ(t.watched_completes(), 2u);
  EXPECT_FALSE(t.on_complete(Sent::parse));
  EXPECT_FALSE(t.on_command_complete().hide);  // the batch's Execute: the client's
  t.on_ready();
  auto first = t.on_command_complete();
  EXPECT_TRUE(first.hide);
  EXPECT_EQ(first.confirmed, 0u);
  auto second = t.on_command_complete();
  EXPECT_TRUE(second.hide);
  EXPECT_EQ(second.confirmed, 7u);             // both answered: the server has the statement
  EXPECT_FALSE(t.on_command_complete().hide);  // the client's EXECUTE
  t.on_ready();
  EXPECT_FALSE(t.on_command_complete().hide);
  t.on_ready();
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.watched_completes(), 0u);
}

TEST(ReplyTrackerTest, AnErrorInFrontOfTheClientsTextConfirmsNothing) {
  ReplyTracker t;
  t.on_sent(Sent::query);
  t.hide_first_completes(2, 3, 30);
  t.on_sent(Sent::query);
  t.hide_first_completes(2, 4, 30);
  EXPECT_EQ(t.watched_completes(), 4u);
  EXPECT_EQ(t.position_shift(), 0u);  // an error in front is not in the client's text
  t.on_error();                       // the DEALLOCATE failed: the rest of the text never ran
  EXPECT_EQ(t.watched_completes(), 2u);
  t.on_ready();
  EXPECT_TRUE(t.on_command_complete().hide);
  EXPECT_EQ(t.on_command_complete().confirmed, 4u);
  t.on_error();  // the client's own statement failed: nothing left to hide
  t.on_ready();
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.watched_completes(), 0u);
}

TEST(ReplyTrackerTest, AStagedCopysStatementsAreHiddenAndItsInsertToldAsTheCopy) {
  ReplyTracker t;
  t.on_sent(Sent::query);
  // Two statements in front (an SQL re-prepare), then the client's SELECT, then a staged COPY:
  // CREATE, COPY (hidden), INSERT (told as the COPY), DROP (hidden), then the client's last.
  // The staged ones are counted from the first answer after those in front.
  t.hide_first_completes(2, 9, 12);
  t.watch_completes((1u << 1) | (1u << 2) | (1u << 4), 1u << 3);
  EXPECT_EQ(t.watched_completes(), 6u);
  EXPECT_EQ(t.position_shift(), 0u);
  EXPECT_TRUE(t.on_command_complete().hide);
  EXPECT_EQ(t.on_command_complete().confirmed, 9u);
  EXPECT_EQ(t.position_shift(), 12u);
  const struct {
    bool hide;
    bool as_copy;
  } expected[] = {{false, false}, {true, false}, {true, false},
                  {false, true},  {true, false}, {false, false}};
  for (const auto& e : expected) {
    const auto answer = t.on_command_complete();
    EXPECT_EQ(answer.hide, e.hide);
    EXPECT_EQ(answer.as_copy, e.as_copy);
    EXPECT_EQ(answer.confirmed, 0u);
  }
  EXPECT_EQ(t.watched_completes(), 0u);
  t.on_ready();
  EXPECT_TRUE(t.empty());
}

TEST(ReplyTrackerTest, AQuerySkippedAfterAnErrorInItsBatchIsNotAwaited) {
  ReplyTracker t;
  t.on_sent(Sent::parse, false, true);  // the client's named Parse, which fails
  t.on_sent(Sent::query);               // a rejection raised in the same batch, skipped
  t.on_sent(Sent::sync);
  t.on_sent(Sent::parse, true);  // an injected Parse of the next batch
  t.on_error();
  t.query_skipped();
  t.on_ready();  // the Sync's
  EXPECT_TRUE(t.has_settled());
  EXPECT_FALSE(t.take_settled());
  EXPECT_TRUE(t.on_complete(Sent::parse));  // paired with the next batch's Parse, hidden
}

// Execute("") [fails], Query, Parse, Query, Sync: the server skips both Queries, and the
// session's tracker (ExtendedState) tells the proxy so; the Sync's ReadyForQuery ends the batch.
TEST(ReplyTrackerTest, EveryQuerySkippedUpToTheSyncIsNotAwaited) {
  ReplyTracker t;
  t.on_sent(Sent::query);
  t.on_sent(Sent::parse, false, true);
  t.on_sent(Sent::query);
  t.on_sent(Sent::sync);
  t.on_sent(Sent::parse, true);  // an injected Parse of the next batch
  t.on_error();
  t.query_skipped();
  t.query_skipped();
  t.on_ready();  // the Sync's
  EXPECT_TRUE(t.has_settled());
  EXPECT_FALSE(t.take_settled());
  EXPECT_TRUE(t.on_complete(Sent::parse));  // paired with the next batch's Parse, hidden
  EXPECT_TRUE(t.empty());
}

// A Query sent after the error of its batch has come, before the Sync: the server skips it.
TEST(ReplyTrackerTest, AQuerySentWhileTheServerSkipsIsNotAwaited) {
  ReplyTracker t;
  t.on_sent(Sent::parse, false, true);  // fails
  t.on_error();
  t.on_sent(Sent::query);
  t.query_not_run();
  t.on_sent(Sent::sync);
  t.on_sent(Sent::parse, true);  // the next batch
  t.on_sent(Sent::sync);
  t.on_ready();  // the Sync's, not the Query's
  EXPECT_TRUE(t.on_complete(Sent::parse));
  t.on_ready();
  EXPECT_TRUE(t.empty());
}

TEST(ReplyTrackerTest, AnErrorInAStagedCopyLeavesNothingToWatch) {
  ReplyTracker t;
  t.on_sent(Sent::query);
  t.watch_completes(0b1011, 0b0100);
  t.on_sent(Sent::query);  // the next text, pipelined: nothing of its own to watch
  EXPECT_TRUE(t.on_command_complete().hide);  // CREATE
  t.on_error();  // a bad row: the COPY failed, its INSERT and DROP never ran
  EXPECT_EQ(t.watched_completes(), 0u);
  t.on_ready();
  EXPECT_FALSE(t.on_command_complete().hide);
  EXPECT_FALSE(t.on_command_complete().as_copy);
  t.on_ready();
  EXPECT_TRUE(t.empty());
}

TEST(ReplyTrackerTest, AnErrorIsPairedWithTheRewrittenTextItAnswers) {
  ReplyTracker t;
  auto rewrite = std::make_shared<const rewrite::RewriteResult>();
  t.on_sent(Sent::parse);
  RewrittenText parsed{rewrite, ""};
  t.rewritten(parsed);  // the client's Parse, rewritten
  t.on_sent(Sent::parse);
  RewrittenText filled{rewrite, "update t set n = 1"};
  t.rewritten(filled);                          // filled in from its shape's rewrite
  EXPECT_TRUE(filled.shaped_original.empty());  // taken; an empty buffer handed back
  t.on_sent(Sent::parse);                       // forwarded as written
  t.on_sent(Sent::sync);
  EXPECT_TRUE(t.answers_rewrite());
  EXPECT_EQ(t.text_answered().rewrite, rewrite);
  EXPECT_EQ(t.text_answered().shaped_original, "");
  EXPECT_FALSE(t.on_complete(Sent::parse));
  EXPECT_TRUE(t.answers_rewrite());
  EXPECT_EQ(t.text_answered().shaped_original, "update t set n = 1");
  EXPECT_FALSE(t.on_complete(Sent::parse));
  EXPECT_FALSE(t.answers_rewrite());
  t.on_error();
  t.on_ready();
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(rewrite.use_count(), 1);  // not held past its answer
}

TEST(ReplyTrackerTest, AnErrorInFrontOfARewrittenQueryIsNotItsOwn) {
  ReplyTracker t;
  t.on_sent(Sent::query);
  RewrittenText text{std::make_shared<const rewrite::RewriteResult>(), ""};
  t.rewritten(text);
  t.hide_first_completes(2, 9, 12);
  EXPECT_FALSE(t.answers_rewrite());  // the error would answer a statement put in front
  EXPECT_TRUE(t.on_command_complete().hide);
  EXPECT_TRUE(t.on_command_complete().hide);
  EXPECT_TRUE(t.answers_rewrite());
  EXPECT_EQ(t.position_shift(), 12u);
}

TEST(ReplyTrackerTest, AnErrorOfAStagingTableCreateKnowsWhyTheCopyIsStaged) {
  ReplyTracker t;
  auto because = std::make_shared<const std::string>("migration \"m\": COPY FROM ...");
  t.on_sent(Sent::query);
  // The client's SELECT, then CREATE, COPY (hidden), INSERT (told as the COPY), DROP (hidden).
  t.watch_completes(0b10110, 0b01000, because);
  EXPECT_EQ(t.staging_error(), nullptr);  // the SELECT's
  EXPECT_FALSE(t.on_command_complete().hide);
  EXPECT_EQ(t.staging_error(), because);  // the CREATE's
  EXPECT_TRUE(t.on_command_complete().hide);
  EXPECT_EQ(t.staging_error(), nullptr);  // the COPY's: a bad row is the client's own error
}

}  // namespace
}  // namespace switchyard::proxy
