#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "protocol/fifo.hpp"
#include "protocol/ready_for_query.hpp"

namespace switchyard::protocol {

/// Tracks, from the messages a proxy relays, whether the session has reached a
/// point where the server owes nothing and no transaction is open ("55.2.3
/// Extended Query", "55.2.6 COPY Operations" in "Protocol Flow"). It is pure:
/// feed it every frontend message type as it is sent upstream and every
/// backend message as it arrives, in order.
///
/// Each Query, FunctionCall and Sync is answered by one ReadyForQuery, except
/// that the server ignores Sync (and Flush) while in copy-in mode and drops a
/// Query sent then (it aborts the COPY). A client may pipeline a Sync right
/// behind the Execute of a COPY FROM STDIN (libpq does), so the tracker keeps
/// the frontend messages not yet answered and settles which of them the COPY
/// swallowed when CopyInResponse arrives.
///
/// An ErrorResponse in the extended protocol makes the server skip everything up to the next
/// Sync, a Query or FunctionCall included, and answer none of it. Whether an error answers such
/// a Query or the extended messages before it in the same batch is told by counting answers:
/// every extended message but Flush has exactly one final answer (or the error), in order.
class ExtendedState {
 public:
  /// Records a message sent to the server (its type byte).
  void on_frontend(char type);
  /// Records a message received from the server; `body` is read only for
  /// ReadyForQuery. Returns how many Queries and FunctionCalls the server skips
  /// (and will not answer) because of it: an ErrorResponse in the extended-protocol
  /// messages before them, in their batch. Those sent later, while the server skips
  /// (skipping()), are not counted here.
  std::size_t on_backend(char type, std::span<const std::byte> body);

  /// True when every message sent has been answered by a ReadyForQuery, no COPY
  /// is open, and the last ReadyForQuery said 'I': a safe point to switch the
  /// session's configuration.
  bool idle() const;
  /// An error in the extended protocol came, and no Sync has been sent since: the server
  /// skips whatever is sent now, except a Sync, and answers none of it.
  bool skipping() const { return skipping_; }
  /// The status from the last ReadyForQuery (idle before any).
  TransactionStatus status() const { return status_; }
  /// Nothing sent since the last ReadyForQuery, and no COPY running.
  bool all_answered() const { return unanswered_.empty() && !copy_in_ && !skipping_; }
  /// Queries, FunctionCalls and Syncs that still await their ReadyForQuery.
  std::size_t outstanding() const { return outstanding_; }
  /// Extended-protocol messages sent since the last Sync still await answers: whatever is
  /// sent now is answered after them (a Query's CommandCompletes come after their Executes').
  bool unsynced_answers_due() const {
    return !unanswered_.empty() && is_run(unanswered_.back()) && unanswered_.back().due != 0;
  }
  /// The position, among the answers to extended-protocol messages, of the answer to the
  /// next such message sent: a message's answer has come (or the server skipped the message
  /// after an error) once answers_resolved() reaches it. Not for messages sent while skipping().
  std::uint64_t next_answer() const { return resolved_ + due_ + 1; }
  /// Answers to extended-protocol messages come (or skipped by the server) so far.
  std::uint64_t answers_resolved() const { return resolved_; }
  /// True between CopyInResponse (or CopyBothResponse) and the client's
  /// CopyDone or CopyFail.
  bool in_copy_in() const { return copy_in_; }

 private:
  enum class Event : std::uint8_t {
    simple,    // Query or FunctionCall: answered by one ReadyForQuery
    sync,      // Sync: answered by one ReadyForQuery, unless sent during copy-in
    copy_end,  // CopyDone or CopyFail sent before the server entered copy-in
    other,     // one or more extended-protocol messages (runs are collapsed), no Execute
    execute,   // such a run with an Execute in it: the only kind that can start a COPY
  };

  struct Group {
    Event kind;
    // A run's answers still due: one per message but Flush. 16 bits keep the queue an idle
    // session holds small; a longer run is split.
    std::uint16_t due = 0;
  };
  static bool is_run(const Group& g) { return g.kind == Event::other || g.kind == Event::execute; }

  // The run the server is answering now: the first group that is not a run fully answered
  // (nor a CopyDone the server ignores), if it is a run; else end().
  Fifo<Group>::iterator current_run();
  void answered();
  void resolve(std::uint32_t answers) {
    due_ -= answers;
    resolved_ += answers;
  }
  std::size_t error_in_run();
  void start_copy_in();
  void ready_for_query(std::span<const std::byte> body);

  Fifo<Group> unanswered_;       // frontend messages since the last ReadyForQuery
  std::size_t outstanding_ = 0;  // simple and sync events in unanswered_
  std::uint32_t due_ = 0;        // the runs' due answers, summed: 0 is the common fast path
  std::uint64_t resolved_ = 0;   // answers that came or were skipped: next_answer()
  bool copy_in_ = false;
  bool skipping_ = false;  // see skipping()
  TransactionStatus status_ = TransactionStatus::idle;
};

}  // namespace switchyard::protocol
