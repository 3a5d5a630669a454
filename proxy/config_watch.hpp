#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <optional>
#include <string>
#include <thread>

namespace switchyard::proxy {

/// Watches the config file with inotify and calls `on_change` when it may have changed.
///
/// It watches the file's DIRECTORY, not the file: editors write a new file and rename it over
/// the old one, and a Kubernetes ConfigMap mount swaps a `..data` symlink, and both leave a
/// watch on the old inode looking at a file nobody reads any more. When the path is a symlink
/// into another directory, that directory is watched too (and re-resolved after each change).
/// Bursts of events are debounced; `on_change` runs once per burst that touched the config file
/// (other files in the directory are ignored), and only for the first of a row of bursts that
/// leave it unreadable (deleted, no permission): the reloader records that failure. A file modified
/// in place is not read while its writer may still have it open (no IN_CLOSE_WRITE since its
/// IN_MODIFY): a writer that pauses between two chunks would otherwise have its first half loaded,
/// and a migration missing from that half would stop writing both columns until the rest arrives.
/// Whether the bytes changed is the Reloader's question: it compares them with the bytes it last
/// loaded.
class ConfigWatch {
 public:
  struct Options {
    /// Quiet time after the last event before the file is read.
    std::chrono::milliseconds debounce{150};
    /// Upper bound from the first event of a burst to the read, for writers that never pause.
    std::chrono::milliseconds max_delay{2000};
    /// Upper bound to wait for a writer that modified the file in place to close it; past it
    /// the file is read anyway (and that is logged), for writers that keep it open.
    std::chrono::milliseconds writer_wait{5000};
  };

  ConfigWatch(std::filesystem::path config_path, std::function<void()> on_change, Options options);
  ConfigWatch(std::filesystem::path config_path, std::function<void()> on_change)
      : ConfigWatch(std::move(config_path), std::move(on_change), Options{}) {}
  ~ConfigWatch();
  ConfigWatch(const ConfigWatch&) = delete;
  ConfigWatch& operator=(const ConfigWatch&) = delete;

  /// Remembers the current content and starts the watch thread. An error message when inotify
  /// is unavailable or the directory cannot be watched (the caller decides whether that is
  /// fatal; SIGHUP still works).
  std::optional<std::string> start();
  /// Stops and joins the thread. Idempotent.
  void stop();

  /// Number of on_change calls so far.
  std::uint64_t changes() const { return changes_.load(); }
  /// Number of times a burst of events ended in a read of the file (changed or not).
  std::uint64_t checks() const { return checks_.load(); }

 private:
  void run(std::promise<void>& watching);

  const std::filesystem::path config_path_;
  const std::function<void()> on_change_;
  const Options options_;
  int inotify_fd_ = -1;
  int stop_fd_ = -1;  // an eventfd that wakes the thread to stop
  std::thread thread_;
  std::atomic<std::uint64_t> changes_{0};
  std::atomic<std::uint64_t> checks_{0};
};

}  // namespace switchyard::proxy
