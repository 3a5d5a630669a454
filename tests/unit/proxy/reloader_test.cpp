#include "proxy/reloader.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "offline_build.hpp"
#include "proxy/snapshot_builder.hpp"
#include "temp_dir.hpp"

namespace switchyard::proxy {
namespace {

using testing::build_offline;

using testing::eventually;
using testing::TempDir;
using testing::write_file;

const std::string kBase = R"([listen]
address = "127.0.0.1:0"

[upstream]
address = "127.0.0.1:1"
tls = "disable"
)";

std::string with_migration(std::string_view writes, std::string_view reads) {
  return kBase + R"(user = "switchyard"
database = "app"

[[migration]]
name = "users-status"
table = "public.users"
old_column = "status"
new_column = "state"
writes = ")" +
         std::string(writes) + "\"\nreads = \"" + std::string(reads) + "\"\n";
}

// A build whose first call waits until released, so that requests arrive while a reload runs.
struct FirstBuildBlocks {
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  int calls = 0;

  Reloader::Build build() {
    return [this](config::Config config, std::uint64_t generation) {
      if (calls++ == 0) {
        entered.set_value();
        released.wait();
      }
      return build_offline(std::move(config), generation);
    };
  }
};

class ReloaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_ / "switchyard.toml";
    write_file(path_, with_migration("old", "old"));
    auto loaded = config::load_config(path_);
    ASSERT_TRUE(loaded.ok());
    auto built = build_offline(std::move(*loaded.config), 1);
    state_->publish(std::get<std::shared_ptr<const Snapshot>>(built));
  }

  const config::Migration& running_migration() const {
    return state_->snapshot()->config->migrations.at(0);
  }

  TempDir dir_;
  std::filesystem::path path_;
  std::shared_ptr<ProxyState> state_ = std::make_shared<ProxyState>();
};

TEST_F(ReloaderTest, ValidFilePublishesNextGeneration) {
  Reloader reloader(path_, state_, build_offline);
  write_file(path_, with_migration("both", "old"));
  auto status = reloader.reload("test");
  EXPECT_EQ(status.result, ReloadStatus::Result::ok);
  EXPECT_EQ(status.generation, 2u);
  EXPECT_EQ(status.trigger, "test");
  EXPECT_TRUE(status.errors.empty());
  ASSERT_EQ(status.changes.size(), 1u);
  EXPECT_NE(status.changes[0].find("writes"), std::string::npos) << status.changes[0];
  EXPECT_EQ(state_->snapshot()->generation, 2u);
  EXPECT_EQ(running_migration().writes, config::Writes::both);
  EXPECT_EQ(state_->metrics.shared().config_generation.load(), 2u);
  EXPECT_EQ(state_->metrics.shared().reloads_ok.load(), 1u);
  EXPECT_EQ(reloader.last().result, ReloadStatus::Result::ok);
  EXPECT_EQ(reloader.last().last_success, status.time);
}

TEST_F(ReloaderTest, UnchangedFileStillBumpsGeneration) {
  // Each good reload is a new generation: an operator's SIGHUP is visible on /metrics.
  Reloader reloader(path_, state_, build_offline);
  EXPECT_EQ(reloader.reload("SIGHUP").generation, 2u);
  EXPECT_EQ(reloader.reload("SIGHUP").generation, 3u);
  EXPECT_TRUE(reloader.last().changes.empty());
}

