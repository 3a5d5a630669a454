// ReplyTracker: which ParseComplete/CloseComplete replies answer messages Switchyard injected.

#include "proxy/reply_tracker.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace switchyard::proxy
