#pragma once

#include <algorithm>

#include "protocol/byte_reader.hpp"
#include "protocol/error_response.hpp"
#include "protocol/message_types.hpp"
#include "protocol/parameter_status.hpp"
#include "proxy/metrics.hpp"
#include "proxy/pump.hpp"
#include "proxy/relay_state.hpp"
#include "proxy/session_rewrite.hpp"
#include "rewrite/position_map.hpp"

namespace switchyard::proxy {

/// The settings that decide how the server reads a text, as the startup's ParameterStatus
/// messages report them (the relay follows later ones in BackendHandler::follow_parameter).
struct TextSettings {
  bool standard_strings = true;
  std::string client_encoding = "UTF8";
  std::string server_encoding = "UTF8";

  void follow(std::span<const std::byte> body) {
    const auto status = protocol::decode_parameter_status(body);
    if (!status) {
      return;
    }
    if (status->name == "standard_conforming_strings") {
      standard_strings = status->value == "on";
    } else if (status->name == "client_encoding") {
      client_encoding.assign(status->value);
    } else if (status->name == "server_encoding") {
      server_encoding.assign(status->value);
    }
  }
};

/// Upstream -> client: tracks transaction state from ReadyForQuery, counts errors by class,
/// hides answers to statements Switchyard injected, stops at a boundary when draining.
class BackendHandler {
 public:
  BackendHandler(RelayState& state, Metrics& metrics, SessionRewrite& rewrite)
      : state_(state), metrics_(metrics), rewrite_(rewrite) {}
  BackendHandler(const BackendHandler&) = delete;
  BackendHandler& operator=(const BackendHandler&) = delete;
  /// A session that ends inside a transaction block counts it out.
  ~BackendHandler() {
    if (state_.block_generation != 0) {
      metrics_.open_transactions.ended(state_.block_generation);
    }
  }

  /// The session's encodings at startup, which decide how an error's position counts.
  void set_encodings(const TextSettings& settings) {
    counting_ = rewrite::character_count(settings.client_encoding, settings.server_encoding);
  }

  /// After ReadyForQuery the server sends nothing until the client sends again (apart from
  /// notifications and a FATAL error, which come later and so raise an edge of their own).
  static bool quiet_after(char type) { return type == protocol::backend::kReadyForQuery; }