TEST_F(ReloaderTest, InvalidFileKeepsRunningConfigAndNamesLineAndKey) {
  Reloader reloader(path_, state_, build_offline);
  write_file(path_, with_migration("sideways", "old"));
  auto status = reloader.reload("test");
  EXPECT_EQ(status.result, ReloadStatus::Result::failed);
  EXPECT_EQ(status.generation, 1u);
  ASSERT_FALSE(status.errors.empty());
  const auto& error = status.errors.front();
  EXPECT_NE(error.find(path_.string() + ":15:"), std::string::npos) << error;
  EXPECT_NE(error.find("migration[0].writes"), std::string::npos) << error;
  EXPECT_EQ(state_->snapshot()->generation, 1u);
  EXPECT_EQ(running_migration().writes, config::Writes::old_column);
  EXPECT_EQ(state_->metrics.shared().reloads_failed.load(), 1u);
  EXPECT_EQ(state_->metrics.shared().reloads_ok.load(), 0u);
  EXPECT_EQ(state_->metrics.shared().config_generation.load(), 1u);
}

TEST_F(ReloaderTest, InvalidFlagCombinationIsRejected) {
  Reloader reloader(path_, state_, build_offline);
  write_file(path_, with_migration("new", "old"));
  auto status = reloader.reload("test");
  EXPECT_EQ(status.result, ReloadStatus::Result::failed);
  EXPECT_EQ(state_->snapshot()->generation, 1u);
}

TEST_F(ReloaderTest, MissingFileKeepsRunningConfig) {
  Reloader reloader(path_, state_, build_offline);
  std::filesystem::remove(path_);
  auto status = reloader.reload("test");
  EXPECT_EQ(status.result, ReloadStatus::Result::failed);
  ASSERT_EQ(status.errors.size(), 1u);
  EXPECT_NE(status.errors[0].find(path_.string()), std::string::npos);
  EXPECT_EQ(state_->snapshot()->generation, 1u);
}

TEST_F(ReloaderTest, FailureAfterSuccessKeepsLastSuccessTime) {
  Reloader reloader(path_, state_, build_offline);
  auto ok = reloader.reload("first");
  write_file(path_, "not toml [");
  auto failed = reloader.reload("second");
  EXPECT_EQ(failed.result, ReloadStatus::Result::failed);
  EXPECT_EQ(failed.generation, 2u);
  EXPECT_EQ(failed.last_success, ok.time);
}

TEST_F(ReloaderTest, SnapshotBuildErrorsKeepRunningConfig) {
  // The build's errors name the file themselves (build_snapshot's do, with line and key).
  const std::string error =
      path_.string() + ":14:14: migration[0].new_column: new column \"state\" is missing";
  Reloader reloader(path_, state_, [&](config::Config, std::uint64_t) -> Reloader::BuildResult {
    return std::vector<std::string>{error};
  });
  write_file(path_, with_migration("both", "old"));
  auto status = reloader.reload("test");
  EXPECT_EQ(status.result, ReloadStatus::Result::failed);
  EXPECT_EQ(status.errors, std::vector<std::string>{error});
  EXPECT_EQ(running_migration().writes, config::Writes::old_column);
}

TEST_F(ReloaderTest, BuildErrorsNameTheLineAndKeyAsTheLoadersOwnDo) {
  // Neither is wrong to the loader (the files exist, to_new holds {value}); the build finds
  // them wrong, and says where, as for a misspelt key: FILE:LINE:COL: KEY: ...
  write_file(dir_ / "server.crt", "not a certificate\n");
  write_file(dir_ / "server.key", "not a key\n");
  write_file(path_, with_migration("both", "old") +
                        "to_new = \"{value} +\"\nto_old = \"{value}\"\n\n"
                        "[tls]\ncert = \"server.crt\"\nkey = \"server.key\"\n");
  Reloader reloader(path_, state_, build_offline);
  auto status = reloader.reload("test");
  EXPECT_EQ(status.result, ReloadStatus::Result::failed);
  ASSERT_EQ(status.errors.size(), 2u);
  const std::string file = path_.string();
  EXPECT_EQ(status.errors[0].rfind(file + ":21:8: tls.cert: cannot load TLS certificate " +
                                       (dir_ / "server.crt").string() + ": ",
                                   0),
            0u)
      << status.errors[0];
  EXPECT_EQ(
      status.errors[1].rfind(file + ":17:10: migration[0].to_new: migration \"users-status\": ", 0),
      0u)
      << status.errors[1];
  EXPECT_EQ(running_migration().writes, config::Writes::old_column);
}

