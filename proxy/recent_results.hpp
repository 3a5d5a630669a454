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

class RecentResults {
 public:
  using Result = std::shared_ptr<const rewrite::RewriteResult>;

  /// The result kept for (key, text), or null; valid until the next remember() or clear().
  const Result* find(std::uint64_t key, std::string_view text) const {
    if (ring_) {
      for (const Slot& slot : ring_->slots) {
        if (slot.result && slot.key == key && slot.text == text) {
          return &slot.result;
        }
      }
    }
    return nullptr;
  }

  /// Keeps `result` in place of the oldest entry; returns the kept copy, valid as find()'s.
  const Result& remember(std::uint64_t key, std::string_view text, Result result) {
    if (!ring_) {
      ring_ = std::make_unique<Ring>();  // on first use: an idle session holds a pointer
    }
    Slot& slot = ring_->slots[ring_->next++ % kSlots];
    slot.key = key;
    slot.text.assign(text);
    slot.result = std::move(result);
    return slot.result;
  }

  void clear() { ring_.reset(); }

 private:
  static constexpr std::size_t kSlots = 4;
  struct Slot {
    std::uint64_t key = 0;
    std::string text;
    Result result;
  };
  struct Ring {
    std::array<Slot, kSlots> slots;
    std::size_t next = 0;
  };
  std::unique_ptr<Ring> ring_;
};

}  // namespace switchyard::proxy