  bool wants(char type) const {
    namespace be = protocol::backend;
    return type == be::kReadyForQuery || type == be::kErrorResponse ||
           type == be::kCopyInResponse || type == be::kCopyBothResponse ||
           type == be::kParameterStatus ||
           (state_.track_replies &&
            (type == be::kParseComplete || type == be::kCloseComplete ||
             // Descriptions only while one may answer an injected Describe (rare); the
             // client's own are paired as they stream past (on_streamed).
             (state_.replies.hidden_describes() > 0 &&
              (type == be::kParameterDescription || type == be::kRowDescription ||
               type == be::kNoData)))) ||
           // Hidden ones are counted only while replies are tracked.
           (type == be::kCommandComplete &&
            (rewrite_.follows_completes() || state_.replies.watched_completes() > 0 ||
             (state_.deallocations && state_.deallocations->waiting())));
  }
  FrameAction on_frame(const protocol::Frame& frame, protocol::MessageWriter& out) {
    namespace be = protocol::backend;
    const std::size_t skipped = state_.tracker.on_backend(frame.type, frame.body);
    if (state_.track_replies && track_reply(frame)) {
      return FrameAction::drop;
    }
    if (tell_as_copy_) {
      // A staged COPY's: the client's statement ran.
      rewrite_.on_complete({}, state_.tracker.answers_resolved());
      return tell_as_copy(frame, out);
    }
    if (frame.type == be::kCopyInResponse && state_.copy_in_columns > 0) {
      return copy_in_as_sent(frame, out);
    }
    if (frame.type == be::kParameterStatus) {
      follow_parameter(frame.body);
      return FrameAction::forward;
    }
    if (frame.type == be::kCommandComplete) {
      const std::string_view tag = command_tag(frame.body);
      ended_in_rollback_ = ends_in_rollback(tag, ended_in_rollback_);
      rewrite_.on_complete(tag, state_.tracker.answers_resolved());
      if (state_.deallocations) [[unlikely]] {
        state_.deallocations->on_complete(tag);
      }
      return FrameAction::forward;
    }
    if (frame.type == be::kReadyForQuery) {
      state_.error_before_ready = false;
      if (state_.deallocations) [[unlikely]] {
        state_.deallocations->on_ready();
      }
      if (state_.settle_readies > 0) [[unlikely]] {
        state_.settled_by(1);
      }
      rewrite_.on_ready(state_.tracker.status(), ended_in_rollback_);
      count_open_transaction();
      ended_in_rollback_ = false;
      if (state_.request_started) {
        std::chrono::duration<double> took =
            std::chrono::steady_clock::now() - *state_.request_started;
        metrics_.observe_query_seconds(took.count());
        state_.request_started.reset();
      }
      if (state_.readies_to_drop.on_ready()) {
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
      return on_error_response(frame, out, skipped);
    }
    return FrameAction::forward;
  }
  void on_streamed(char type) {
    state_.tracker.on_backend(type, {});
    if (state_.track_replies &&
        (type == protocol::backend::kRowDescription || type == protocol::backend::kNoData)) {
      state_.replies.on_description(true);
    }
  }
  void on_bytes(std::size_t n) {
    metrics_.bytes_from_upstream.fetch_add(n, std::memory_order_relaxed);
  }
  bool on_written() { return !stop_after_write_ && !state_.relay_over; }
  awaitable<void> complete() { co_return; }

 private:
  // A block begins or ends with the status a ReadyForQuery reports; its generation cannot
  // change inside it (flags are adopted at transaction boundaries only).
  // The session's work counted since its first message after the last boundary (FrontendHandler::
  // sent) ends at the next one.
  void count_open_transaction() {
    if (state_.block_generation != 0 && state_.at_boundary()) {
      metrics_.open_transactions.ended(state_.block_generation);
      state_.block_generation = 0;
    }
  }

  void follow_parameter(std::span<const std::byte> body) {
    const auto status = protocol::decode_parameter_status(body);
    if (!status) {
      return;
    }
    if (status->name == "standard_conforming_strings") {
      rewrite_.set_standard_strings(status->value == "on");
    } else if (status->name == "client_encoding") {
      rewrite_.set_client_encoding(status->value);
      counting_ = rewrite::character_count(status->value, rewrite_.server_encoding());
    }
  }
  // Returns true when the reply answers a message Switchyard injected.
  [[gnu::always_inline]] bool track_reply(const protocol::Frame& frame) {
    namespace be = protocol::backend;
    bool hide = false;
    switch (frame.type) {
      case be::kParseComplete:
        hide = state_.replies.on_complete(ReplyTracker::Sent::parse);
        break;
      case be::kCloseComplete:
        hide = state_.replies.on_complete(ReplyTracker::Sent::close);
        break;
      case be::kCommandComplete:
        hide = track_command_complete();
        break;
      case be::kParameterDescription:
      case be::kRowDescription:
      case be::kNoData:
        hide = track_description(frame);
        break;
      case be::kReadyForQuery:
        state_.replies.on_ready();
        break;
      case be::kCopyInResponse:
      case be::kCopyBothResponse:
        state_.replies.on_copy_in();
        break;
      default:
        break;
    }
    finish_check_if_answered();
    return hide;
  }

  // The comparison is over once no Describe of it waits for an answer: both answered, or
  // skipped after an error.
  void finish_check_if_answered() {
    if (ResultTypeCheck* check = state_.check.get();
        check && check->waiting && state_.replies.hidden_describes() == 0) {
      check->finish();
    }
  }

  // An ErrorResponse: what it answers is taken from the reply tracker before the tracker skips
  // past it, for tell_error. Kept in this call's locals rather than in members, which every
  // idle session would hold. Out of line: errors are not the common answer. `skipped`: the
  // Queries the server skips for it (ExtendedState::on_backend).
  FrameAction on_error_response(const protocol::Frame& frame, protocol::MessageWriter& out,
                                std::size_t skipped);

  // A CommandComplete that answers a statement Switchyard put in front of a client's text (an
  // SQL re-prepare) or around a staged COPY is hidden; the staged COPY's INSERT is told as the
  // COPY (tell_as_copy_). Out of line: rare.
  bool track_command_complete();
  // The staged COPY's INSERT: "INSERT 0 n" told as "COPY n". Out of line: rare.
  FrameAction tell_as_copy(const protocol::Frame& frame, protocol::MessageWriter& out);
  // The CopyInResponse of a COPY sent with more columns than the client named, told with the
  // client's columns (a binary COPY writer checks their number). Out of line: rare.
  FrameAction copy_in_as_sent(const protocol::Frame& frame, protocol::MessageWriter& out);
  // An error in a client's text that has statements in front of it, or that the proxy
  // rewrote: its position (field 'P', in characters) is told in the client's text, and dropped
  // where that cannot be told; an error of the statement that creates a staged COPY's table
  // says that the COPY is staged, and why. Out of line: rare.
  // `shift`, `text` (null unless the error answers a rewrite) and `staged_because`: what the
  // reply tracker said the error answers.
  FrameAction tell_error(const protocol::Frame& frame, protocol::MessageWriter& out,
                         std::uint32_t shift, const RewrittenText* text,
                         const std::shared_ptr<const std::string>& staged_because) const;
  // For tell_error: `position` in the client's text, nullopt where it has none.
  static std::optional<std::uint32_t> told_position(std::uint32_t position, std::uint32_t shift,
                                                    const RewrittenText* text,
                                                    rewrite::CharacterCount count);
  // For tell_error: the error of the statement that creates a staged COPY's temporary table
  // said as the COPY's.
  static void explain_staging(protocol::Notice& notice, const std::string& because);

  // A description that answers an injected Describe is hidden; its result types go to the
  // comparison (the statement before its re-prepare, then after). Out of line: rare.
  bool track_description(const protocol::Frame& frame);

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
    if (notice->message == kResultTypeChanged) {
      // Drivers tell this error by the routine that raises it in Postgres.
      std::erase_if(notice->other, [](const auto& field) { return field.first == 'R'; });
      notice->other.emplace_back('R', "RevalidateCachedQuery");
    }
    protocol::encode_error_response(out, *notice);
    return FrameAction::replace;
  }

