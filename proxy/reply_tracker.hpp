#pragma once

#include <bit>
#include <cstdint>
#include <memory>
#include <string>

#include "protocol/fifo.hpp"
#include "rewrite/result.hpp"

namespace switchyard::proxy {

/// What tells an error's position in a rewritten text in the client's (ReplyTracker::rewritten).
struct RewrittenText {
  std::shared_ptr<const rewrite::RewriteResult> rewrite;  // its `positions` map the text
  /// The client's text when the one sent was filled in from the rewrite of its literal shape,
  /// whose map is of the shape's key.
  std::string shaped_original;
};

/// Pairs the server's ParseComplete/CloseComplete replies and statement descriptions with the
/// Parse/Close/Describe messages that earned them, so replies to messages Switchyard injected
/// (a transparent re-prepare after a flip, and the Describes that compare its result types)
/// can be hidden from the client; and a Query's CommandCompletes of statements Switchyard put
/// in front of the client's (an SQL re-prepare) or among them (a staged COPY, whose INSERT's
/// tag is told as the COPY's). Replies come in request order; an error in the extended protocol
/// makes the server skip everything up to the next Sync, and COPY swallows Syncs sent while it
/// runs, so the tracker follows both rules. Pure: no I/O.
class ReplyTracker {
 public:
  enum class Sent : std::uint8_t { parse, close, describe, sync, query };

  /// A message sent upstream; `hide` marks an injected Parse/Close/Describe whose reply is
  /// dropped, `settles` a client's Parse/Close whose outcome is told (take_settled).
  void on_sent(Sent kind, bool hide = false, bool settles = false) {
    pending_.push_back({kind, hide, false, settles});
    if (kind == Sent::describe && hide) {
      ++hidden_describes_;
    }
  }

  /// ParseComplete ('1') or CloseComplete ('3') arrived. Returns true if the client must not
  /// see it.
  bool on_complete(Sent kind) {
    if (pending_.empty() || pending_.front().kind != kind) {
      // Out of step (a message type we do not model): stop hiding anything from here on. The
      // outcome of Parses and Closes is not known: taken as done, as the client expects.
      while (!pending_.empty()) {
        if (pending_.front().settles) {
          settled_.push_back(1);
        }
        pending_.pop_front();
      }
      watches_.clear();
      rewrites_.clear();
      hidden_describes_ = 0;
      watched_completes_ = 0;
      return false;
    }
    bool hide = pending_.front().hide;
    if (pending_.front().settles) {
      pending_.front().settles = false;
      settled_.push_back(1);
    }
    pop();
    return hide;
  }