// A build that cannot reach the catalog while `down` is set, as during a database restart.
struct FlakyCatalog {
  std::atomic<bool> down{true};
  std::atomic<int> calls{0};
  Reloader::Build build() {
    return [this](config::Config config, std::uint64_t generation) -> Reloader::BuildResult {
      ++calls;
      if (down) {
        return Reloader::Unreachable{{"connection refused"}};
      }
      return build_offline(std::move(config), generation);
    };
  }
};

TEST_F(ReloaderTest, UnreachableCatalogIsTriedAgainWithoutAnotherSave) {
  FlakyCatalog catalog;
  Reloader reloader(path_, state_, catalog.build(), std::nullopt, std::chrono::milliseconds(20));
  write_file(path_, with_migration("both", "old"));
  reloader.wait_served(reloader.request(std::string(kFileChangeTrigger)), std::chrono::seconds(5));
  const auto failed = reloader.last();
  EXPECT_EQ(failed.result, ReloadStatus::Result::failed);
  EXPECT_NE(failed.retry_at, std::chrono::system_clock::time_point{});
  catalog.down = false;
  ASSERT_TRUE(eventually([&] { return state_->snapshot()->generation == 2; }));
  EXPECT_EQ(running_migration().writes, config::Writes::both);
  ASSERT_TRUE(eventually([&] { return reloader.last().result == ReloadStatus::Result::ok; }));
  EXPECT_EQ(reloader.last().trigger, kRetryTrigger);
  EXPECT_EQ(reloader.last().retry_at, std::chrono::system_clock::time_point{});
  // Nothing pending any more: no further reloads.
  const int calls = catalog.calls;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(catalog.calls, calls);
}

TEST_F(ReloaderTest, RetryWaitsForTheCatalogCheckWhenItRecoversFirst) {
  FlakyCatalog catalog;
  Reloader reloader(path_, state_, catalog.build(), std::nullopt, std::chrono::hours(1));
  state_->set_rebuilder(&reloader);
  write_file(path_, with_migration("both", "old"));
  reloader.wait_served(reloader.request("SIGHUP"), std::chrono::seconds(5));
  EXPECT_EQ(reloader.last().result, ReloadStatus::Result::failed);
  catalog.down = false;
  state_->catalog_recovered();
  ASSERT_TRUE(eventually([&] { return state_->snapshot()->generation == 2; }));
  reloader.stop();
  state_->set_rebuilder(nullptr);
}

TEST_F(ReloaderTest, AMissingDatabaseIsTriedAgainOnlyAtTheSlowPace) {
  std::atomic<int> calls{0};
  Reloader reloader(
      path_, state_,
      [&](config::Config, std::uint64_t) -> Reloader::BuildResult {
        ++calls;
        return Reloader::Unreachable{{"database \"nope\" does not exist"}, true};
      },
      std::nullopt, std::chrono::milliseconds(1));
  write_file(path_, with_migration("both", "old"));
  reloader.wait_served(reloader.request("SIGHUP"), std::chrono::seconds(5));
  const auto failed = reloader.last();
  EXPECT_EQ(failed.result, ReloadStatus::Result::failed);
  EXPECT_EQ(failed.retry_at - failed.time, Reloader::kMissingDatabaseRetry);
  // An unreachable catalog with this first retry would have been tried many times by now.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(reloader.completed(), 1u);
}

TEST_F(ReloaderTest, FileErrorsAreNotTriedAgain) {
  FlakyCatalog catalog;
  catalog.down = false;
  Reloader reloader(path_, state_, catalog.build(), std::nullopt, std::chrono::milliseconds(1));
  write_file(path_, with_migration("sideways", "old"));
  reloader.wait_served(reloader.request(std::string(kFileChangeTrigger)), std::chrono::seconds(5));
  EXPECT_EQ(reloader.last().result, ReloadStatus::Result::failed);
  EXPECT_EQ(reloader.last().retry_at, std::chrono::system_clock::time_point{});
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(reloader.completed(), 1u);
  state_->catalog_recovered();  // no reloader set: nothing to do
}

