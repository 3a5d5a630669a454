#include "proxy/buffer_pool.hpp"

#include <cstring>

namespace switchyard::proxy {
namespace {

// Enough for bursts of concurrent traffic on one thread without holding much memory for long.
constexpr std::size_t kMaxPooled = 256;

// Free blocks linked through their own first bytes: taking and giving back cost a few loads
// and stores, and every relay read does both.
struct FreeBlocks {
  std::byte* head = nullptr;
  std::size_t count = 0;

  static std::byte* next_of(std::byte* block) {
    std::byte* next = nullptr;
    std::memcpy(&next, block, sizeof next);
    return next;
  }

  ~FreeBlocks() {
    while (head != nullptr) {
      std::byte* next = next_of(head);
      delete[] head;
      head = next;
    }
    count = 0;
  }
};

thread_local FreeBlocks free_blocks;

}  // namespace

void PooledBuffer::acquire() {
  if (block_) {
    return;
  }
  FreeBlocks& pool = free_blocks;
  if (pool.head == nullptr) {
    block_ = std::make_unique_for_overwrite<std::byte[]>(kSize);
    return;
  }
  block_.reset(pool.head);
  pool.head = FreeBlocks::next_of(pool.head);
  --pool.count;
}

void PooledBuffer::reset() {
  if (!block_) {
    return;
  }
  FreeBlocks& pool = free_blocks;
  if (pool.count == kMaxPooled) {
    block_.reset();
    return;
  }
  std::memcpy(block_.get(), &pool.head, sizeof pool.head);
  pool.head = block_.release();
  ++pool.count;
}

std::size_t PooledBuffer::pooled_on_this_thread() { return free_blocks.count; }

}  // namespace switchyard::proxy
