#pragma once

#include <cstdint>

#include "protocol/fifo.hpp"

namespace switchyard::proxy {

/// Pairs the server's ParseComplete/CloseComplete replies with the Parse/Close messages that
/// earned them, so replies to messages Switchyard injected (a transparent re-prepare after a
/// flip) can be hidden from the client. Replies come in request order; an error in the
/// extended protocol makes the server skip everything up to the next Sync, and COPY swallows
/// Syncs sent while it runs, so the tracker follows both rules. Pure: no I/O.
class ReplyTracker {
 public:
  enum class Sent : std::uint8_t { parse, close, sync, query };

  /// A message sent upstream; `hide` marks an injected Parse/Close whose reply is dropped.
  void on_sent(Sent kind, bool hide = false) { pending_.push_back({kind, hide}); }

  /// ParseComplete ('1') or CloseComplete ('3') arrived. Returns true if the client must not
  /// see it.
  bool on_complete(Sent kind) {
    if (pending_.empty() || pending_.front().kind != kind) {
      // Out of step (a message type we do not model): stop hiding anything from here on.
      pending_.clear();
      return false;
    }
    bool hide = pending_.front().hide;
    pending_.pop_front();
    return hide;
  }

  /// ErrorResponse: inside a simple Query nothing is skipped; in the extended protocol the
  /// server skips every message up to the next Sync.
  void on_error() {
    while (!pending_.empty() && pending_.front().kind != Sent::sync &&
           pending_.front().kind != Sent::query) {
      pending_.pop_front();
    }
  }

  /// ReadyForQuery answers everything up to and including the first Sync or Query.
  void on_ready() {
    while (!pending_.empty()) {
      Sent kind = pending_.front().kind;
      pending_.pop_front();
      if (kind == Sent::sync || kind == Sent::query) {
        return;
      }
    }
  }

  /// CopyInResponse/CopyBothResponse: the server ignores Syncs that arrive during COPY, and
  /// any Sync still pending was sent after the Execute that started it.
  void on_copy_in() {
    pending_.erase_if([](const Entry& e) { return e.kind == Sent::sync; });
  }

  bool empty() const { return pending_.empty(); }

 private:
  struct Entry {
    Sent kind;
    bool hide;
  };
  protocol::Fifo<Entry> pending_;
};

}  // namespace switchyard::proxy
