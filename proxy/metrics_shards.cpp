#include "proxy/metrics_shards.hpp"

#include <algorithm>

namespace switchyard::proxy {

Metrics& MetricsShards::worker(std::size_t index) {
  auto& slot = workers_[std::min(index, workers_.size() - 1)];
  if (Metrics* block = slot.load(std::memory_order_acquire)) {
    return *block;
  }
  std::lock_guard lock(create_mutex_);
  if (Metrics* block = slot.load(std::memory_order_relaxed)) {
    return *block;
  }
  owned_.push_back(std::make_unique<Metrics>());
  slot.store(owned_.back().get(), std::memory_order_release);
  return *owned_.back();
}

template <class F>
void MetricsShards::for_each_block(F&& f) const {
  f(shared_);
  for (const auto& slot : workers_) {
    if (const Metrics* block = slot.load(std::memory_order_acquire)) {
      f(*block);
    }
  }
}

std::unique_ptr<Metrics> MetricsShards::total() const {
  auto total = std::make_unique<Metrics>();
  for_each_block([&](const Metrics& block) { block.add_to(*total); });
  return total;
}

std::int64_t MetricsShards::connections_active() const {
  std::int64_t sum = 0;
  for_each_block([&](const Metrics& block) {
    sum += block.connections_active.load(std::memory_order_relaxed);
  });
  return sum;
}

}  // namespace switchyard::proxy
