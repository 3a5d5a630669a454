#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

namespace switchyard::protocol {

/// A first-in first-out queue of small values that allocates nothing while it has never been
/// used. std::deque allocates about 600 bytes when constructed, and every session holds two
/// queues of this kind for its whole life, most of it idle.
template <typename T>
class Fifo {
 public:
  using iterator = typename std::vector<T>::iterator;

  bool empty() const { return head_ == items_.size(); }
  std::size_t size() const { return items_.size() - head_; }
  const T& front() const { return items_[head_]; }
  T& front() { return items_[head_]; }
  const T& back() const { return items_.back(); }
  T& back() { return items_.back(); }

  void push_back(T value) { items_.push_back(std::move(value)); }
  void pop_front() {
    if (++head_ == items_.size()) {
      clear();
    }
  }
  void clear() {
    items_.clear();
    head_ = 0;
    if (items_.capacity() > kKeptCapacity) {
      items_.shrink_to_fit();  // a deep pipeline is over: do not hold its memory while idle
    }
  }

  iterator begin() { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
  iterator end() { return items_.end(); }
  /// Removes one element; returns the iterator to the one after it.
  iterator erase(iterator it) { return items_.erase(it); }
  iterator erase(iterator first, iterator last) { return items_.erase(first, last); }
  template <typename Predicate>
  void erase_if(Predicate predicate) {
    items_.erase(std::remove_if(begin(), end(), predicate), items_.end());
  }

 private:
  static constexpr std::size_t kKeptCapacity = 256;
  std::vector<T> items_;
  std::size_t head_ = 0;  // items_ before it are popped
};

}  // namespace switchyard::protocol
