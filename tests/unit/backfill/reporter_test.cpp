#include "backfill/reporter.hpp"

#include <gtest/gtest.h>

namespace switchyard::backfill {
namespace {

TEST(ReporterTest, LogLineIsKeyValueWithQuotingWhereNeeded) {
  auto line = format_log_line("info", "backfill_done",
                              {{"migration", "m"}, {"error", "bad \"x\" here"}, {"empty", ""}});
  EXPECT_TRUE(line.starts_with("ts=")) << line;
  EXPECT_NE(line.find(" level=info event=backfill_done migration=m error=\"bad \\\"x\\\" here\" "
                      "empty=\"\""),
            std::string::npos)
      << line;
}

TEST(ReporterTest, Eta) {
  const std::pair<std::optional<double>, std::string> cases[] = {
      {std::nullopt, "?"}, {-1.0, "?"}, {0.0, "0:00"}, {65.4, "1:05"}, {3725.0, "1:02:05"},
  };
  for (const auto& [seconds, text] : cases) {
    EXPECT_EQ(format_eta(seconds), text);
  }
}

TEST(ReporterTest, IndentLinesIndentsEveryLineAfterTheFirst) {
  EXPECT_EQ(indent_lines("one\ntwo\nthree", 2), "one\n  two\n  three");
  EXPECT_EQ(indent_lines("one", 4), "one");
}

}  // namespace
}  // namespace switchyard::backfill