  /// Outcomes of the Parses and Closes sent with `settles`, in the order sent: true where the
  /// server did it, false where it failed or skipped it (after an error, up to Sync).
  bool has_settled() const { return !settled_.empty(); }
  bool take_settled() {
    const bool done = settled_.front() != 0;
    settled_.pop_front();
    return done;
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

  /// The Query just sent (on_sent) begins with `count` statements Switchyard put in front of
  /// the client's, `shift` characters long: their CommandCompletes are hidden, and the last of
  /// them confirms `confirms` (an SQL re-prepare's number).
  void hide_first_completes(std::uint8_t count, std::uint32_t confirms, std::uint32_t shift) {
    Entry& query = pending_.back();
    watched_completes_ += count;
    query.leading += count;
    query.confirms = confirms;
    query.shift = shift;
  }

  /// The Query just sent carries statements of Switchyard's own among the client's (a staged
  /// COPY). Counted from the first CommandComplete after those hide_first_completes put in
  /// front: bit i of `hide` hides the i-th, bit i of `as_copy` tells the i-th as a COPY's
  /// ("INSERT 0 n" becomes "COPY n").
  /// `staged_because` says why (naming the migration), for an error of the statement that
  /// creates a staging table (staging_error).
  void watch_completes(std::uint64_t hide, std::uint64_t as_copy,
                       std::shared_ptr<const std::string> staged_because = nullptr) {
    pending_.back().watched = true;
    watches_.push_back({0, hide, as_copy, std::move(staged_because)});
    watched_completes_ += static_cast<std::uint32_t>(std::popcount(hide | as_copy));
  }

  /// The Query or Parse just sent carries a rewrite of the client's text: an error answering
  /// it has its position told in the client's text through `text`, which is taken; `text`
  /// gets back the buffer of one answered before, so that a session copying each client text
  /// does not allocate for each.
  void rewritten(RewrittenText& text) {
    pending_.back().rewritten = true;
    rewrites_.push_back(std::move(text));
    text.shaped_original.swap(spare_);
  }

  /// For an ErrorResponse about to be told (on_error): how far its position is from the
  /// client's text, when it answers the client's own statement after some put in front of it.
  std::uint32_t position_shift() const {
    if (pending_.empty() || pending_.front().kind != Sent::query || pending_.front().leading > 0) {
      return 0;
    }
    return pending_.front().shift;
  }

  /// For an ErrorResponse about to be told: whether it answers a rewritten Query or Parse (not
  /// a statement put in front of one), and what tells its position (see rewritten()).
  bool answers_rewrite() const {
    return !pending_.empty() && pending_.front().rewritten && pending_.front().leading == 0;
  }
  const RewrittenText& text_answered() const { return rewrites_.front(); }

  /// For an ErrorResponse about to be told: when it answers the statement of Switchyard's that
  /// creates a staged COPY's temporary table (hidden, with the INSERT told as the COPY two
  /// statements on), why the COPY is staged; else null.
  std::shared_ptr<const std::string> staging_error() const {
    if (pending_.empty() || pending_.front().kind != Sent::query || pending_.front().leading > 0 ||
        !pending_.front().watched) {
      return nullptr;
    }
    const Watch& watch = watches_.front();
    if (watch.seen + 2 >= 64 || (watch.hide >> watch.seen & 1) == 0 ||
        (watch.as_copy >> (watch.seen + 2) & 1) == 0) {
      return nullptr;
    }
    return watch.staged_because;
  }

  struct CompleteAnswer {
    bool hide = false;
    bool as_copy = false;         ///< the tag is told as a COPY's
    std::uint32_t confirmed = 0;  ///< the re-prepare its statements finished, if this ended them
  };
  /// CommandComplete arrived.
  CompleteAnswer on_command_complete() {
    if (watched_completes_ == 0 || pending_.empty() || pending_.front().kind != Sent::query) {
      return {};
    }
    Entry& query = pending_.front();
    if (query.leading > 0) {
      --query.leading;
      --watched_completes_;
      return {true, false, query.leading == 0 ? query.confirms : 0};
    }
    if (!query.watched) {
      return {};
    }
    Watch& watch = watches_.front();  // the front Query's: the earlier ones are answered
    if (watch.seen >= 64) {
      return {};
    }
    const std::uint64_t bit = std::uint64_t{1} << watch.seen++;
    const CompleteAnswer answer{(watch.hide & bit) != 0, (watch.as_copy & bit) != 0, 0};
    if (answer.hide || answer.as_copy) {
      watch.hide &= ~bit;
      watch.as_copy &= ~bit;
      --watched_completes_;
    }
    return answer;
  }

  /// CommandCompletes to hide or retag not received yet.
  std::uint32_t watched_completes() const { return watched_completes_; }

  /// ErrorResponse: inside a simple Query nothing is skipped; in the extended protocol the
  /// server skips every message up to the next Sync.
  void on_error() {
    while (!pending_.empty() && !answered_by_ready(pending_.front())) {
      pop();
    }
    // A simple Query stops at its error: statements of Switchyard's still unanswered never ran.
    if (!pending_.empty()) {
      unwatch(pending_.front());
    }
  }

  /// The server skipped the Query first in line, after an error in the extended-protocol
  /// messages before it (on_error stopped there): it goes on skipping up to the Sync.
  void query_skipped() {
    if (!pending_.empty() && pending_.front().kind == Sent::query) {
      pop();
      on_error();
    }
  }

  /// The Query just sent (on_sent) reaches the server while it skips to a Sync after an error
  /// that has already come: it is never answered.
  void query_not_run() { pending_.back().not_run = true; }

  /// ReadyForQuery answers everything up to and including the first Sync or Query.
  void on_ready() {
    while (!pending_.empty()) {
      const bool last = answered_by_ready(pending_.front());
      pop();
      if (last) {
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
    // A Query: it has a Watch (watch_completes), and how many CommandCompletes of statements
    // put in front of it are still to come (hide_first_completes).
    bool watched = false;
    bool settles = false;    // see on_sent
    bool rewritten = false;  // a Query or Parse with an entry in rewrites_
    bool not_run = false;    // see query_not_run
    std::uint8_t leading = 0;
    std::uint32_t confirms = 0;
    std::uint32_t shift = 0;
  };
  // A Query's CommandCompletes after those in front: seen so far, which to hide or retag. Kept
  // apart from Entry, which every message sent makes one of, as few Queries have one.
  struct Watch {
    std::uint8_t seen = 0;
    std::uint64_t hide = 0;
    std::uint64_t as_copy = 0;
    std::shared_ptr<const std::string> staged_because;
  };

  static bool answered_by_ready(const Entry& e) {
    return e.kind == Sent::sync || (e.kind == Sent::query && !e.not_run);
  }

  // The front entry stops waiting for anything: an error ended its Query.
  void unwatch(Entry& e) {
    if (e.leading != 0 || e.watched) {
      forget_completes(e);
    }
  }

  // Rare (a Query with statements of Switchyard's): out of the path every message takes.
  [[gnu::cold]] [[gnu::noinline]] void forget_completes(Entry& e) {
    watched_completes_ -= e.leading;
    e.leading = 0;
    if (e.watched) {
      Watch& watch = watches_.front();
      watched_completes_ -= static_cast<std::uint32_t>(std::popcount(watch.hide | watch.as_copy));
      watch.hide = 0;
      watch.as_copy = 0;
    }
  }

  [[gnu::always_inline]] void pop() {
    Entry& e = pending_.front();
    if (e.settles) {
      settled_.push_back(0);  // popped unanswered: failed, or skipped after an error
    }
    if (e.kind == Sent::describe && e.hide) {
      --hidden_describes_;
    }
    if (e.leading != 0 || e.watched) {
      forget_completes(e);
      if (e.watched) {
        watches_.front().staged_because.reset();  // the Fifo keeps popped items until it empties
        watches_.pop_front();
      }
    }
    if (e.rewritten) {
      spare_.swap(rewrites_.front().shaped_original);
      spare_.clear();
      rewrites_.front() = {};  // the Fifo keeps popped items until it empties
      rewrites_.pop_front();
    }
    pending_.pop_front();
  }

  protocol::Fifo<Entry> pending_;
  protocol::Fifo<Watch> watches_;  // one per watched Query in pending_, in its order
  // One per rewritten Query or Parse in pending_, in its order.
  protocol::Fifo<RewrittenText> rewrites_;
  std::string spare_;  // a popped entry's shaped_original, handed back by rewritten()
  protocol::Fifo<std::uint8_t> settled_;  // bools: Fifo<bool> would be a vector<bool>
  std::uint32_t hidden_describes_ = 0;
  std::uint32_t watched_completes_ = 0;
};

}  // namespace switchyard::proxy
