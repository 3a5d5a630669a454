#include "backfill/flag_watch.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

namespace switchyard::backfill {
namespace {

std::string config_text(const std::string& migration) {
  return "[listen]\naddress = \"127.0.0.1:6432\"\n[upstream]\naddress = \"127.0.0.1:5432\"\n"
         "user = \"switchyard\"\ndatabase = \"app\"\n" +
         (migration.empty() ? std::string()
                            : "[[migration]]\nname = \"m\"\ntable = \"public.t\"\n"
                              "old_column = \"a\"\nnew_column = \"b\"\n" +
                                  migration);
}

// The file as an operator edits it during one forward backfill: each save, and whether the walk
// must stop before its next batch ("" = it goes on).
TEST(FlagWatchTest, StopsWhenTheFlagsNoLongerAllowTheFill) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("flag_watch_" + std::to_string(std::random_device{}()) + ".toml");
  struct Save {
    const char* what;
    std::string text;
    const char* stop;
  };
  const Save saves[] = {
      {"dual writes", config_text("writes = \"both\"\n"), ""},
      {"reads flipped: a warning at start, no reason to stop",
       config_text("writes = \"both\"\nreads = \"new\"\n"), ""},
      {"half a file that does not parse", config_text("writes = \"bo"), ""},
      {"back to dual writes", config_text("writes = \"both\"\nreads = \"old\"\n"), ""},
      {"writes = new", config_text("writes = \"new\"\nreads = \"new\"\n"),
       "overwrite it with the old column's stale values"},
      {"step 2 undone", config_text("writes = \"old\"\n"), "apps write the old column alone"},
      {"back to dual writes", config_text("writes = \"both\"\n"), ""},
      {"a transform changed",
       config_text("writes = \"both\"\nto_new = \"{value} * 10\"\n"
                   "to_old = \"{value} / 10\"\n"),
       "columns or transforms changed"},
      {"the migration removed", config_text(""), "no longer declared"},
  };
  config::Migration started;
  started.name = "m";
  started.schema = "public";
  started.table = "t";
  started.old_column = "a";
  started.new_column = "b";
  FlagWatch watch(path, started, Direction::to_new);
  for (const auto& save : saves) {
    SCOPED_TRACE(save.what);
    std::ofstream(path, std::ios::trunc) << save.text;
    const auto stop = watch.check();
    EXPECT_EQ(stop.has_value(), *save.stop != '\0') << stop.value_or("");
    EXPECT_NE(stop.value_or("").find(save.stop), std::string::npos) << stop.value_or("");
    EXPECT_EQ(watch.check(), stop) << "an unchanged file gives the same answer";
  }
  std::ofstream(path, std::ios::trunc) << saves[0].text;
  EXPECT_EQ(watch.check(), std::nullopt) << "dual writes again";
  std::filesystem::remove(path);
  EXPECT_EQ(watch.check(), std::nullopt) << "a file gone for a moment (a rename) stops nothing";
}

}  // namespace
}  // namespace switchyard::backfill
