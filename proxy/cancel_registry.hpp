#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "config/config.hpp"

namespace switchyard::proxy {

/// Which upstream each live backend key belongs to. BackendKeyData is relayed unchanged, so a
/// CancelRequest carries the real key; the registry says where to send it and refuses keys
/// Switchyard never handed out (a cancel can't be aimed at another proxy's sessions). After an
/// upstream address change, old sessions' cancels still reach their old upstream.
class CancelRegistry {
 public:
  void add(std::int32_t process_id, std::int32_t secret_key, config::Endpoint upstream);
  void remove(std::int32_t process_id, std::int32_t secret_key);
  std::optional<config::Endpoint> find(std::int32_t process_id, std::int32_t secret_key) const;
  std::size_t size() const;

 private:
  static std::uint64_t key(std::int32_t pid, std::int32_t secret) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(pid)) << 32) |
           static_cast<std::uint32_t>(secret);
  }
  mutable std::mutex mutex_;
  std::unordered_map<std::uint64_t, config::Endpoint> entries_;
};

}  // namespace switchyard::proxy
