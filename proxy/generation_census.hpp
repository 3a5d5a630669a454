#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace switchyard::proxy {

/// Sessions with work in flight (a transaction block, or a statement, text, COPY or extended
/// batch not answered yet), by the flags generation it runs under (Snapshot::flags_generation: a
/// reload that changes no migration keeps it). A session keeps the generation it adopted until
/// it reaches a boundary (DESIGN §4), so one that began before a reload that changed the flags
/// writes under the flags before it: a backfill started then can pass a row before such a
/// session writes its old column alone (docs/operations.md, step 3). Changed at the first
/// message after a boundary and at the next boundary; one per metrics block, so a worker only
/// touches its own cache lines. A generation counts in slot generation % kSlots: a block that
/// outlives kSlots reloads still counts as older, under a later generation's number.
class GenerationCensus {
 public:
  static constexpr std::size_t kSlots = 256;

  void began(std::uint64_t generation) { slot(generation).fetch_add(1, relaxed); }
  void ended(std::uint64_t generation) { slot(generation).fetch_sub(1, relaxed); }
  void add_to(GenerationCensus& total) const;

  struct Older {
    std::uint64_t sessions = 0;
    /// The oldest generation an open block runs under, when one is older than `latest`.
    std::optional<std::uint64_t> oldest;
  };
  /// The blocks open under a generation older than `latest`.
  Older older_than(std::uint64_t latest) const;

 private:
  static constexpr auto relaxed = std::memory_order_relaxed;
  std::atomic<std::int64_t>& slot(std::uint64_t generation) {
    return sessions_[generation % kSlots];
  }

  std::array<std::atomic<std::int64_t>, kSlots> sessions_{};
};

}  // namespace switchyard::proxy
