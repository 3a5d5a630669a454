#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace switchyard::proxy {

/// Relay buffers are taken from a per-thread free list only while a session has bytes in
/// flight, so an idle session holds no buffer at all (DESIGN §7: idle sessions cost little).
/// Sessions never change threads, so the list needs no lock.
class PooledBuffer {
 public:
  static constexpr std::size_t kSize = 16 * 1024;

  PooledBuffer() = default;
  PooledBuffer(PooledBuffer&&) noexcept = default;
  PooledBuffer& operator=(PooledBuffer&&) noexcept = default;
  ~PooledBuffer() { reset(); }

  /// Takes a block from the pool (or allocates one) if none is held.
  void acquire();
  /// Returns the block to the pool.
  void reset();
  bool held() const { return block_ != nullptr; }
  std::byte* data() { return block_.get(); }

  /// Free blocks this thread keeps (at most 256): for tests.
  static std::size_t pooled_on_this_thread();

 private:
  std::unique_ptr<std::byte[]> block_;
};

}  // namespace switchyard::proxy
