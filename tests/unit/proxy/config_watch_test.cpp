#include "proxy/config_watch.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "offline_build.hpp"
#include "proxy/reloader.hpp"
#include "temp_dir.hpp"

namespace switchyard::proxy {
namespace {

namespace fs = std::filesystem;
using testing::eventually;
using testing::replace_file;
using testing::TempDir;
using testing::write_file;

constexpr ConfigWatch::Options kFast{std::chrono::milliseconds(20), std::chrono::milliseconds(500),
                                     std::chrono::milliseconds(1500)};

class ConfigWatchTest : public ::testing::Test {
 protected:
  std::unique_ptr<ConfigWatch> watch(const fs::path& path) {
    auto w = std::make_unique<ConfigWatch>(
        path, [this] { ++calls_; }, kFast);
    auto error = w->start();
    EXPECT_FALSE(error) << *error;
    return w;
  }

  TempDir dir_;
  std::atomic<int> calls_{0};
};

TEST_F(ConfigWatchTest, InPlaceWriteTriggers) {
  auto path = dir_ / "switchyard.toml";
  write_file(path, "a = 1\n");
  auto w = watch(path);
  write_file(path, "a = 2\n");
  ASSERT_TRUE(eventually([&] { return calls_ == 1; }));
  EXPECT_EQ(w->changes(), 1u);
}

// A tool that truncates, writes part, pauses with the file open, then writes the rest: the
// first half may lack a migration, and loading it would stop that migration's dual writes.
TEST_F(ConfigWatchTest, InPlaceWriterPausingWithTheFileOpenIsReadOnlyOnceClosed) {
  auto path = dir_ / "switchyard.toml";
  write_file(path, "a = 1\nb = 1\n");
  std::vector<std::string> seen;
  std::mutex seen_mutex;
  ConfigWatch w(
      path,
      [&] {
        std::ifstream in(path);
        std::lock_guard lock(seen_mutex);
        seen.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      },
      kFast);
  ASSERT_FALSE(w.start());
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << "a = 2\n" << std::flush;
    // Longer than both the debounce and max_delay, shorter than writer_wait.
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    EXPECT_EQ(w.checks(), 0u);
    out << "b = 2\n";
  }
  ASSERT_TRUE(eventually([&] { return w.checks() >= 1; }));
  std::lock_guard lock(seen_mutex);
  EXPECT_EQ(seen, std::vector<std::string>{"a = 2\nb = 2\n"});
}

TEST_F(ConfigWatchTest, WriterThatKeepsTheFileOpenIsReadAfterWriterWait) {
  auto path = dir_ / "switchyard.toml";
  write_file(path, "a = 1\n");
  auto w = watch(path);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  const auto written = std::chrono::steady_clock::now();
  out << "a = 2\n" << std::flush;
  ASSERT_TRUE(eventually([&] { return calls_ == 1; }));
  EXPECT_GE(std::chrono::steady_clock::now() - written, kFast.writer_wait);
}

TEST_F(ConfigWatchTest, CreatedFileIsReadOnceItsWriterClosesIt) {
  auto path = dir_ / "switchyard.toml";
  auto w = watch(path);
  {
    std::ofstream out(path, std::ios::binary);
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    EXPECT_EQ(w->checks(), 0u);
    out << "a = 1\n";
  }
  ASSERT_TRUE(eventually([&] { return calls_ == 1; }));
}

TEST_F(ConfigWatchTest, RenameOverTriggersAgainAndAgain) {
  // The watch is on the directory: the inode it started with is gone after the first rename.
  auto path = dir_ / "switchyard.toml";
  write_file(path, "a = 1\n");
  auto w = watch(path);
  replace_file(path, "a = 2\n");
  ASSERT_TRUE(eventually([&] { return calls_ == 1; }));
  replace_file(path, "a = 3\n");
  ASSERT_TRUE(eventually([&] { return calls_ == 2; }));
}

TEST_F(ConfigWatchTest, OtherFilesDoNotTriggerTheSameBytesDo) {
  // Whether the bytes changed is for the Reloader to say: it knows what it loaded.
  auto path = dir_ / "switchyard.toml";
  write_file(path, "a = 1\n");
  auto w = watch(path);
  write_file(dir_ / "unrelated.txt", "noise");
  replace_file(path, "a = 1\n");
  ASSERT_TRUE(eventually([&] { return w->checks() >= 1; }));
  EXPECT_EQ(calls_, 1);
}

TEST_F(ConfigWatchTest, DeletedTriggersOnceThenRecreatedTriggersAgain) {
  // The deletion reaches the reloader, which counts it as a failed reload, as a SIGHUP would.
  auto path = dir_ / "switchyard.toml";
  write_file(path, "a = 1\n");
  auto w = watch(path);
  fs::remove(path);
  ASSERT_TRUE(eventually([&] { return w->checks() >= 1; }));
  EXPECT_EQ(calls_, 1);
  // Another burst that leaves it missing is not another failure.
  write_file(path, "a = 2\n");
  fs::remove(path);
  ASSERT_TRUE(eventually([&] { return w->checks() >= 2; }));
  EXPECT_EQ(calls_, 1);
  write_file(path, "a = 2\n");
  ASSERT_TRUE(eventually([&] { return calls_ == 2; }));
}

// A Kubernetes ConfigMap volume: <dir>/switchyard.toml -> ..data/switchyard.toml, ..data ->
// ..<timestamp>; an update writes a new timestamped directory and renames a new ..data link over
// the old one.
class ConfigMapVolume {
 public:
  explicit ConfigMapVolume(const fs::path& dir) : dir_(dir) {
    publish("a = 1\n");
    fs::create_symlink("..data/switchyard.toml", dir_ / "switchyard.toml");
  }
  void publish(const std::string& content) {
    auto version = "..2024_01_01_00_00_0" + std::to_string(next_++);
    fs::create_directory(dir_ / version);
    write_file(dir_ / version / "switchyard.toml", content);
    fs::create_directory_symlink(version, dir_ / "..data_tmp");
    fs::rename(dir_ / "..data_tmp", dir_ / "..data");
    if (!current_.empty()) {
      fs::remove_all(dir_ / current_);
    }
    current_ = version;
  }
  fs::path path() const { return dir_ / "switchyard.toml"; }

