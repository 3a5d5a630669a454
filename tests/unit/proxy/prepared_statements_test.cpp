#include "proxy/prepared_statements.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace switchyard::proxy {
namespace {

// A script of registry operations, then which names are found afterwards and with what text.
struct Case {
  const char* name;
  // "record NAME SQL", "erase NAME"; "-" is the unnamed. A Parse or Close sent and answered
  // later: "parse NAME SQL", "close NAME", "settle done|refused". A DEALLOCATE or DISCARD ALL
  // sent and answered later: "deallocate NAME|all", "answered ran|not". "sees NAME SQL|none":
  // what a message sent at that point finds under the name.
  std::vector<std::string> ops;
  std::vector<std::pair<std::string, std::string>> found;  // name -> sql
  std::vector<std::string> missing;
  bool empty;
};

// Names the case in test listings; gtest's default prints the struct's bytes, pointers and all.
void PrintTo(const Case& c, std::ostream* out) { *out << c.name; }

std::string name_of(const std::string& token) { return token == "-" ? "" : token; }

void run(PreparedStatements& registry, const std::string& op) {
  auto first = op.find(' ');
  std::string verb = op.substr(0, first);
  if (verb == "settle") {
    registry.settle(op.substr(first + 1) == "done");
    return;
  }
  if (verb == "answered") {
    registry.deallocation_answered(op.substr(first + 1) == "ran");
    return;
  }
  if (verb == "deallocate") {
    const std::string name = op.substr(first + 1);
    registry.deallocation_sent(name == "all" ? "" : name);
    return;
  }
  auto second = op.find(' ', first + 1);
  std::string name = name_of(op.substr(first + 1, second - first - 1));
  std::string rest = second == std::string::npos ? "" : op.substr(second + 1);
  if (verb == "record") {
    registry.record(name).sql = rest;
  } else if (verb == "parse") {
    registry.parse_sent(name).sql = rest;
  } else if (verb == "close") {
    registry.close_sent(name);
  } else if (verb == "sees") {
    const PreparedStatement* found = registry.find(name);
    EXPECT_EQ(found ? found->sql : "none", rest) << op;
  } else {
    registry.erase(name);
  }
}

const Case kCases[] = {
    {"NothingRecorded", {}, {}, {"-", "a"}, true},
    {"UnnamedIsFoundByTheEmptyName", {"record - SELECT 1"}, {{"-", "SELECT 1"}}, {"a"}, false},
    {"NamedIsFoundByItsName", {"record a SELECT 2"}, {{"a", "SELECT 2"}}, {"-", "b"}, false},
    {"ParsingAgainReplacesTheText",
     {"record - SELECT 1", "record - SELECT 3", "record a x", "record a y"},
     {{"-", "SELECT 3"}, {"a", "y"}},
     {},
     false},
    {"ClosingTheUnnamedLeavesTheNamed",
     {"record - SELECT 1", "record a SELECT 2", "erase -"},
     {{"a", "SELECT 2"}},
     {"-"},
     false},
    {"ClosingANamedLeavesTheUnnamed",
     {"record - SELECT 1", "record a SELECT 2", "erase a"},
     {{"-", "SELECT 1"}},
     {"a"},
     false},
    {"ClosingWhatIsNotThereChangesNothing",
     {"record a q", "erase b", "erase -"},
     {{"a", "q"}},
     {"b"},
     false},
    {"DiscardAllForgetsBoth",
     {"record - SELECT 1", "record a SELECT 2", "deallocate all", "answered ran"},
     {},
     {"-", "a"},
     true},
    {"ADeallocationUnansweredIsNotEmpty", {"record a x", "deallocate a"}, {}, {"a"}, false},
    {"ADeallocationNotRunLeavesTheStatements",
     {"record a x", "record b y", "deallocate a", "sees a none", "sees b y", "deallocate all",
      "sees b none", "answered not", "sees a none", "answered not"},
     {{"a", "x"}, {"b", "y"}},
     {},
     false},
    {"ADeallocationNotRunHandsItsStatementsToALaterOne",
     {"record a x", "deallocate a", "deallocate all", "answered not", "sees a none",
      "answered ran"},
     {},
     {"a"},
     true},
    {"ALaterParseOfTheNameWinsOverWhatComesBack",
     {"record a x", "deallocate a", "parse a y", "settle done", "answered not"},
     {{"a", "y"}},
     {},
     false},
    {"AParseBeforeADeallocationNotRunIsKept",
     {"parse a x", "deallocate all", "sees a none", "settle done", "sees a none", "answered not"},
     {{"a", "x"}},
     {},
     false},
    {"AParseBeforeADeallocationThatRanIsGone",
     {"parse a x", "deallocate a", "settle done", "answered ran"},
     {},
     {"a"},
     true},
    {"ACloseBeforeADeallocationNotRunStillDrops",
     {"record a x", "record b y", "close a", "deallocate all", "settle done", "answered not"},
     {{"b", "y"}},
     {"a"},
     false},
    {"ADeallocationAnsweredBeforeAParseSentBeforeIt",
     {"parse a x", "deallocate a", "answered not", "sees a x", "settle done"},
     {{"a", "x"}},
     {},
     false},
    {"EmptyOnceEverythingIsClosed",
     {"record - s", "record a t", "erase -", "erase a"},
     {},
     {"-", "a"},
     true},
    {"AParseIsTheNamesOnceTheServerDidIt",
     {"parse a x", "sees a x", "settle done"},
     {{"a", "x"}},
     {},
     false},
    {"AParseTheServerRefusedLeavesNothing", {"parse a x", "settle refused"}, {}, {"a"}, true},
    {"AParseOfANameThereLeavesTheServersStatement",
     {"record a x", "parse a y", "sees a x", "settle refused"},
     {{"a", "x"}},
     {},
     false},
    {"ACloseAndParseSkippedLeaveTheStatement",
     {"record s x", "close s", "sees s none", "parse s y", "sees s y", "settle refused",
      "settle refused"},
     {{"s", "x"}},
     {},
     false},
    {"ACloseAndParseDoneReplaceIt",
     {"record s x", "close s", "parse s y", "settle done", "sees s y", "settle done"},
     {{"s", "y"}},
     {},
     false},
    {"AParseAfterItsOwnCloseIsExpectedToSucceed",
     {"parse s x", "close s", "parse s y", "sees s y", "settle done", "settle done", "settle done"},
     {{"s", "y"}},
     {},
     false},
    {"ACloseTheServerDidDropsTheName", {"record s x", "close s", "settle done"}, {}, {"s"}, true},
    {"ADeallocateAfterAParseOutlivesItsAnswer",
     {"parse a x", "parse b y", "deallocate a", "sees a none", "settle done", "settle done",
      "answered ran"},
     {{"b", "y"}},
     {"a"},
     false},
    {"DiscardAllForgetsWhatIsUnanswered",
     {"parse a x", "close b", "deallocate all", "settle done", "settle done", "answered ran"},
     {},
     {"a", "b"},
     true},
    {"UnansweredIsNotEmpty", {"parse a x"}, {}, {}, false},
};

class PreparedStatementsTest : public ::testing::TestWithParam<Case> {};

TEST_P(PreparedStatementsTest, FindsWhatTheScriptLeft) {
  const Case& c = GetParam();
  PreparedStatements registry;
  for (const auto& op : c.ops) {
    run(registry, op);
  }
  for (const auto& [token, sql] : c.found) {
    const PreparedStatement* found = registry.find(name_of(token));
    ASSERT_NE(found, nullptr) << token;
    EXPECT_EQ(found->sql, sql) << token;
  }
  for (const auto& token : c.missing) {
    EXPECT_EQ(registry.find(name_of(token)), nullptr) << token;
  }
  EXPECT_EQ(registry.empty(), c.empty);
}

INSTANTIATE_TEST_SUITE_P(Cases, PreparedStatementsTest, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(PreparedStatementsReuseTest, RecordingAgainKeepsTheEntryAndItsBuffers) {
  PreparedStatements registry;
  PreparedStatement& first = registry.record("");
  first.sql.assign(200, 'x');
  const char* buffer = first.sql.data();
  PreparedStatement& again = registry.record("");
  EXPECT_EQ(&again, &first);
  again.sql.assign("SELECT 1");
  EXPECT_EQ(again.sql.data(), buffer);  // assigned in place, no new allocation
}

}  // namespace
}  // namespace switchyard::proxy
