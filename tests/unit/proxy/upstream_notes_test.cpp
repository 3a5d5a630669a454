#include "proxy/upstream_notes.hpp"

#include <gtest/gtest.h>

namespace switchyard::proxy {
namespace {

TEST(UpstreamNotesTest, RecordIsTrueOncePerNoteAndUpstream) {
  UpstreamNotes notes;
  EXPECT_TRUE(notes.record("pooler", "127.0.0.1:6432"));
  EXPECT_FALSE(notes.record("pooler", "127.0.0.1:6432"));
  // Another upstream (a reload moved the address) or another note is news again.
  EXPECT_TRUE(notes.record("pooler", "127.0.0.1:5432"));
  EXPECT_TRUE(notes.record("idle_session_timeout refused", "127.0.0.1:6432"));
}

TEST(UpstreamNotesTest, HasSeesOnlyWhatWasRecordedForThatUpstream) {
  UpstreamNotes notes;
  EXPECT_FALSE(notes.has("pooler", "127.0.0.1:6432"));
  notes.record("pooler", "127.0.0.1:6432");
  EXPECT_TRUE(notes.has("pooler", "127.0.0.1:6432"));
  EXPECT_FALSE(notes.has("pooler", "/var/run/postgresql/.s.PGSQL.5432"));
  EXPECT_FALSE(notes.has("idle_session_timeout refused", "127.0.0.1:6432"));
}

}  // namespace
}  // namespace switchyard::proxy
