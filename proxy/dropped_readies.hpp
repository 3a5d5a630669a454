#pragma once

#include <cstddef>

#include "protocol/fifo.hpp"

namespace switchyard::proxy {

/// The ReadyForQuery messages the client must not see: the answers to the Queries that raise
/// Switchyard's rejections through the server. A pipelining client is still owed the answers to
/// the Syncs and Queries it sent before the rejected message, so each is dropped by its place
/// among the answers to come, not as the next one to arrive. Pure: no I/O.
class DroppedReadies {
 public:
  /// The server answers `owed_before` requests sent earlier before the one to drop.
  void drop_after(std::size_t owed_before) { ahead_.push_back(owed_before); }

  /// A ReadyForQuery arrived: true when it is one to drop.
  bool on_ready() {
    if (ahead_.empty()) {
      return false;
    }
    const bool drop = ahead_.front() == 0;
    if (drop) {
      ahead_.pop_front();
    }
    // Every later one was sent after this answer's request: one fewer in front of each.
    for (std::size_t& owed : ahead_) {
      --owed;
    }
    return drop;
  }

 private:
  protocol::Fifo<std::size_t> ahead_;  // per ReadyForQuery to drop: answers still before it
};

}  // namespace switchyard::proxy
