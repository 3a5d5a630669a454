#include "protocol/transaction_state.hpp"

#include "protocol/message_types.hpp"

namespace switchyard::protocol {

void ExtendedState::on_frontend(char type) {
  if (copy_in_) {
    switch (type) {
      case frontend::kCopyData:
      case frontend::kSync:
      case frontend::kFlush:
        // The server ignores Sync and Flush in copy-in mode.
        return;
      default:
        // CopyDone and CopyFail end the COPY; any other message aborts it with
        // an error and is itself consumed, so none of them awaits an answer.
        copy_in_ = false;
        return;
    }
  }
  if (skipping_) [[unlikely]] {
    if (type != frontend::kSync) {
      return;  // read past by the server, unanswered
    }
    skipping_ = false;
  }
  switch (type) {
    case frontend::kQuery:
    case frontend::kFunctionCall:
      unanswered_.push_back({Event::simple});
      ++outstanding_;
      return;
    case frontend::kSync:
      unanswered_.push_back({Event::sync});
      ++outstanding_;
      return;
    case frontend::kCopyDone:
    case frontend::kCopyFail:
      // Only worth remembering if a COPY may still start: a client can send its
      // data before the CopyInResponse arrives. Otherwise the server ignores it.
      if (!unanswered_.empty()) {
        unanswered_.push_back({Event::copy_end});
      }
      return;
    case frontend::kCopyData:
    case frontend::kFlush:
    case frontend::kTerminate:
    case frontend::kPassword:
      return;
    default: {
      // Parse, Bind, Describe, Close or Execute (an unknown type ends the session).
      ++due_;
      if (!unanswered_.empty() && is_run(unanswered_.back()) &&
          unanswered_.back().due != UINT16_MAX) {
        Group& run = unanswered_.back();
        ++run.due;
        if (type == frontend::kExecute) {
          run.kind = Event::execute;
        }
      } else {
        unanswered_.push_back({type == frontend::kExecute ? Event::execute : Event::other, 1});
      }
      return;
    }
  }
}

std::size_t ExtendedState::on_backend(char type, std::span<const std::byte> body) {
  switch (type) {
    case backend::kReadyForQuery:
      ready_for_query(body);
      return 0;
    case backend::kCopyInResponse:
    case backend::kCopyBothResponse:
      start_copy_in();
      return 0;
    case backend::kErrorResponse:
      // A server-side error ends copy-in mode; whatever the client still sends
      // for that COPY is dropped by the server without an answer.
      copy_in_ = false;
      return due_ == 0 ? 0 : error_in_run();
    // The final answer to one extended message: a COPY's Execute ends with its
    // CommandComplete too, and a statement's Describe sends ParameterDescription
    // before it.
    case backend::kParseComplete:
    case backend::kBindComplete:
    case backend::kCloseComplete:
    case backend::kRowDescription:
    case backend::kNoData:
    case backend::kCommandComplete:
    case backend::kEmptyQueryResponse:
    case backend::kPortalSuspended:
      if (due_ != 0) {
        answered();
      }
      return 0;
    default:
      return 0;
  }
}

Fifo<ExtendedState::Group>::iterator ExtendedState::current_run() {
  // Earlier sync points are all answered (the server works in order), so only fully
  // answered runs and ignored CopyDones can come before the group being answered.
  auto it = unanswered_.begin();
  while (it != unanswered_.end() &&
         (it->kind == Event::copy_end || (is_run(*it) && it->due == 0))) {
    ++it;
  }
  return it != unanswered_.end() && is_run(*it) ? it : unanswered_.end();
}

void ExtendedState::answered() {
  // Otherwise the answer is a Query's (its rows' description, its statements' tags).
  if (auto run = current_run(); run != unanswered_.end()) {
    --run->due;
    resolve(1);
  }
}

std::size_t ExtendedState::error_in_run() {
  auto run = current_run();
  if (run == unanswered_.end()) {
    return 0;  // the error answers a Query or FunctionCall (which stops only itself) or a Sync
  }
  // The error answers the run, and the server skips up to the next Sync: the rest of the run,
  // and every message after it, a Query's too, is never answered.
  std::size_t skipped = 0;
  resolve(run->due);
  run->due = 0;
  auto it = run + 1;
  for (; it != unanswered_.end() && it->kind != Event::sync; ++it) {
    if (it->kind == Event::simple) {
      ++skipped;
    } else if (is_run(*it)) {
      resolve(it->due);
    }
  }
  outstanding_ -= skipped;
  skipping_ = it == unanswered_.end();
  unanswered_.erase(run + 1, it);
  return skipped;
}

bool ExtendedState::idle() const {
  return unanswered_.empty() && !copy_in_ && !skipping_ && status_ == TransactionStatus::idle;
}

void ExtendedState::start_copy_in() {
  // Every earlier sync point has been answered (the server works in order), so
  // the message that started the COPY is in the first unanswered group: the
  // Query itself, or an Execute in the leading run of extended messages. A run
  // without an Execute before it (asyncpg's Parse, Describe, Flush, then the
  // COPY as a Query) was answered without a ReadyForQuery and stays unanswered
  // until the next one, which the server sends for the Query; so does a run
  // whose Execute has had its answer.
  auto it = unanswered_.begin();
  while (it != unanswered_.end() && (it->kind == Event::copy_end || it->kind == Event::other ||
                                     (it->kind == Event::execute && it->due == 0))) {
    if (it->kind == Event::copy_end) {
      it = unanswered_.erase(it);  // sent outside COPY, ignored by the server
    } else {
      ++it;
    }
  }
  bool by_query = false;
  if (it != unanswered_.end() && (it->kind == Event::simple || it->kind == Event::execute)) {
    by_query = it->kind == Event::simple;
    ++it;  // the trigger
  }
  // What the client sent after the trigger reaches the server in copy-in mode.
  while (it != unanswered_.end()) {
    switch (it->kind) {
      case Event::sync:
        it = unanswered_.erase(it);
        --outstanding_;
        continue;
      case Event::copy_end:
        unanswered_.erase(it);
        return;
      case Event::simple:
        // A Query in copy-in mode aborts the COPY and is consumed unanswered.
        unanswered_.erase(it);
        --outstanding_;
        return;
      case Event::other:
      case Event::execute:
        // Aborts the COPY, consumed unanswered. After an Execute's COPY the
        // server then skips to the next Sync, which stays counted (the error is
        // the Execute's: error_in_run); after a Query's it reads on.
        if (by_query) {
          --it->due;
          resolve(1);
        }
        return;
    }
  }
  copy_in_ = true;
}

void ExtendedState::ready_for_query(std::span<const std::byte> body) {
  if (auto s = decode_ready_for_query(body)) {
    status_ = *s;
  }
  // A ReadyForQuery that answers nothing we sent (the one that ends startup)
  // only reports the status.
  if (outstanding_ == 0) {
    return;
  }
  while (!unanswered_.empty()) {
    const Group g = unanswered_.front();
    unanswered_.pop_front();
    if (g.kind == Event::simple || g.kind == Event::sync) {
      --outstanding_;
      break;
    }
    resolve(g.due);  // 0 unless the server consumed some of the run unanswered
  }
  // A CopyDone or CopyFail now at the front precedes anything that could start
  // a COPY, so it belongs to one that already failed: the server drops it.
  while (!unanswered_.empty() && unanswered_.front().kind == Event::copy_end) {
    unanswered_.pop_front();
  }
}

}  // namespace switchyard::protocol
