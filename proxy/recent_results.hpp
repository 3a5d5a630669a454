#pragma once

// The last few rewrite results one session used, by (cache key, text). A session repeats few
// statements, and looking here first spares the shared caches' hash, lock, LRU move and
// reference counts, which every worker thread touches.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "rewrite/result.hpp"

namespace switchyard::proxy {

template <typename Value>
class Recent {
 public:
  using value_type = Value;

  /// The value kept for (key, text), or null; valid until the next remember() or clear().
  const Value* find(std::uint64_t key, std::string_view text) const {
    if (ring_) {
      for (const Slot& slot : ring_->slots) {
        if (slot.used && slot.key == key && slot.text == text) {
          return &slot.value;
        }
      }
    }
    return nullptr;
  }

  /// Keeps `value` in place of the oldest entry; returns the kept one, valid as find()'s.
  const Value& remember(std::uint64_t key, std::string_view text, Value value) {
    if (!ring_) {
      ring_ = std::make_unique<Ring>();  // on first use: an idle session holds a pointer
    }
    Slot& slot = ring_->slots[ring_->next++ % kSlots];
    slot.key = key;
    slot.text.assign(text);
    slot.value = std::move(value);
    slot.used = true;
    return slot.value;
  }

  void clear() { ring_.reset(); }

 private:
  static constexpr std::size_t kSlots = 4;
  struct Slot {
    std::uint64_t key = 0;
    std::string text;
    Value value{};
    bool used = false;
  };
  struct Ring {
    std::array<Slot, kSlots> slots;
    std::size_t next = 0;
  };
  std::unique_ptr<Ring> ring_;
};

/// Results by text.
using RecentResults = Recent<std::shared_ptr<const rewrite::RewriteResult>>;

}  // namespace switchyard::proxy
