#pragma once

#include <cstdint>

#include "protocol/fifo.hpp"

namespace switchyard::proxy {

/// Pairs the server's ParseComplete/CloseComplete replies and statement descriptions with the
/// Parse/Close/Describe messages that earned them, so replies to messages Switchyard injected
/// (a transparent re-prepare after a flip, and the Describes that compare its result types)
/// can be hidden from the client. Replies come in request order; an error in the
/// extended protocol makes the server skip everything up to the next Sync, and COPY swallows
/// Syncs sent while it runs, so the tracker follows both rules. Pure: no I/O.
class ReplyTracker {
 public:
  enum class Sent : std::uint8_t { parse, close, describe, sync, query };

  /// A message sent upstream; `hide` marks an injected Parse/Close/Describe whose reply is
  /// dropped.
  void on_sent(Sent kind, bool hide = false) {
    pending_.push_back({kind, hide});
    count(pending_.back(), +1);
  }

  /// ParseComplete ('1') or CloseComplete ('3') arrived. Returns true if the client must not
  /// see it.
  bool on_complete(Sent kind) {
    if (pending_.empty() || pending_.front().kind != kind) {
      // Out of step (a message type we do not model): stop hiding anything from here on.
      pending_.clear();
      hidden_describes_ = 0;
      return false;
    }
    bool hide = pending_.front().hide;
    pop();
    return hide;
  }

  /// What a ParameterDescription, RowDescription or NoData answers.
  enum class Description : std::uint8_t { client, hidden, hidden_last };

  /// ParameterDescription (`last` false), RowDescription or NoData (`last` true) arrived. A
  /// simple Query's RowDescription finds no Describe first in line: it is the client's.
  Description on_description(bool last) {
    if (pending_.empty() || pending_.front().kind != Sent::describe) {
      return Description::client;
    }
    const bool hide = pending_.front().hide;
    if (last) {
      pop();
    }
    return !hide ? Description::client : last ? Description::hidden_last : Description::hidden;
  }

  /// Injected Describes not answered yet (answered or skipped after an error).
  std::uint32_t hidden_describes() const { return hidden_describes_; }

  /// ErrorResponse: inside a simple Query nothing is skipped; in the extended protocol the
  /// server skips every message up to the next Sync.
  void on_error() {
    while (!pending_.empty() && pending_.front().kind != Sent::sync &&
           pending_.front().kind != Sent::query) {
      pop();
    }
  }

  /// ReadyForQuery answers everything up to and including the first Sync or Query.
  void on_ready() {
    while (!pending_.empty()) {
      Sent kind = pending_.front().kind;
      pop();
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

  void pop() {
    count(pending_.front(), -1);
    pending_.pop_front();
  }
  void count(const Entry& e, int step) {
    if (e.kind == Sent::describe && e.hide) {
      hidden_describes_ = step > 0 ? hidden_describes_ + 1 : hidden_describes_ - 1;
    }
  }

  protocol::Fifo<Entry> pending_;
  std::uint32_t hidden_describes_ = 0;
};

}  // namespace switchyard::proxy
