// Fifo: the queue behind the transaction and reply trackers.

#include "protocol/fifo.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace switchyard::protocol {
namespace {

std::vector<int> contents(Fifo<int>& q) { return std::vector<int>(q.begin(), q.end()); }

TEST(FifoTest, FirstInFirstOut) {
  Fifo<int> q;
  EXPECT_TRUE(q.empty());
  for (int i = 1; i <= 3; ++i) {
    q.push_back(i);
  }
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(q.front(), 1);
  EXPECT_EQ(q.back(), 3);
  q.pop_front();
  EXPECT_EQ(q.front(), 2);
  q.push_back(4);
  EXPECT_EQ(contents(q), (std::vector<int>{2, 3, 4}));
  q.pop_front();
  q.pop_front();
  q.pop_front();
  EXPECT_TRUE(q.empty());
  q.push_back(5);
  EXPECT_EQ(contents(q), (std::vector<int>{5}));
}

TEST(FifoTest, EraseKeepsOrderAndTheFront) {
  Fifo<int> q;
  for (int i = 1; i <= 5; ++i) {
    q.push_back(i);
  }
  q.pop_front();  // 2 3 4 5
  auto it = q.erase(q.begin() + 1);
  EXPECT_EQ(*it, 4);
  EXPECT_EQ(contents(q), (std::vector<int>{2, 4, 5}));
  q.erase_if([](int v) { return v % 2 == 0; });
  EXPECT_EQ(contents(q), (std::vector<int>{5}));
  q.erase(q.begin());
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.begin(), q.end());
}

TEST(FifoTest, ADeepQueueLeavesNoLargeBufferOnceEmpty) {
  Fifo<int> q;
  for (int i = 0; i < 100000; ++i) {
    q.push_back(i);
  }
  for (int i = 0; i < 100000; ++i) {
    ASSERT_EQ(q.front(), i);
    q.pop_front();
  }
  EXPECT_TRUE(q.empty());
  q.push_back(7);
  EXPECT_EQ(q.front(), 7);
  EXPECT_EQ(q.size(), 1u);
}

}  // namespace
}  // namespace switchyard::protocol
