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
  void drop_after(std::size_t owed_before) { ahead_.push_back({owed_before, true}); }
  /// A rejection that replaces a client's Query, whose ReadyForQuery the client gets: followed
  /// only so that on_skipped counts it.
  void pass_after(std::size_t owed_before) { ahead_.push_back({owed_before, false}); }

  /// An error made the server skip the next `count` requests still owed a ReadyForQuery (Queries
  /// after the failed extended-protocol messages of their batch): those answers never come.
  /// Returns how many of them were rejections.
  std::size_t on_skipped(std::size_t count) {
    std::size_t rejections = 0;
    while (!ahead_.empty() && ahead_.front().owed < count) {
      ahead_.pop_front();
      ++rejections;
    }
    for (Drop& later : ahead_) {
      later.owed -= count;
    }
    return rejections;
  }

  /// A ReadyForQuery arrived: true when it is one to drop.
  bool on_ready() {
    if (ahead_.empty()) {
      return false;
    }
    bool drop = false;
    if (ahead_.front().owed == 0) {
      drop = ahead_.front().drop;
      ahead_.pop_front();
    }
    // Every later one was sent after this answer's request: one fewer in front of each.
    for (Drop& later : ahead_) {
      --later.owed;
    }
    return drop;
  }

 private:
  struct Drop {
    std::size_t owed;  // ReadyForQuery messages still to come before it
    bool drop;         // hidden from the client (drop_after), or told (pass_after)
  };
  protocol::Fifo<Drop> ahead_;
};

}  // namespace switchyard::proxy
