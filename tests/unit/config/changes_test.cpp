#include "config/changes.hpp"

#include <gtest/gtest.h>

#include "support.hpp"

namespace switchyard::config {
namespace {

using testing::describe;
using testing::kBase;
using testing::parse;

Config load(const std::string& text, testing::FakeEnvironment env = {}) {
  LoadResult result = parse(text, std::move(env));
  EXPECT_TRUE(result.ok()) << describe(result);
  return result.config.value_or(Config{});
}

TEST(ConfigChangesTest, NothingChangedIsEmpty) {
  const Config config = load(testing::with_migration());
  EXPECT_TRUE(describe_changes(config, config).empty());
}

TEST(ConfigChangesTest, FlipsAndAdditionsReadAsOneLineEach) {
  const Config before = load(testing::with_migration("writes = \"old\"\n"));
  const Config after = load(std::string(kBase) +
                            "tls = \"require\"\n[admin]\n[timeouts]\n"
                            "drain = \"5s\"\n[[migration]]\n" +
                            std::string(testing::kRequiredMigrationKeys) +
                            "writes = \"both\"\n[[migration]]\nname = \"m2\"\n"
                            "table = \"public.orders\"\nold_column = \"a\"\nnew_column = \"b\"\n");
  const std::vector<std::string> expected{
      "upstream.tls: \"prefer\" -> \"require\"",
      "[admin] added",
      "timeouts.drain: \"30s\" -> \"5s\"",
      "migration \"m\": writes: \"old\" -> \"both\"",
      "migration \"m2\" added",
  };
  EXPECT_EQ(describe_changes(before, after), expected);
}

TEST(ConfigChangesTest, RuntimeSchedulingReadsAsOneLine) {
  const Config before = load(testing::with_migration());
  const Config after =
      load(std::string(kBase) + "[runtime]\nscheduling = \"normal\"\n[[migration]]\n" +
           std::string(testing::kRequiredMigrationKeys));
  const std::vector<std::string> expected{"runtime.scheduling: \"batch\" -> \"normal\""};
  EXPECT_EQ(describe_changes(before, after), expected);
}

TEST(ConfigChangesTest, RemovedMigrationAndPasswordWithoutItsValue) {
  const Config before = load(testing::with_migration(""), {});
  const Config after = load(std::string(kBase) + "password_env = \"PW\"\n", {{"PW", "s3cret!"}});
  const std::vector<std::string> expected{
      "upstream.password_env: (unset) -> \"PW\"",
      "upstream.password changed",
      "migration \"m\" removed",
  };
  const auto changes = describe_changes(before, after);
  EXPECT_EQ(changes, expected);
  for (const std::string& change : changes) {
    EXPECT_EQ(change.find("s3cret!"), std::string::npos);
  }
}

}  // namespace
}  // namespace switchyard::config
