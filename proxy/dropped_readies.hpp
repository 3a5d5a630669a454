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
  /// `may_be_skipped`: extended-protocol messages went before the rejection in its batch, and
  /// an error in one of them makes the server skip it (and answer no ReadyForQuery for it).
  void drop_after(std::size_t owed_before, bool may_be_skipped = false) {
    ahead_.push_back({owed_before, may_be_skipped});
  }

  /// An ErrorResponse arrived; `raised` when it is a rejection's own. Returns true when it
  /// makes the server skip the rejection next in line: that one is no longer awaited.
  bool on_error(bool raised) {
    if (ahead_.empty() || ahead_.front().owed != 0 || !ahead_.front().may_be_skipped) {
      return false;
    }
    if (raised) {
      ahead_.front().may_be_skipped = false;  // it ran: its ReadyForQuery comes
      return false;
    }
    ahead_.pop_front();
    for (Drop& later : ahead_) {
      --later.owed;  // the skipped one's ReadyForQuery never comes
    }
    return true;
  }

  /// A ReadyForQuery arrived: true when it is one to drop.
  bool on_ready() {
    if (ahead_.empty()) {
      return false;
    }
    const bool drop = ahead_.front().owed == 0;
    if (drop) {
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
    bool may_be_skipped;
  };
  protocol::Fifo<Drop> ahead_;
};

}  // namespace switchyard::proxy
