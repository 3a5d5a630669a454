#include "proxy/cancel_registry.hpp"

namespace switchyard::proxy {

void CancelRegistry::add(std::int32_t process_id, std::int32_t secret_key,
                         config::Endpoint upstream) {
  std::lock_guard lock(mutex_);
  entries_[key(process_id, secret_key)] = std::move(upstream);
}

void CancelRegistry::remove(std::int32_t process_id, std::int32_t secret_key) {
  std::lock_guard lock(mutex_);
  entries_.erase(key(process_id, secret_key));
}

std::optional<config::Endpoint> CancelRegistry::find(std::int32_t process_id,
                                                     std::int32_t secret_key) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key(process_id, secret_key));
  if (it == entries_.end()) {
    return std::nullopt;
  }
  return it->second;
}

std::size_t CancelRegistry::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace switchyard::proxy
