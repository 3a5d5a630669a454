// SqlPreparedStatements: what the server may have under each name prepared in SQL.

#include "proxy/sql_prepared_statements.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "rewrite/result.hpp"

namespace switchyard::proxy {
namespace {

const std::string kPrepare = "PREPARE up AS UPDATE t SET o = $1";

// The client texts of the texts kept under `name` ("" for none known), in order.
std::vector<std::string> texts_of(SqlPreparedStatements& s, const std::string& name) {
  std::vector<std::string> out;
  if (auto* texts = s.find(name)) {
    for (const auto& t : *texts) {
      out.push_back(t.text);
    }
  }
  return out;
}

TEST(SqlPreparedStatementsTest, APrepareOfAKnownNameAddsATextUnlessItIsTheSame) {
  SqlPreparedStatements s;
  s.prepared("up", kPrepare, "sent-1", kPrepare, 1);
  EXPECT_FALSE(s.older_than("up", 1));
  EXPECT_TRUE(s.older_than("up", 2));
  s.prepared("up", kPrepare, "sent-1", kPrepare, 2);  // the same again: its epoch moves
  EXPECT_EQ(texts_of(s, "up"), std::vector<std::string>{kPrepare});
  EXPECT_FALSE(s.older_than("up", 2));
  s.prepared("up", kPrepare, "sent-2", kPrepare, 2);  // rewritten otherwise: 42P05 if it exists
  EXPECT_EQ(texts_of(s, "up"), (std::vector<std::string>{kPrepare, kPrepare}));
  ASSERT_NE(s.sole_prepare("up"), nullptr);  // one PREPARE statement: it may be prepared again
  EXPECT_EQ(*s.sole_prepare("up"), kPrepare);
  // Another statement under the name: which one the server has is not known.
  s.prepared("up", "DEALLOCATE x; PREPARE up AS SELECT 1", "s", "PREPARE up AS SELECT 1", 2);
  EXPECT_EQ(s.sole_prepare("up"), nullptr);
  EXPECT_EQ(s.sole_prepare("other"), nullptr);
}

TEST(SqlPreparedStatementsTest, PastTheLimitOnlyTheOldestGenerationIsKept) {
  SqlPreparedStatements s;
  for (std::uint64_t i = 0; i <= SqlPreparedStatements::kMaxTexts; ++i) {
    s.prepared("up", kPrepare + " -- " + std::to_string(i), "s", kPrepare, 3 + i);
  }
  ASSERT_EQ(s.find("up")->size(), 1u);
  EXPECT_TRUE(s.find("up")->front().text.empty());
  EXPECT_EQ(s.find("up")->front().epoch, 3u);
  s.prepared("up", kPrepare, "s", kPrepare, 20);  // none known: nothing is learnt
  EXPECT_EQ(s.find("up")->front().epoch, 3u);
  EXPECT_EQ(s.sole_prepare("up"), nullptr);
  EXPECT_TRUE(s.older_than("up", 20));
  s.deallocation_sent("up");  // DEALLOCATE: known again from the next PREPARE
  s.deallocation_answered(true);
  s.prepared("up", kPrepare, "s", kPrepare, 20);
  EXPECT_EQ(texts_of(s, "up"), std::vector<std::string>{kPrepare});
}

TEST(SqlPreparedStatementsTest, AReprepareReplacesTheTextsOnlyOnceAnswered) {
  SqlPreparedStatements s;
  s.prepared("up", "/* tag */ " + kPrepare, "old", kPrepare, 1);
  s.prepared("down", kPrepare, "old", kPrepare, 1);
  const std::uint32_t first = s.next_reprepare();
  EXPECT_NE(first, 0u);
  s.reprepare_sent("up", kPrepare, "new", 2, first);
  s.reprepare_sent("down", kPrepare, "new", 2, first);  // one text EXECUTEs both
  EXPECT_EQ(s.find("up")->size(), 2u);                  // until answered the server may have either
  EXPECT_TRUE(s.older_than("up", 2));
  s.reprepare_answered(first + 1);  // another's answer changes nothing
  EXPECT_EQ(s.find("up")->size(), 2u);
  s.reprepare_answered(first);
  for (const std::string name : {"up", "down"}) {
    SCOPED_TRACE(name);
    ASSERT_EQ(s.find(name)->size(), 1u);
    EXPECT_EQ(s.find(name)->front().sent, "new");
    EXPECT_EQ(s.find(name)->front().pending, 0u);
    EXPECT_FALSE(s.older_than(name, 2));
  }
  // A re-prepare that is never answered (an error in front): the older text stays, and the
  // next one takes the same entry.
  s.reprepare_sent("up", kPrepare, "newer", 3, s.next_reprepare());
  const std::uint32_t again = s.next_reprepare();
  s.reprepare_sent("up", kPrepare, "newer", 3, again);
  EXPECT_EQ(s.find("up")->size(), 2u);
  s.reprepare_answered(again);
  EXPECT_EQ(s.find("up")->front().sent, "newer");
}

TEST(SqlPreparedStatementsTest, AnsweredAfterTheNameWasDeallocated) {
  SqlPreparedStatements s;
  s.prepared("up", kPrepare, "old", kPrepare, 1);
  const std::uint32_t id = s.next_reprepare();
  s.reprepare_sent("up", kPrepare, "new", 2, id);
  s.deallocation_sent("up");
  s.prepared("up", "PREPARE up AS SELECT 2", "s", "PREPARE up AS SELECT 2", 2);
  s.reprepare_answered(id);  // the server ran the client's DEALLOCATE and PREPARE after it
  s.deallocation_answered(true);
  EXPECT_EQ(texts_of(s, "up"), std::vector<std::string>{"PREPARE up AS SELECT 2"});
  s.deallocation_sent("");  // DISCARD ALL
  EXPECT_FALSE(s.empty()) << "until the server answers it";
  s.deallocation_answered(true);
  EXPECT_TRUE(s.empty());
}

// A DEALLOCATE or DISCARD ALL the server skips after an error, or refuses, drops nothing: the
// texts it set aside come back, or go to a later deallocation that names them too.
TEST(SqlPreparedStatementsTest, ADeallocationNotRunLeavesTheTexts) {
  SqlPreparedStatements s;
  s.prepared("up", kPrepare, "old", kPrepare, 1);
  s.prepared("down", kPrepare, "old", kPrepare, 1);
  s.deallocation_sent("up");
  EXPECT_EQ(s.find("up"), nullptr) << "gone for the statements sent after it";
  // A PREPARE of the name sent behind it: the server may have either once it is refused.
  s.prepared("up", "PREPARE up AS SELECT 2", "s", "PREPARE up AS SELECT 2", 2);
  s.deallocation_answered(false);
  EXPECT_EQ(texts_of(s, "up"), (std::vector<std::string>{"PREPARE up AS SELECT 2", kPrepare}));
  EXPECT_TRUE(s.older_than("up", 2));

  s.deallocation_sent("down");
  s.deallocation_sent("");
  s.deallocation_answered(false);
  EXPECT_EQ(s.find("down"), nullptr) << "the DISCARD ALL behind it still drops it";
  s.deallocation_answered(false);
  EXPECT_EQ(texts_of(s, "down"), std::vector<std::string>{kPrepare});
  EXPECT_EQ(texts_of(s, "up").size(), 2u);

  // Past the limit only the oldest epoch is known: that stands for the texts it meets.
  for (std::uint64_t i = 0; i <= SqlPreparedStatements::kMaxTexts; ++i) {
    s.prepared("many", kPrepare + " -- " + std::to_string(i), "s", kPrepare, 5 + i);
  }
  s.deallocation_sent("many");
  s.prepared("many", kPrepare, "s", kPrepare, 4);
  s.deallocation_answered(false);
  ASSERT_EQ(s.find("many")->size(), 1u);
  EXPECT_TRUE(s.find("many")->front().text.empty());
  EXPECT_EQ(s.find("many")->front().epoch, 4u);
}

// Hunt h5-10: a statement prepared again after a flip back counts each EXECUTE as its text
// does now (unchanged: no uses kept), not as the rewrite it was prepared under.
TEST(SqlPreparedStatementsTest, APrepareSentAgainCountsAsItsTextDoesNow) {
  auto result = [](rewrite::Outcome outcome) {
    auto made = std::make_shared<rewrite::RewriteResult>();
    made->outcome = outcome;
    return std::shared_ptr<const rewrite::RewriteResult>(std::move(made));
  };
  const auto rewritten = result(rewrite::Outcome::rewritten);
  const auto unchanged = result(rewrite::Outcome::unchanged);
  const struct {
    std::string sent;  // "old": the text prepared first, prepared again unchanged
    std::shared_ptr<const rewrite::RewriteResult> uses;
  } cases[] = {{"new", unchanged}, {"old", unchanged}, {"new", nullptr}, {"old", nullptr}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.sent);
    SqlPreparedStatements s;
    s.prepared("up", kPrepare, "old", kPrepare, 1, rewritten);
    const std::uint32_t id = s.next_reprepare();
    s.reprepare_sent("up", kPrepare, c.sent, 2, id, c.uses);
    s.reprepare_answered(id);
    ASSERT_EQ(s.find("up")->size(), 1u);
    EXPECT_EQ(s.find("up")->back().uses, c.uses);
  }
}

}  // namespace
}  // namespace switchyard::proxy
