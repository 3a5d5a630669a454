#include "backfill/options.hpp"

#include <gtest/gtest.h>

namespace switchyard::backfill {
namespace {

using Args = std::vector<std::string>;

Options parsed(const Args& args) {
  auto result = parse_options(args);
  if (auto* error = std::get_if<std::string>(&result)) {
    ADD_FAILURE() << *error;
    return {};
  }
  return std::get<Options>(result);
}

std::string error_of(const Args& args) {
  auto result = parse_options(args);
  if (auto* error = std::get_if<std::string>(&result)) {
    return *error;
  }
  return "<parsed>";
}

TEST(OptionsTest, BackfillDefaults) {
  auto o = parsed({"backfill", "--config", "c.toml", "--migration", "m"});
  EXPECT_EQ(o.command, "backfill");
  EXPECT_EQ(o.config_path, "c.toml");
  EXPECT_EQ(o.migration, "m");
  EXPECT_EQ(o.batch_size, 1000);
  EXPECT_FALSE(o.max_rate);
  EXPECT_EQ(o.sleep.count(), 0);
  EXPECT_FALSE(o.dry_run);
  EXPECT_EQ(o.lock_timeout.count(), 1000);
  EXPECT_EQ(o.statement_timeout.count(), 30000);
}

TEST(OptionsTest, BackfillOptionsBothSpellings) {
  auto o = parsed({"backfill", "--config=c.toml", "--migration", "m", "--batch-size=500",
                   "--max-rate", "2000", "--sleep", "50ms", "--dry-run", "--lock-timeout=2s",
                   "--restart", "--key-index", "idx", "--progress", "log", "--max-lag", "0s"});
  EXPECT_EQ(o.batch_size, 500);
  EXPECT_EQ(*o.max_rate, 2000.0);
  EXPECT_EQ(o.sleep.count(), 50);
  EXPECT_TRUE(o.dry_run);
  EXPECT_TRUE(o.restart);
  EXPECT_EQ(o.lock_timeout.count(), 2000);
  EXPECT_EQ(o.key_index, "idx");
  EXPECT_EQ(o.progress, ProgressStyle::log);
  EXPECT_EQ(o.max_lag.count(), 0);
  EXPECT_FALSE(o.fill.has_value());
  EXPECT_EQ(parsed({"backfill", "--config", "c", "--migration", "m", "--direction", "to-old"}).fill,
            Direction::to_old);
}

TEST(OptionsTest, VerifyOptions) {
  auto o = parsed({"verify", "--config", "c", "--migration", "m", "--direction", "to-old",
                   "--samples", "0", "--chunk-size", "20"});
  EXPECT_EQ(o.direction, Direction::to_old);
  EXPECT_EQ(o.samples, 0);
  EXPECT_EQ(o.chunk_size, 20);
}

TEST(OptionsTest, StatusNeedsNoMigration) {
  auto o = parsed({"status", "--config", "c"});
  EXPECT_TRUE(o.migration.empty());
}

TEST(OptionsTest, HelpNeedsNothingElse) { EXPECT_TRUE(parsed({"verify", "--help"}).help); }

TEST(OptionsTest, Errors) {
  const std::pair<Args, std::string> cases[] = {
      {{"backfill", "--migration", "m"}, "--config FILE is required"},
      {{"backfill", "--config", "c"}, "--migration NAME is required"},
      {{"verify", "--config", "c", "--migration", "m", "--batch-size", "5"},
       "unknown option \"--batch-size\" for verify"},
      {{"status", "--config", "c", "--dry-run"}, "unknown option \"--dry-run\" for status"},
      {{"backfill", "--config"}, "--config needs a value"},
      {{"backfill", "--config", "c", "--migration", "m", "--batch-size", "0"},
       "--batch-size: expects an integer >= 1, got \"0\""},
      {{"backfill", "--config", "c", "--migration", "m", "--batch-size", "12x"},
       "--batch-size: expects an integer >= 1"},
      {{"backfill", "--config", "c", "--migration", "m", "--sleep", "fast"}, "--sleep: "},
      {{"backfill", "--config", "c", "--migration", "m", "--dry-run=yes"},
       "--dry-run takes no value"},
      {{"verify", "--config", "c", "--migration", "m", "--direction", "up"},
       "expects both, to-new or to-old"},
      {{"backfill", "--config", "c", "--migration", "m", "--direction", "both"},
       "--direction: expects to-new or to-old, got \"both\""},
  };
  for (const auto& [args, expected] : cases) {
    auto error = error_of(args);
    EXPECT_NE(error.find(expected), std::string::npos) << error;
    EXPECT_NE(error.find("--help"), std::string::npos) << error;
  }
}

TEST(OptionsTest, HelpTextsNameTheirOptions) {
  EXPECT_NE(help_text("backfill").find("--max-rate"), std::string::npos);
  EXPECT_NE(help_text("backfill").find("--dry-run"), std::string::npos);
  EXPECT_NE(help_text("backfill").find("--direction to-new|to-old"), std::string::npos);
  EXPECT_NE(help_text("verify").find("--direction"), std::string::npos);
  EXPECT_NE(help_text("status").find("next safe step"), std::string::npos);
}

}  // namespace
}  // namespace switchyard::backfill