struct RecordingParticipant : ReloadParticipant {
  std::vector<std::string> veto;
  int prepared = 0;
  std::vector<bool> finished;
  std::uint64_t seen_generation_at_prepare = 0;
  std::shared_ptr<ProxyState> state;

  std::vector<std::string> prepare(const Snapshot&, const Snapshot& next) override {
    ++prepared;
    seen_generation_at_prepare = state->snapshot()->generation;
    EXPECT_EQ(next.generation, seen_generation_at_prepare + 1);
    return veto;
  }
  void finish(const Snapshot&, const Snapshot&, bool committed) override {
    finished.push_back(committed);
  }
};

TEST_F(ReloaderTest, ParticipantPreparesBeforePublishAndFinishesAfter) {
  RecordingParticipant participant;
  participant.state = state_;
  Reloader reloader(path_, state_, build_offline);
  reloader.set_participant(&participant);
  EXPECT_EQ(reloader.reload("test").result, ReloadStatus::Result::ok);
  EXPECT_EQ(participant.prepared, 1);
  EXPECT_EQ(participant.seen_generation_at_prepare, 1u);
  EXPECT_EQ(participant.finished, std::vector<bool>{true});
}

TEST_F(ReloaderTest, ParticipantVetoKeepsRunningConfig) {
  RecordingParticipant participant;
  participant.state = state_;
  participant.veto = {"[listen] address: cannot listen on 10.255.255.1:6432"};
  Reloader reloader(path_, state_, build_offline);
  reloader.set_participant(&participant);
  write_file(path_, with_migration("both", "old"));
  auto status = reloader.reload("test");
  EXPECT_EQ(status.result, ReloadStatus::Result::failed);
  EXPECT_EQ(participant.finished, std::vector<bool>{false});
  EXPECT_EQ(state_->snapshot()->generation, 1u);
  EXPECT_EQ(running_migration().writes, config::Writes::old_column);
  ASSERT_EQ(status.errors.size(), 1u);
  EXPECT_NE(status.errors[0].find("[listen] address"), std::string::npos);
}

TEST_F(ReloaderTest, RequestReloadsOnItsOwnThread) {
  Reloader reloader(path_, state_, build_offline);
  write_file(path_, with_migration("both", "old"));
  reloader.request("SIGHUP");
  ASSERT_TRUE(eventually([&] { return reloader.completed() == 1; }));
  EXPECT_EQ(reloader.last().trigger, "SIGHUP");
  EXPECT_EQ(state_->snapshot()->generation, 2u);
}

TEST_F(ReloaderTest, RequestsDuringAReloadMergeIntoOne) {
  FirstBuildBlocks blocks;
  Reloader reloader(path_, state_, blocks.build());
  reloader.request("one");
  blocks.entered.get_future().wait();
  reloader.request("two");
  reloader.request("three");
  reloader.request("two");
  blocks.release.set_value();
  ASSERT_TRUE(eventually([&] { return reloader.completed() == 2; }));
  EXPECT_EQ(reloader.last().trigger, "two+three");
  EXPECT_EQ(state_->snapshot()->generation, 3u);
}

