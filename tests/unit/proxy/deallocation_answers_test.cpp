// DeallocationAnswers: which DEALLOCATE and DISCARD ALL statements sent the server ran.

#include "proxy/deallocation_answers.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchyard::proxy {
namespace {

struct AnswersCase {
  const char* name;
  // "sent N" (N answers owed before its request's), then what the server sends: "C TAG" (a
  // CommandComplete), "Z" (a ReadyForQuery), "skip N" (an error that skips N requests).
  std::vector<std::string> script;
  std::string outcomes;  // per statement sent, in order: 'r' ran, '-' not run
  bool waiting = false;  // statements still waiting at the end
};

TEST(DeallocationAnswersTest, TellsWhichStatementsRan) {
  const std::vector<AnswersCase> cases = {
      {"answered by its tag", {"sent 0", "C DEALLOCATE", "Z"}, "r"},
      {"DISCARD ALL and DEALLOCATE ALL",
       {"sent 0", "sent 0", "C DISCARD ALL", "C DEALLOCATE ALL", "Z"},
       "rr"},
      // SELECT 1/0; DEALLOCATE a: the error ends the text, the ReadyForQuery tells.
      {"skipped after an error", {"sent 0", "C SELECT 1", "Z"}, "-"},
      // BEGIN; DISCARD ALL: refused in a block, then nothing more runs.
      {"refused", {"sent 0", "C BEGIN", "Z"}, "-"},
      {"the first of two ran", {"sent 0", "sent 0", "C DEALLOCATE", "Z"}, "r-"},
      // [SELECT 1/0; Sync] [DEALLOCATE a] pipelined: the second request's tag is its own.
      {"a later request's", {"sent 1", "Z", "C DEALLOCATE", "Z"}, "r"},
      {"not answered yet", {"sent 1", "Z"}, "", true},
      // One the proxy did not follow (nothing was prepared) answers before a followed one of a
      // later request.
      {"an earlier request's tag is not its", {"sent 1", "C DEALLOCATE ALL", "Z", "Z"}, "-"},
      // [Bind; Execute (fails); Query DEALLOCATE a; Sync]: the Query is skipped, unanswered.
      {"in a Query skipped in a batch", {"sent 0", "skip 1", "Z"}, "-"},
      {"behind a skipped Query", {"sent 1", "skip 1", "C DEALLOCATE", "Z"}, "r"},
  };
  for (const AnswersCase& c : cases) {
    DeallocationAnswers answers;
    for (const std::string& op : c.script) {
      if (op.rfind("sent ", 0) == 0) {
        answers.sent(std::stoul(op.substr(5)));
      } else if (op.rfind("C ", 0) == 0) {
        answers.on_complete(op.substr(2));
      } else if (op == "Z") {
        answers.on_ready();
      } else {
        answers.on_skipped(std::stoul(op.substr(5)));
      }
    }
    std::string outcomes;
    while (answers.has_outcome()) {
      outcomes += answers.take_outcome() ? 'r' : '-';
    }
    EXPECT_EQ(outcomes, c.outcomes) << c.name;
    EXPECT_EQ(answers.waiting(), c.waiting) << c.name;
  }
}

}  // namespace
}  // namespace switchyard::proxy
