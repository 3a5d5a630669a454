#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/transaction_state.hpp"
#include "proxy/asio.hpp"
#include "proxy/deallocation_answers.hpp"
#include "proxy/dropped_readies.hpp"
#include "proxy/reply_tracker.hpp"

namespace switchyard::proxy {

/// The message of Postgres's own error for a prepared statement whose result type changed
/// (SQLSTATE 0A000, routine RevalidateCachedQuery), which drivers recognise.
inline constexpr std::string_view kResultTypeChanged = "cached plan must not change result type";

/// A re-prepare that compares a statement's result types before and after: the client's Bind
/// waits until the server has described the statement as it was and as it is now.
struct ResultTypeCheck {
  bool waiting = false;
  /// Describes answered; fewer than two once it is over: an error made the server skip them
  /// (the client sees that error).
  int answers = 0;
  std::vector<std::uint32_t> before;  ///< result type OIDs; empty for no result (NoData)
  std::vector<std::uint32_t> after;
  /// The statement's parameter types as it was: the new Parse keeps them where the client left
  /// a type to the server, so that a rewrite does not change what the server infers (a bigint
  /// N compared with $1 would make $1 an int8 where the client was told int4).
  std::vector<std::uint32_t> params_before;
  /// The text the statement is prepared again with, while the server describes the old one.
  std::string text;
  bool rewritten = false;
  /// The client direction's wait while it waits; cancelled to wake it.
  steady_timer* wake = nullptr;

  void finish() {
    waiting = false;
    if (wake != nullptr) {
      wake->cancel();
    }
  }
};

/// What both relay directions know of the conversation. Both directions of one session run
/// on the same thread, so plain fields suffice.
struct RelayState {
  /// Fed every message actually sent upstream and every message received from it.
  protocol::ExtendedState tracker;
  /// The config generation the session's work in flight runs under, from the first message
  /// sent after a boundary until the next (counted in the metrics' open_transactions): a
  /// transaction block, and also a statement still running, a text of several, a COPY or an
  /// extended batch not yet answered; 0 at a boundary.
  std::uint64_t block_generation = 0;
  bool terminate_sent = false;
  bool close_at_boundary = false;  // draining: close once the transaction is over
  /// One direction has ended: the other stops after what it is doing (its pending read or
  /// write is cancelled as well).
  bool relay_over = false;
  /// A rejected Parse: the client's messages are dropped until its Sync, as Postgres does
  /// after an error in the extended protocol.
  bool rejecting = false;
  /// An ErrorResponse came since the last ReadyForQuery: the server skips the extended-protocol
  /// messages it gets until a Sync, and answers none of them.
  bool error_before_ready = false;
  /// ReadyForQuery messages the client must not see: answers to statements Switchyard sent
  /// on its own (a rejection raised through the server).
  DroppedReadies readies_to_drop;
  /// Rejections sent upstream whose ErrorResponse has not come back yet.
  std::uint32_t rejections_pending = 0;
  /// Only sessions whose database has migrations pair replies with requests (to hide the
  /// replies to re-prepares); it starts at a boundary, where nothing is pending.
  bool track_replies = false;
  /// When the oldest request still waiting for its ReadyForQuery was sent (query latency).
  std::optional<std::chrono::steady_clock::time_point> request_started;
  ReplyTracker replies;
  /// SQL re-prepares (by number) whose DEALLOCATE and PREPARE the server has answered: it has
  /// the statement as Switchyard prepared it. Read and cleared by the client direction.
  std::vector<std::uint32_t> sql_reprepared;
  /// Made at the first re-prepare that compares result types (rare: after a flip).
  std::unique_ptr<ResultTypeCheck> check;
  /// ReadyForQuery still owed before the answers to every request sent that may change what
  /// the proxy resolves names with or which statements the server has: a SET or RESET of the
  /// path or role, a SET LOCAL, savepoints, DISCARD, DEALLOCATE, and a transaction end while a
  /// SET may still be undone. Until they are in, a statement naming a mapped table is held
  /// (FrontendHandler::hold_until_settled): the server runs it after them, under what they
  /// leave, which only their answers tell. Never more than the requests owed an answer.
  std::size_t settle_readies = 0;
  /// The client direction's wait for those answers, while it waits; cancelled to wake it.
  steady_timer* settle_wake = nullptr;
  void settled_by(std::size_t answers) {
    settle_readies = settle_readies > answers ? settle_readies - answers : 0;
    if (settle_readies == 0 && settle_wake != nullptr) {
      settle_wake->cancel();
    }
  }
  /// Whether the server ran each DEALLOCATE and DISCARD ALL the client direction followed:
  /// made at the first (most sessions never send one), read by the client direction.
  std::unique_ptr<DeallocationAnswers> deallocations;
  /// The client's columns of a COPY FROM STDIN sent rewritten, until the server's
  /// CopyInResponse, which announces the rewritten column list's: the client is told its own.
  /// 0: none pending.
  std::size_t copy_in_columns = 0;

  /// Idle between transactions with nothing in flight: where a session may adopt a new config
  /// generation or be closed by a drain (DESIGN §4).
  bool at_boundary() const { return tracker.idle(); }
};

}  // namespace switchyard::proxy
