#include "proxy/config_watch.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <future>

#include "proxy/logging.hpp"
#include "proxy/thread_name.hpp"

namespace switchyard::proxy {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::uint32_t kDirectoryEvents = IN_CREATE | IN_DELETE | IN_CLOSE_WRITE | IN_MOVED_TO |
                                           IN_MOVED_FROM | IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF |
                                           IN_MOVE_SELF | IN_ONLYDIR;
constexpr std::uint32_t kWatchGone = IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT;
// How often to retry a directory that disappeared (it may come back, e.g. a remount).
constexpr std::chrono::milliseconds kRetryGone{500};

fs::path directory_of(const fs::path& path) {
  auto parent = path.parent_path();
  return parent.empty() ? fs::path(".") : parent;
}

// Where the path leads after all symlinks, or empty if that cannot be worked out now.
fs::path resolved_target(const fs::path& path) {
  std::error_code ec;
  auto target = fs::weakly_canonical(path, ec);
  return ec ? fs::path() : target;
}

fs::path canonical_or_same(const fs::path& path) {
  std::error_code ec;
  auto out = fs::weakly_canonical(path, ec);
  return ec ? path : out;
}

// One inotify watch on a directory and the entry names in it that matter.
struct DirectoryWatch {
  fs::path directory;
  int wd = -1;

  bool add(int fd) {
    wd = inotify_add_watch(fd, directory.c_str(), kDirectoryEvents);
    return wd >= 0;
  }
  void remove(int fd) {
    if (wd >= 0) {
      inotify_rm_watch(fd, wd);
      wd = -1;
    }
  }
};

}  // namespace

ConfigWatch::ConfigWatch(std::filesystem::path config_path, std::function<void()> on_change,
                         Options options)
    : config_path_(std::move(config_path)), on_change_(std::move(on_change)), options_(options) {}

ConfigWatch::~ConfigWatch() { stop(); }

std::optional<std::string> ConfigWatch::start() {
  if (thread_.joinable()) {
    return std::nullopt;
  }
  inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ < 0) {
    return std::string("inotify_init1: ") + std::strerror(errno);
  }
  stop_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (stop_fd_ < 0) {
    auto error = std::string("eventfd: ") + std::strerror(errno);
    close(inotify_fd_);
    inotify_fd_ = -1;
    return error;
  }
  // Probe the directory here so that the caller hears about a missing or unwatchable one.
  auto directory = directory_of(config_path_);
  int probe = inotify_add_watch(inotify_fd_, directory.c_str(), kDirectoryEvents);
  if (probe < 0) {
    auto error = "cannot watch " + directory.string() + ": " + std::strerror(errno);
    close(inotify_fd_);
    close(stop_fd_);
    inotify_fd_ = stop_fd_ = -1;
    return error;
  }
  // Wait until the thread's watches are in place, so a change right after start() is seen.
  std::promise<void> watching;
  auto watching_set = watching.get_future();
  thread_ = std::thread([this, &watching] { run(watching); });
  name_thread(thread_, "sy-config-watch");
  watching_set.wait();
  return std::nullopt;
}

void ConfigWatch::stop() {
  if (thread_.joinable()) {
    std::uint64_t one = 1;
    [[maybe_unused]] auto written = write(stop_fd_, &one, sizeof one);
    thread_.join();
  }
  if (inotify_fd_ >= 0) {
    close(inotify_fd_);
    inotify_fd_ = -1;
  }
  if (stop_fd_ >= 0) {
    close(stop_fd_);
    stop_fd_ = -1;
  }
}

