#pragma once

#include <mutex>
#include <set>
#include <string>
#include <utility>

namespace switchyard::proxy {

/// What sessions found out about an upstream that the next sessions should know too (a pooler
/// in between, a startup parameter it refuses), keyed by the upstream's address: warned about
/// once per upstream rather than once per session, and forgotten by nobody (an address that
/// changes is another key).
class UpstreamNotes {
 public:
  /// True the first time `note` is recorded for `upstream`.
  bool record(std::string note, std::string upstream) {
    std::lock_guard lock(mutex_);
    return notes_.emplace(std::move(note), std::move(upstream)).second;
  }
  bool has(const std::string& note, const std::string& upstream) const {
    std::lock_guard lock(mutex_);
    return notes_.contains({note, upstream});
  }

 private:
  mutable std::mutex mutex_;
  std::set<std::pair<std::string, std::string>> notes_;  // guarded by mutex_
};

}  // namespace switchyard::proxy
