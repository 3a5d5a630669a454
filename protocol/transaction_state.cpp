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
  switch (type) {
    case frontend::kQuery:
    case frontend::kFunctionCall:
      unanswered_.push_back(Event::simple);
      ++outstanding_;
      return;
    case frontend::kSync:
      unanswered_.push_back(Event::sync);
      ++outstanding_;
      return;
    case frontend::kCopyDone:
    case frontend::kCopyFail:
      // Only worth remembering if a COPY may still start: a client can send its
      // data before the CopyInResponse arrives. Otherwise the server ignores it.
      if (!unanswered_.empty()) {
        unanswered_.push_back(Event::copy_end);
      }
      return;
    case frontend::kCopyData:
    case frontend::kFlush:
    case frontend::kTerminate:
    case frontend::kPassword:
      return;
    default: {
      const bool run = !unanswered_.empty() &&
                       (unanswered_.back() == Event::other || unanswered_.back() == Event::execute);
      if (type == frontend::kExecute && run) {
        unanswered_.back() = Event::execute;
      } else if (!run) {
        unanswered_.push_back(type == frontend::kExecute ? Event::execute : Event::other);
      }
      return;
    }
  }
}

void ExtendedState::on_backend(char type, std::span<const std::byte> body) {
  switch (type) {
    case backend::kReadyForQuery:
      ready_for_query(body);
      return;
    case backend::kCopyInResponse:
    case backend::kCopyBothResponse:
      start_copy_in();
      return;
    case backend::kErrorResponse:
      // A server-side error ends copy-in mode; whatever the client still sends
      // for that COPY is dropped by the server without an answer.
      copy_in_ = false;
      return;
    default:
      return;
  }
}

void ExtendedState::query_skipped() {
  for (auto it = unanswered_.begin(); it != unanswered_.end(); ++it) {
    if (*it == Event::simple) {
      unanswered_.erase(it);
      --outstanding_;
      return;
    }
  }
}

bool ExtendedState::idle() const {
  return unanswered_.empty() && !copy_in_ && status_ == TransactionStatus::idle;
}

void ExtendedState::start_copy_in() {
  // Every earlier sync point has been answered (the server works in order), so
  // the message that started the COPY is in the first unanswered group: the
  // Query itself, or an Execute in the leading run of extended messages. A run
  // without an Execute before it (asyncpg's Parse, Describe, Flush, then the
  // COPY as a Query) was answered without a ReadyForQuery and stays unanswered
  // until the next one, which the server sends for the Query.
  auto it = unanswered_.begin();
  while (it != unanswered_.end() && (*it == Event::copy_end || *it == Event::other)) {
    if (*it == Event::copy_end) {
      it = unanswered_.erase(it);  // sent outside COPY, ignored by the server
    } else {
      ++it;
    }
  }
  if (it != unanswered_.end() && (*it == Event::simple || *it == Event::execute)) {
    ++it;  // the trigger
  }
  // What the client sent after the trigger reaches the server in copy-in mode.
  while (it != unanswered_.end()) {
    switch (*it) {
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
        // Aborts the COPY; the server then skips to the next Sync, which stays
        // counted.
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
    Event e = unanswered_.front();
    unanswered_.pop_front();
    if (e == Event::simple || e == Event::sync) {
      --outstanding_;
      break;
    }
  }
  // A CopyDone or CopyFail now at the front precedes anything that could start
  // a COPY, so it belongs to one that already failed: the server drops it.
  while (!unanswered_.empty() && unanswered_.front() == Event::copy_end) {
    unanswered_.pop_front();
  }
}

}  // namespace switchyard::protocol