void ConfigWatch::run(std::promise<void>& watching) {
  const std::string file_name = config_path_.filename().string();
  DirectoryWatch main_dir{directory_of(config_path_)};
  main_dir.add(inotify_fd_);  // the same watch start() probed: inotify returns its descriptor
  // The directory a symlinked config file really lives in, when it is another one.
  DirectoryWatch target_dir;
  std::string target_name;

  auto refresh_target = [&] {
    auto target = resolved_target(config_path_);
    auto directory = target.empty() ? fs::path() : target.parent_path();
    bool separate = !directory.empty() && directory != canonical_or_same(main_dir.directory);
    if (!separate) {
      directory.clear();
    }
    if (directory == target_dir.directory && (directory.empty() || target_dir.wd >= 0)) {
      target_name = target.filename().string();
      return;
    }
    if (target_dir.wd >= 0 && target_dir.wd != main_dir.wd) {
      target_dir.remove(inotify_fd_);
    }
    target_dir = DirectoryWatch{directory};
    target_name = target.filename().string();
    if (!directory.empty()) {
      target_dir.add(inotify_fd_);
    }
  };
  refresh_target();
  watching.set_value();

  bool pending = false;
  bool reported_unreadable = false;
  // The file was modified in place and its writer has not closed it since (as far as the
  // events tell): the burst is not over however long the writer pauses.
  bool writer_open = false;
  Clock::time_point first_event{};
  Clock::time_point last_event{};
  alignas(inotify_event) std::array<char, 16 * 1024> buffer{};

  auto note_event = [&] {
    auto now = Clock::now();
    if (!pending) {
      pending = true;
      first_event = now;
    }
    last_event = now;
  };
  auto due = [&] {
    return writer_open ? first_event + options_.writer_wait
                       : std::min(last_event + options_.debounce, first_event + options_.max_delay);
  };
  auto note_writer = [&](std::uint32_t mask, const fs::path& entry) {
    if (mask & IN_CLOSE_WRITE) {
      writer_open = false;
    } else if (mask & IN_MODIFY) {
      writer_open = true;
    } else if (mask & IN_CREATE) {
      // Created by open(O_CREAT), whose writer may pause before its first write; a symlink
      // or directory has no writer to wait for.
      std::error_code ec;
      writer_open = fs::is_regular_file(fs::symlink_status(entry, ec));
    } else if (mask & (IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE)) {
      writer_open = false;  // another inode under the name now: its writer closed it first
    }
  };

  for (;;) {
    int timeout_ms = -1;
    if (pending) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(due() - Clock::now()).count();
      timeout_ms = static_cast<int>(std::max<long long>(0, left));
    }
    if (main_dir.wd < 0) {
      timeout_ms = timeout_ms < 0 ? static_cast<int>(kRetryGone.count())
                                  : std::min(timeout_ms, static_cast<int>(kRetryGone.count()));
    }
    std::array<pollfd, 2> fds{pollfd{inotify_fd_, POLLIN, 0}, pollfd{stop_fd_, POLLIN, 0}};
    int ready = poll(fds.data(), fds.size(), timeout_ms);
    if (ready < 0 && errno != EINTR) {
      spdlog::error("event=config_watch_failed error={}", log_value(std::strerror(errno)));
      return;
    }
    if (fds[1].revents != 0) {
      return;
    }
    if (fds[0].revents & POLLIN) {
      for (;;) {
        auto n = read(inotify_fd_, buffer.data(), buffer.size());
        if (n <= 0) {
          break;
        }
        for (std::size_t offset = 0; offset < static_cast<std::size_t>(n);) {
          inotify_event event;
          std::memcpy(&event, buffer.data() + offset, sizeof event);
          std::string_view name;
          if (event.len > 0) {
            const char* start = buffer.data() + offset + sizeof(inotify_event);
            name = std::string_view(start, strnlen(start, event.len));
          }
          offset += sizeof(inotify_event) + event.len;

          if (event.mask & IN_Q_OVERFLOW) {
            note_event();  // events were lost: one of them may have been ours
            continue;
          }
          bool on_main = event.wd == main_dir.wd;
          bool on_target = target_dir.wd >= 0 && event.wd == target_dir.wd;
          if (event.mask & kWatchGone) {
            if (on_main) {
              main_dir.wd = -1;
            }
            if (on_target) {
              target_dir.wd = -1;
            }
            if (on_main || on_target) {
              note_event();
            }
            continue;
          }
          // A symlink to a file beside it: the file's own events come on the main watch.
          const bool names_file =
              name == file_name || (target_dir.directory.empty() && name == target_name);
          // `..data` and `..2024_01_01_...` are the ConfigMap's swap machinery.
          bool relevant = (on_main && (names_file || name.starts_with(".."))) ||
                          (on_target && name == target_name);
          if (relevant) {
            note_event();
          }
          if (on_main && names_file) {
            note_writer(event.mask, main_dir.directory / std::string(name));
          } else if (on_target && name == target_name) {
            note_writer(event.mask, target_dir.directory / std::string(name));
          }
        }
      }
    }
    if (main_dir.wd < 0 && main_dir.add(inotify_fd_)) {
      note_event();  // the directory is back; its file may be new
    }
    if (!pending || Clock::now() < due()) {
      continue;
    }
    pending = false;
    if (writer_open) {
      spdlog::warn("event=config_read_while_open path={} waited_ms={} reason={}",
                   log_value(config_path_.string()), options_.writer_wait.count(),
                   log_value("the file was modified in place and its writer has not closed it; "
                             "read as it is now, which may be half written"));
      writer_open = false;  // its next write arms the wait again
    }
    refresh_target();
    // Only whether it can be read: the Reloader reads (and bounds) the bytes themselves.
    const bool readable = std::ifstream(config_path_).is_open();
    // Counted after on_change below, so a test that saw the check also sees its effect.
    struct CountCheck {
      std::atomic<std::uint64_t>& n;
      ~CountCheck() { n.fetch_add(1); }
    } count_check{checks_};
    if (!readable) {
      // Deleted or made unreadable after the burst ended: the reload fails and is counted, as
      // a SIGHUP now would be; once, and the event that brings the file back reloads it.
      if (reported_unreadable) {
        continue;
      }
      spdlog::warn("event=config_unreadable path={}", log_value(config_path_.string()));
      reported_unreadable = true;
    } else {
      reported_unreadable = false;
    }
    // No comparison with the bytes seen last time here: the reloader compares with the bytes
    // it last loaded. Comparing here missed an edit back to what this watch had seen while the
    // reloader had loaded something in between (A, B, A in one burst left B in force).
    spdlog::debug("event=config_file_event path={}", log_value(config_path_.string()));
    changes_.fetch_add(1);
    on_change_();
  }
}

}  // namespace switchyard::proxy