  // The error answers extended-protocol messages with `count` Queries after them in their
  // batch: the server skips those up to the Sync and answers none of them with a
  // ReadyForQuery. Among them may be rejections of Switchyard's, whose error is not coming.
  void queries_skipped(std::size_t count) {
    if (state_.track_replies) {
      for (std::size_t i = 0; i < count; ++i) {
        state_.replies.query_skipped();
      }
    }
    if (state_.deallocations) [[unlikely]] {
      state_.deallocations->on_skipped(count);
    }
    if (state_.settle_readies > 0) [[unlikely]] {
      state_.settled_by(count);
    }
    const std::size_t rejections = state_.readies_to_drop.on_skipped(count);
    state_.rejections_pending -=
        static_cast<std::uint32_t>(std::min<std::size_t>(rejections, state_.rejections_pending));
  }

  static std::string_view sqlstate(std::span<const std::byte> body) {
    // The SQLSTATE field ('C') is all we need; scan for it without decoding every field.
    protocol::ByteReader reader(body);
    while (auto field = reader.u8()) {
      if (*field == 0) {
        break;
      }
      auto value = reader.cstring();
      if (!value) {
        break;
      }
      if (*field == 'C') {
        return *value;
      }
    }
    return {};
  }

  // Whether the transaction a ReadyForQuery ends was rolled back, after the statement of `tag`.
  // ROLLBACK's tag (also when COMMIT ends a failed transaction, and for ROLLBACK TO, where the
  // transaction goes on and a later answer decides) says so until a later statement says
  // otherwise: a COMMIT, or a SET, RESET or DISCARD ALL, whose change the session follows as
  // made after the rollback. Any other statement behind a ROLLBACK in the same request (psycopg
  // sends DEALLOCATE ALL with it) leaves it rolled back.
  static bool ends_in_rollback(std::string_view tag, bool before) {
    if (tag == "ROLLBACK") {
      return true;
    }
    return before && tag != "COMMIT" && tag != "SET" && tag != "RESET" && tag != "DISCARD ALL" &&
           tag != "PREPARE TRANSACTION";
  }

  static std::string_view command_tag(std::span<const std::byte> body) {
    protocol::ByteReader reader(body);
    return reader.cstring().value_or(std::string_view());
  }

  RelayState& state_;
  Metrics& metrics_;
  SessionRewrite& rewrite_;
  bool stop_after_write_ = false;
  // An error or ROLLBACK since the last ReadyForQuery (ends_in_rollback).
  bool ended_in_rollback_ = false;
  bool tell_as_copy_ = false;  // the CommandComplete at hand, see track_command_complete
  // How the server counts an error's position in this session's text (set_encodings).
  rewrite::CharacterCount counting_ = rewrite::CharacterCount::utf8;
};

}  // namespace switchyard::proxy