// A session that asked for a rebuild waits for one that began after its request: not for the
// reload already running when it asked, which may have read the catalog before the change.
TEST_F(ReloaderTest, AWaitForATicketEndsWithAReloadBegunAfterTheRequest) {
  FirstBuildBlocks blocks;
  Reloader reloader(path_, state_, blocks.build());
  const std::uint64_t first = reloader.request("SIGHUP");
  blocks.entered.get_future().wait();
  const std::uint64_t second = reloader.request("partition change");
  EXPECT_GT(second, first);
  // The reload in progress cannot serve the second ticket.
  EXPECT_FALSE(reloader.wait_served(second, std::chrono::milliseconds(50)));
  blocks.release.set_value();
  EXPECT_TRUE(reloader.wait_served(second, std::chrono::seconds(10)));
  EXPECT_EQ(reloader.completed(), 2u);
  EXPECT_EQ(reloader.last().trigger, "partition change");
  EXPECT_TRUE(reloader.wait_served(first, std::chrono::milliseconds(0)));
  // Once stopped: no ticket, and a wait returns at once.
  reloader.stop();
  EXPECT_EQ(reloader.request("partition change"), 0u);
  EXPECT_FALSE(reloader.wait_served(second + 1, std::chrono::seconds(10)));
}

TEST_F(ReloaderTest, AFileEventForAnUnchangedFileIsSkippedButASignalIsNot) {
  Reloader reloader(path_, state_, build_offline);
  write_file(path_, with_migration("both", "old"));
  EXPECT_EQ(reloader.reload("SIGHUP").generation, 2u);
  // The watch's event for the same save: nothing new to read, nothing logged twice.
  reloader.reload(kFileChangeTrigger);
  EXPECT_EQ(reloader.last().trigger, "SIGHUP");
  EXPECT_EQ(state_->snapshot()->generation, 2u);
  EXPECT_EQ(reloader.reload("SIGHUP").generation, 3u);
  write_file(path_, with_migration("both", "new"));
  EXPECT_EQ(reloader.reload(kFileChangeTrigger).generation, 4u);
}

TEST_F(ReloaderTest, AFileEventCountsAsUnchangedOnlyAgainstWhatWasLoaded) {
  // A flip and a flip back within one burst of events: whatever the watch saw in between,
  // the file's bytes are compared with the ones the last reload loaded.
  Reloader reloader(path_, state_, build_offline, with_migration("old", "old"));
  EXPECT_EQ(reloader.reload(kFileChangeTrigger).generation, 1u);  // what start-up loaded
  write_file(path_, with_migration("both", "old"));
  EXPECT_EQ(reloader.reload(kFileChangeTrigger).generation, 2u);
  write_file(path_, with_migration("both", "new"));
  EXPECT_EQ(reloader.reload(kFileChangeTrigger).generation, 3u);
  write_file(path_, with_migration("both", "old"));
  EXPECT_EQ(reloader.reload(kFileChangeTrigger).generation, 4u);
  EXPECT_EQ(running_migration().reads, config::Reads::old_column);
}

TEST_F(ReloaderTest, AnUnreadableFileIsRefusedAndReadAgainOnTheNextEvent) {
  Reloader reloader(path_, state_, build_offline);
  std::filesystem::remove(path_);
  EXPECT_EQ(reloader.reload(kFileChangeTrigger).result, ReloadStatus::Result::failed);
  write_file(path_, with_migration("both", "old"));
  EXPECT_EQ(reloader.reload(kFileChangeTrigger).generation, 2u);
}

TEST_F(ReloaderTest, StopIsIdempotentAndRequestsAfterStopAreIgnored) {
  Reloader reloader(path_, state_, build_offline);
  reloader.stop();
  reloader.request("late");
  reloader.stop();
  EXPECT_EQ(reloader.completed(), 0u);
  EXPECT_EQ(state_->snapshot()->generation, 1u);
}

}  // namespace
}  // namespace switchyard::proxy

