#include "proxy/buffer_pool.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <thread>
#include <vector>

namespace switchyard::proxy {
namespace {

// Each test runs on a thread of its own, so that it starts with an empty pool.
template <class Body>
void on_fresh_thread(Body body) {
  std::thread thread(body);
  thread.join();
}

TEST(BufferPoolTest, AGivenBackBlockIsTakenAgainWholeAndWritable) {
  on_fresh_thread([] {
    PooledBuffer a;
    EXPECT_FALSE(a.held());
    a.acquire();
    ASSERT_TRUE(a.held());
    std::byte* first = a.data();
    std::memset(first, 0xab, PooledBuffer::kSize);  // the whole block is ours (ASan checks)
    a.reset();
    EXPECT_FALSE(a.held());
    EXPECT_EQ(PooledBuffer::pooled_on_this_thread(), 1u);

    PooledBuffer b;
    b.acquire();
    EXPECT_EQ(b.data(), first);
    EXPECT_EQ(PooledBuffer::pooled_on_this_thread(), 0u);
    std::memset(b.data(), 0xcd, PooledBuffer::kSize);
  });
}

TEST(BufferPoolTest, AcquireKeepsAHeldBlockAndResetOfNothingIsHarmless) {
  on_fresh_thread([] {
    PooledBuffer a;
    a.reset();
    EXPECT_EQ(PooledBuffer::pooled_on_this_thread(), 0u);
    a.acquire();
    std::byte* held = a.data();
    a.acquire();
    EXPECT_EQ(a.data(), held);
  });
}

TEST(BufferPoolTest, BlocksComeBackLastInFirstOutAndEachOnce) {
  on_fresh_thread([] {
    std::vector<PooledBuffer> buffers(5);
    std::vector<std::byte*> given;
    for (auto& b : buffers) {
      b.acquire();
      given.push_back(b.data());
    }
    for (auto& b : buffers) {
      b.reset();
    }
    EXPECT_EQ(PooledBuffer::pooled_on_this_thread(), 5u);
    std::set<std::byte*> taken;
    for (std::size_t i = 0; i < buffers.size(); ++i) {
      buffers[i].acquire();
      EXPECT_EQ(buffers[i].data(), given[given.size() - 1 - i]);
      taken.insert(buffers[i].data());
    }
    EXPECT_EQ(taken.size(), given.size());
    EXPECT_EQ(PooledBuffer::pooled_on_this_thread(), 0u);
  });
}

TEST(BufferPoolTest, KeepsAtMost256FreeBlocksAndFreesTheRest) {
  on_fresh_thread([] {
    std::vector<PooledBuffer> buffers(300);
    for (auto& b : buffers) {
      b.acquire();
    }
    buffers.clear();  // the destructors give every block back
    EXPECT_EQ(PooledBuffer::pooled_on_this_thread(), 256u);
  });  // the thread's end frees the pooled ones: LeakSanitizer would tell otherwise
}

TEST(BufferPoolTest, AMovedBufferGivesItsBlockBackOnce) {
  on_fresh_thread([] {
    PooledBuffer a;
    a.acquire();
    PooledBuffer b(std::move(a));
    EXPECT_TRUE(b.held());
    b.reset();
    a.reset();
    EXPECT_EQ(PooledBuffer::pooled_on_this_thread(), 1u);
  });
}

}  // namespace
}  // namespace switchyard::proxy
