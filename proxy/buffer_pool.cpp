#include "proxy/buffer_pool.hpp"

namespace switchyard::proxy {
namespace {

// Enough for bursts of concurrent traffic on one thread without holding much memory for long.
constexpr std::size_t kMaxPooled = 256;

std::vector<std::unique_ptr<std::byte[]>>& pool() {
  thread_local std::vector<std::unique_ptr<std::byte[]>> blocks;
  return blocks;
}

}  // namespace

void PooledBuffer::acquire() {
  if (block_) {
    return;
  }
  auto& blocks = pool();
  if (blocks.empty()) {
    block_ = std::make_unique_for_overwrite<std::byte[]>(kSize);
  } else {
    block_ = std::move(blocks.back());
    blocks.pop_back();
  }
}

void PooledBuffer::reset() {
  if (!block_) {
    return;
  }
  auto& blocks = pool();
  if (blocks.size() < kMaxPooled) {
    blocks.push_back(std::move(block_));
  }
  block_.reset();
}

}  // namespace switchyard::proxy
