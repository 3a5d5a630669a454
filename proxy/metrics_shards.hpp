#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "config/config.hpp"
#include "proxy/metrics.hpp"

namespace switchyard::proxy {

/// The process's counters as one block per worker thread plus one for every other thread.
/// A statement bumps half a dozen counters; were they shared, two workers on two cores would
/// pull the same cache lines back and forth at every statement. Blocks are never removed, so a
/// session may keep a reference for its life; a scrape adds them all up (total()).
class MetricsShards {
 public:
  /// A block for each worker the config allows (runtime.threads), and the shared one.
  static constexpr std::size_t kCapacity = config::RuntimeConfig::kMaxThreads + 1;

  MetricsShards() = default;
  MetricsShards(const MetricsShards&) = delete;
  MetricsShards& operator=(const MetricsShards&) = delete;

  /// The block of threads that are not workers: the reloader, the admin server, tests.
  Metrics& shared() { return shared_; }
  const Metrics& shared() const { return shared_; }
  /// Worker `index`'s block, created on first use. Past kCapacity - 1, workers share the
  /// last block: correct, only slower.
  Metrics& worker(std::size_t index);

  /// Every block added up, each counter read once.
  std::unique_ptr<Metrics> total() const;
  /// Client connections open now, over every block.
  std::int64_t connections_active() const;

 private:
  template <class F>
  void for_each_block(F&& f) const;

  Metrics shared_;
  std::array<std::atomic<Metrics*>, kCapacity - 1> workers_{};
  std::mutex create_mutex_;                      // taken only to create a block
  std::vector<std::unique_ptr<Metrics>> owned_;  // guarded by create_mutex_
};

}  // namespace switchyard::proxy
