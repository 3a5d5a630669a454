#pragma once

#include "protocol/byte_reader.hpp"
#include "protocol/error_response.hpp"
#include "protocol/message_types.hpp"
#include "proxy/metrics.hpp"
#include "proxy/pump.hpp"
#include "proxy/relay_state.hpp"
#include "proxy/session_rewrite.hpp"

namespace switchyard::proxy {

/// Upstream -> client: tracks transaction state from ReadyForQuery, counts errors by class,
/// hides answers to statements Switchyard injected, stops at a boundary when draining.
class BackendHandler {
 public:
  BackendHandler(RelayState& state, Metrics& metrics, SessionRewrite& rewrite)
      : state_(state), metrics_(metrics), rewrite_(rewrite) {}

  /// After ReadyForQuery the server sends nothing until the client sends again (apart from
  /// notifications and a FATAL error, which come later and so raise an edge of their own).
  static bool quiet_after(char type) { return type == protocol::backend::kReadyForQuery; }

  bool wants(char type) const {
    namespace be = protocol::backend;
    return type == be::kReadyForQuery || type == be::kErrorResponse ||
           type == be::kCopyInResponse || type == be::kCopyBothResponse ||
           (state_.track_replies && (type == be::kParseComplete || type == be::kCloseComplete)) ||
           (type == be::kCommandComplete && rewrite_.search_path_uncommitted());
  }
  FrameAction on_frame(const protocol::Frame& frame, protocol::MessageWriter& out) {
    namespace be = protocol::backend;
    state_.tracker.on_backend(frame.type, frame.body);
    if (state_.track_replies && track_reply(frame.type)) {
      return FrameAction::drop;
    }
    if (frame.type == be::kCommandComplete) {
      // ROLLBACK's tag, also when COMMIT ends a failed transaction (and for ROLLBACK TO, but
      // then the transaction goes on and the next answer decides).
      ended_in_rollback_ = command_tag(frame.body) == "ROLLBACK";
      return FrameAction::forward;
    }
    if (frame.type == be::kReadyForQuery) {
      rewrite_.on_ready(state_.tracker.status(), ended_in_rollback_);
      ended_in_rollback_ = false;
      if (state_.request_started) {
        std::chrono::duration<double> took =
            std::chrono::steady_clock::now() - *state_.request_started;
        metrics_.observe_query_seconds(took.count());
        state_.request_started.reset();
      }
      if (state_.ready_to_drop > 0) {
        --state_.ready_to_drop;
        return FrameAction::drop;
      }
      if (state_.at_boundary()) {
        state_.rejections_pending = 0;  // one answered otherwise (an aborted transaction's)
        metrics_.transactions.fetch_add(1, std::memory_order_relaxed);
        // DDL that just committed is visible to every session now, not at this one's next
        // statement (it may never send one).
        rewrite_.after_transaction();
        stop_after_write_ = state_.close_at_boundary;
      }
    } else if (frame.type == be::kErrorResponse) {
      ended_in_rollback_ = true;
      count_error(frame.body);
      if (state_.rejections_pending > 0) {
        return tidy_rejection(frame, out);
      }
    }
    return FrameAction::forward;
  }
  void on_streamed(char type) { state_.tracker.on_backend(type, {}); }
  void on_bytes(std::size_t n) {
    metrics_.bytes_from_upstream.fetch_add(n, std::memory_order_relaxed);
  }
  bool on_written() { return !stop_after_write_ && !state_.relay_over; }
  awaitable<void> complete() { co_return; }

 private:
  // Returns true when the reply answers a message Switchyard injected.
  bool track_reply(char type) {
    namespace be = protocol::backend;
    switch (type) {
      case be::kParseComplete:
        return state_.replies.on_complete(ReplyTracker::Sent::parse);
      case be::kCloseComplete:
        return state_.replies.on_complete(ReplyTracker::Sent::close);
      case be::kErrorResponse:
        state_.replies.on_error();
        return false;
      case be::kReadyForQuery:
        state_.replies.on_ready();
        return false;
      case be::kCopyInResponse:
      case be::kCopyBothResponse:
        state_.replies.on_copy_in();
        return false;
      default:
        return false;
    }
  }

  // Switchyard's own rejection is raised by a DO block: drop the "PL/pgSQL function
  // inline_code_block" context, which would only puzzle the reader.
  FrameAction tidy_rejection(const protocol::Frame& frame, protocol::MessageWriter& out) {
    auto notice = protocol::decode_notice(frame.body);
    if (!notice || notice->code != "0A000") {
      return FrameAction::forward;  // not ours: the server refused something else first
    }
    --state_.rejections_pending;
    std::erase_if(notice->other, [](const auto& field) {
      return field.first == 'W' && field.second.find("inline_code_block") != std::string::npos;
    });
    protocol::encode_error_response(out, *notice);
    return FrameAction::replace;
  }

  void count_error(std::span<const std::byte> body) {
    // The SQLSTATE field ('C') is all we need; scan for it without decoding every field.
    protocol::ByteReader reader(body);
    while (auto field = reader.u8()) {
      if (*field == 0) {
        return;
      }
      auto value = reader.cstring();
      if (!value) {
        return;
      }
      if (*field == 'C' && !value->empty()) {
        metrics_.count_error_sqlstate(*value);
        return;
      }
    }
  }

  static std::string_view command_tag(std::span<const std::byte> body) {
    protocol::ByteReader reader(body);
    return reader.cstring().value_or(std::string_view());
  }

  RelayState& state_;
  Metrics& metrics_;
  SessionRewrite& rewrite_;
  bool stop_after_write_ = false;
  bool ended_in_rollback_ = false;  // the last answer was an error or ROLLBACK
};

}  // namespace switchyard::proxy