 private:
  fs::path dir_;
  std::string current_;
  int next_ = 0;
};

TEST_F(ConfigWatchTest, ConfigMapSymlinkSwapTriggers) {
  ConfigMapVolume volume(dir_.path());
  auto w = watch(volume.path());
  volume.publish("a = 2\n");
  ASSERT_TRUE(eventually([&] { return calls_ == 1; }));
  volume.publish("a = 3\n");
  ASSERT_TRUE(eventually([&] { return calls_ == 2; }));
}

TEST_F(ConfigWatchTest, SymlinkIntoAnotherDirectoryFollowsTheTarget) {
  fs::create_directory(dir_ / "real");
  fs::create_directory(dir_ / "etc");
  write_file(dir_ / "real" / "switchyard.toml", "a = 1\n");
  fs::create_symlink(dir_ / "real" / "switchyard.toml", dir_ / "etc" / "switchyard.toml");
  auto w = watch(dir_ / "etc" / "switchyard.toml");
  write_file(dir_ / "real" / "switchyard.toml", "a = 2\n");
  ASSERT_TRUE(eventually([&] { return calls_ == 1; }));
  // Re-pointing the link is a change in the watched directory itself.
  write_file(dir_ / "real" / "other.toml", "a = 3\n");
  fs::create_symlink(dir_ / "real" / "other.toml", dir_ / "etc" / "link.tmp");
  fs::rename(dir_ / "etc" / "link.tmp", dir_ / "etc" / "switchyard.toml");
  ASSERT_TRUE(eventually([&] { return calls_ == 2; }));
  write_file(dir_ / "real" / "other.toml", "a = 4\n");
  ASSERT_TRUE(eventually([&] { return calls_ == 3; }));
}

TEST_F(ConfigWatchTest, SymlinkToAFileBesideItFollowsTheTarget) {
  write_file(dir_ / "real.toml", "a = 1\n");
  fs::create_symlink("real.toml", dir_ / "switchyard.toml");
  auto w = watch(dir_ / "switchyard.toml");
  write_file(dir_ / "real.toml", "a = 2\n");
  ASSERT_TRUE(eventually([&] { return calls_ == 1; }));
}

TEST_F(ConfigWatchTest, MissingDirectoryIsAnError) {
  ConfigWatch w(
      dir_ / "nope" / "switchyard.toml", [] {}, kFast);
  auto error = w.start();
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("nope"), std::string::npos) << *error;
}

TEST_F(ConfigWatchTest, StopIsIdempotent) {
  auto path = dir_ / "switchyard.toml";
  write_file(path, "a = 1\n");
  auto w = watch(path);
  w->stop();
  w->stop();
}

// The watch and the reloader together, as the server wires them.
TEST(ConfigWatchReloadTest, FileChangesReloadAndBadFilesKeepTheGeneration) {
  TempDir dir;
  auto path = dir / "switchyard.toml";
  const std::string base =
      "[listen]\naddress = \"127.0.0.1:0\"\n[upstream]\naddress = \"127.0.0.1:1\"\n"
      "tls = \"disable\"\n";
  write_file(path, base);
  auto state = std::make_shared<ProxyState>();
  auto offline = testing::build_offline;
  auto first = offline(*config::load_config(path).config, 1);
  state->publish(std::get<std::shared_ptr<const Snapshot>>(first));
  Reloader reloader(path, state, offline);
  ConfigWatch watch(
      path, [&] { reloader.request(std::string(kFileChangeTrigger)); }, kFast);
  ASSERT_FALSE(watch.start());

  replace_file(path, base + "[timeouts]\nconnect = \"2s\"\n");
  ASSERT_TRUE(eventually([&] { return state->snapshot()->generation == 2; }));
  EXPECT_EQ(state->snapshot()->config->timeouts.connect, std::chrono::seconds(2));

  replace_file(path, base + "[timeouts]\nconnect = \"soon\"\n");
  // last() is recorded after the failure is counted: wait for the record itself.
  ASSERT_TRUE(eventually([&] { return reloader.last().result == ReloadStatus::Result::failed; }));
  EXPECT_EQ(state->metrics.shared().reloads_failed.load(), 1u);
  EXPECT_EQ(state->snapshot()->generation, 2u);

  replace_file(path, base + "[timeouts]\nconnect = \"3s\"\n");
  ASSERT_TRUE(eventually([&] { return state->snapshot()->generation == 3; }));

  // A deleted file is a failed reload too, as for SIGHUP; putting it back loads it.
  fs::remove(path);
  ASSERT_TRUE(eventually([&] { return state->metrics.shared().reloads_failed.load() == 2; }));
  ASSERT_TRUE(eventually([&] { return reloader.last().result == ReloadStatus::Result::failed; }));
  write_file(path, base + "[timeouts]\nconnect = \"3s\"\n");
  ASSERT_TRUE(eventually([&] { return state->snapshot()->generation == 4; }));
  watch.stop();
  reloader.stop();
}

}  // namespace
}  // namespace switchyard::proxy
