#include "proxy/proxy_state.hpp"

namespace switchyard::proxy {

void SessionRegistry::add(std::uint64_t id, WorkerInbox& inbox, DrainHook hook) {
  std::lock_guard lock(mutex_);
  entries_.emplace(id, Entry{&inbox, std::move(hook)});
}

void SessionRegistry::remove(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  entries_.erase(id);
}

void SessionRegistry::drain_all() {
  std::lock_guard lock(mutex_);
  for (auto& [id, entry] : entries_) {
    entry.inbox->post([hook = entry.hook] { hook(false); });
  }
}

void SessionRegistry::close_all() {
  std::lock_guard lock(mutex_);
  for (auto& [id, entry] : entries_) {
    entry.inbox->post([hook = entry.hook] { hook(true); });
  }
}

std::size_t SessionRegistry::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace switchyard::proxy
