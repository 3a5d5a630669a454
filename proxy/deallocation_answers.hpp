#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocol/fifo.hpp"

namespace switchyard::proxy {

/// Pairs the DEALLOCATE, DEALLOCATE ALL and DISCARD ALL statements sent upstream with the
/// server's answers: whether it ran each. One the server skips (a statement before it in its
/// text or batch failed) or refuses (DISCARD ALL in a transaction block or a pipeline,
/// DEALLOCATE of a name it does not have) drops nothing, and the statements it names must stay
/// known, or a flip would leave them running their old text. A statement that runs earns a
/// CommandComplete before its request's ReadyForQuery; within one request those that run come
/// first, in order (the server runs nothing after a failure up to the request's end), so the
/// tags of a request are matched to its statements in the order sent. Pure: no I/O.
class DeallocationAnswers {
 public:
  /// A deallocating statement sent (a Query's, or an Execute's of a bound one): the server
  /// answers `owed_before` requests sent earlier before the one it belongs to.
  void sent(std::size_t owed_before) { waiting_.push_back(owed_before); }

  /// Statements sent whose outcome is not known yet.
  bool waiting() const { return !waiting_.empty(); }

  /// A CommandComplete the client is told: one with a deallocation's tag answers the oldest
  /// statement of the request being answered. Another tag, or one of a deallocation the proxy
  /// did not follow (nothing was prepared when it was sent), changes nothing.
  void on_complete(std::string_view tag) {
    if (!waiting_.empty() && waiting_.front() == 0 &&
        (tag == "DEALLOCATE" || tag == "DEALLOCATE ALL" || tag == "DISCARD ALL")) {
      waiting_.pop_front();
      outcomes_.push_back(1);
    }
  }

  /// A ReadyForQuery arrived: the statements of its request still waiting did not run.
  void on_ready() {
    while (!waiting_.empty() && waiting_.front() == 0) {
      waiting_.pop_front();
      outcomes_.push_back(0);
    }
    for (std::size_t& owed : waiting_) {
      --owed;
    }
  }

  /// An error made the server skip the next `count` requests still owed a ReadyForQuery
  /// (DroppedReadies::on_skipped): their statements never run, and those answers never come.
  void on_skipped(std::size_t count) {
    while (!waiting_.empty() && waiting_.front() < count) {
      waiting_.pop_front();
      outcomes_.push_back(0);
    }
    for (std::size_t& owed : waiting_) {
      owed -= count;
    }
  }

  /// Outcomes in the order the statements were sent: true where the server ran one.
  bool has_outcome() const { return !outcomes_.empty(); }
  bool take_outcome() {
    const bool ran = outcomes_.front() != 0;
    outcomes_.pop_front();
    return ran;
  }

 private:
  protocol::Fifo<std::size_t> waiting_;    // per statement: answers owed before its request's
  protocol::Fifo<std::uint8_t> outcomes_;  // not vector<bool>: no references to its items
};

}  // namespace switchyard::proxy