namespace switchyard::proxy {
namespace {

config::Migration migration(std::string name, config::Writes writes, config::Reads reads) {
  config::Migration m;
  m.name = std::move(name);
  m.writes = writes;
  m.reads = reads;
  return m;
}

TEST(ActiveMigrationsRemovedTest, OnlyRemovedMigrationsThatUsedTheNewColumn) {
  using config::Reads;
  using config::Writes;
  struct Case {
    std::vector<config::Migration> before;
    std::vector<std::string> after;  // names kept
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      {{migration("m", Writes::both, Reads::old_column)}, {}, {"m"}},
      {{migration("m", Writes::both, Reads::new_column)}, {}, {"m"}},
      {{migration("m", Writes::new_column, Reads::new_column)}, {}, {"m"}},
      {{migration("m", Writes::old_column, Reads::old_column)}, {}, {}},
      {{migration("m", Writes::both, Reads::new_column)}, {"m"}, {}},
      {{migration("a", Writes::both, Reads::old_column),
        migration("b", Writes::both, Reads::new_column)},
       {"a"},
       {"b"}},
  };
  for (const auto& c : cases) {
    config::Config before;
    before.migrations = c.before;
    config::Config after;
    for (const auto& name : c.after) {
      after.migrations.push_back(migration(name, config::Writes::both, config::Reads::old_column));
    }
    EXPECT_EQ(active_migrations_removed(before, after), c.expected)
        << c.before.size() << " before, " << c.after.size() << " kept";
  }
}

TEST(StaleOldColumnReadsTest, ReadsOldStraightAfterWritesNewIsRefused) {
  using config::Reads;
  using config::Writes;
  struct Case {
    config::Migration before;
    config::Migration after;
    bool refused;
  };
  const std::vector<Case> cases = {
      {migration("m", Writes::new_column, Reads::new_column),
       migration("m", Writes::both, Reads::old_column), true},
      {migration("m", Writes::new_column, Reads::new_column),
       migration("m", Writes::old_column, Reads::old_column), true},
      {migration("m", Writes::new_column, Reads::new_column),
       migration("m", Writes::both, Reads::new_column), false},  // the runbook's way back
      {migration("m", Writes::both, Reads::new_column),
       migration("m", Writes::both, Reads::old_column), false},  // step 5 undone
      {migration("m", Writes::new_column, Reads::new_column),
       migration("other", Writes::both, Reads::old_column), false},  // another migration
  };
  for (const auto& c : cases) {
    config::Config before;
    before.migrations = {c.before};
    config::Config after;
    after.migrations = {c.after};
    const auto errors = stale_old_column_reads(before, after);
    EXPECT_EQ(errors.size(), c.refused ? 1u : 0u) << c.after.name;
    if (c.refused && !errors.empty()) {
      EXPECT_NE(errors[0].find("--direction to-old"), std::string::npos) << errors[0];
    }
  }
}

TEST(OldColumnDroppedTest, OnlyWhenTheTableHasTheNewColumnAndNotTheOld) {
  struct Case {
    std::vector<std::string> columns;  // of public.users as the snapshot saw them
    bool table_seen;
    bool expected;
  };
  const std::vector<Case> cases = {
      {{"id", "state", "name"}, true, true},             // step 7 done: O dropped
      {{"id", "status", "name", "state"}, true, false},  // O still there
      {{"id", "name"}, true, false},                     // neither: not the runbook's end
      {{}, false, false},                                // the table not seen: warn as before
  };
  for (const auto& c : cases) {
    auto m = migration("ren", config::Writes::new_column, config::Reads::new_column);
    m.schema = "public";
    m.table = "users";
    m.old_column = "status";
    m.new_column = "state";
    auto config = std::make_shared<config::Config>();
    config->migrations.push_back(m);
    Snapshot snapshot;
    snapshot.config = config;
    DatabaseRewrite database;
    database.database = config->effective_database(m);
    if (c.table_seen) {
      RelationColumns users;
      users.name = {"public", "users"};
      users.columns = c.columns;
      database.mapped_relations.push_back(users);
    }
    snapshot.databases.push_back(std::move(database));
    EXPECT_EQ(old_column_dropped(snapshot, m), c.expected) << c.columns.size() << " columns";
  }
}

}  // namespace
}  // namespace switchyard::proxy
