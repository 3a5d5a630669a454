#include "proxy/backend_handler.hpp"

#include <charconv>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "protocol/command_complete.hpp"
#include "protocol/copy_response.hpp"
#include "protocol/parameter_description.hpp"
#include "protocol/row_description.hpp"

namespace switchyard::proxy {

bool BackendHandler::track_command_complete() {
  const ReplyTracker::CompleteAnswer answer = state_.replies.on_command_complete();
  if (answer.confirmed != 0) {
    state_.sql_reprepared.push_back(answer.confirmed);
  }
  tell_as_copy_ = answer.as_copy;
  return answer.hide;
}

FrameAction BackendHandler::tell_as_copy(const protocol::Frame& frame,
                                         protocol::MessageWriter& out) {
  tell_as_copy_ = false;
  const auto tag = protocol::decode_command_complete(frame.body);
  const auto told = tag ? protocol::insert_tag_as_copy(*tag) : std::nullopt;
  if (!told) {
    return FrameAction::forward;  // not an INSERT's: out of step, told as it is
  }
  protocol::encode_command_complete(out, *told);
  return FrameAction::replace;
}

FrameAction BackendHandler::copy_in_as_sent(const protocol::Frame& frame,
                                            protocol::MessageWriter& out) {
  const std::size_t columns = std::exchange(state_.copy_in_columns, 0);
  auto response = protocol::decode_copy_response(frame.body);
  if (!response || response->column_formats.size() == columns) {
    return FrameAction::forward;
  }
  // A COPY reads every column in its one format.
  response->column_formats.assign(columns, response->format);
  protocol::encode_copy_response(out, protocol::backend::kCopyInResponse, *response);
  return FrameAction::replace;
}

std::optional<std::uint32_t> BackendHandler::told_position(std::uint32_t position,
                                                           std::uint32_t shift,
                                                           const RewrittenText* text,
                                                           rewrite::CharacterCount count) {
  if (position <= shift) {
    return position;  // in the statements put in front: told as the server gave it
  }
  position -= shift;
  if (text == nullptr) {
    return position;
  }
  const rewrite::RewriteResult* rewrite = text->rewrite.get();
  if (rewrite == nullptr) {
    return std::nullopt;
  }
  if (!text->shaped_original.empty()) {
    return rewrite::shaped_original_position(rewrite->positions, rewrite->sql,
                                             text->shaped_original, position, count);
  }
  return rewrite::original_position(rewrite->positions, rewrite->sql, position, count);
}

void BackendHandler::explain_staging(protocol::Notice& notice, const std::string& because) {
  // Postgres names the statement a read-only transaction (or a standby) refuses: the client
  // sent a COPY FROM, and that is what Postgres would have named.
  if (notice.code == "25006") {
    if (const auto at = notice.message.find("CREATE TABLE"); at != std::string::npos) {
      notice.message.replace(at, 12, "COPY FROM");
    }
  }
  const std::string staged =
      "Switchyard stages this COPY through a temporary table (" + because + ").";
  notice.detail = notice.detail.empty() ? staged : notice.detail + "\n" + staged;
  if (notice.code == "42501" && notice.hint.empty()) {
    notice.hint =
        "A staged COPY needs the TEMPORARY privilege on the database: GRANT TEMPORARY ON "
        "DATABASE to the role, or COPY in a way the proxy rewrites on the data stream (see "
        "the COPY section of docs/operations.md).";
  }
}

FrameAction BackendHandler::on_error_response(const protocol::Frame& frame,
                                              protocol::MessageWriter& out, std::size_t skipped) {
  std::uint32_t shift = 0;
  std::optional<RewrittenText> text;
  std::shared_ptr<const std::string> staged_because;
  if (state_.track_replies) {
    shift = state_.replies.position_shift();
    if (state_.replies.answers_rewrite()) [[unlikely]] {
      text = state_.replies.text_answered();
      staged_because = state_.replies.staging_error();
    }
    state_.replies.on_error();
    finish_check_if_answered();
  }
  ended_in_rollback_ = true;
  state_.error_before_ready = true;
  rewrite_.on_answer_error(state_.tracker.answers_resolved());
  const std::string_view code = sqlstate(frame.body);
  if (!code.empty()) {
    metrics_.count_error_sqlstate(code);
  }
  if (skipped > 0) [[unlikely]] {
    queries_skipped(skipped);
  }
  if (shift > 0 || text || staged_because) [[unlikely]] {
    return tell_error(frame, out, shift, text ? &*text : nullptr, staged_because);
  }
  if (state_.rejections_pending > 0) {
    return tidy_rejection(frame, out);
  }
  return FrameAction::forward;
}

FrameAction BackendHandler::tell_error(
    const protocol::Frame& frame, protocol::MessageWriter& out, std::uint32_t shift,
    const RewrittenText* text, const std::shared_ptr<const std::string>& staged_because) const {
  auto notice = protocol::decode_notice(frame.body);
  if (!notice) {
    return FrameAction::forward;
  }
  bool changed = false;
  for (auto it = notice->other.begin(); it != notice->other.end(); ++it) {
    auto& [code, value] = *it;
    std::uint32_t position = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), position);
    if (code != 'P' || ec != std::errc() || end != value.data() + value.size()) {
      continue;
    }
    // A position the client's text has no counterpart for is left out, as Postgres leaves it
    // out of errors that have none; so is one into a staging statement the client never sent.
    const auto told =
        staged_because ? std::nullopt : told_position(position, shift, text, counting_);
    if (told) {
      changed = *told != position;
      value = std::to_string(*told);
    } else {
      notice->other.erase(it);
      changed = true;
    }
    break;
  }
  if (staged_because) {
    explain_staging(*notice, *staged_because);
    changed = true;
  }
  if (!changed) {
    return FrameAction::forward;
  }
  protocol::encode_error_response(out, *notice);
  return FrameAction::replace;
}

bool BackendHandler::track_description(const protocol::Frame& frame) {
  namespace be = protocol::backend;
  using Description = ReplyTracker::Description;
  const Description answer = state_.replies.on_description(frame.type != be::kParameterDescription);
  if (answer == Description::hidden && frame.type == be::kParameterDescription) {
    // The statement's parameter types before its re-prepare, which the new Parse keeps.
    ResultTypeCheck* check = state_.check.get();
    if (check != nullptr && check->waiting && check->answers == 0) {
      if (auto types = protocol::decode_parameter_description(frame.body)) {
        check->params_before = std::move(*types);
      }
    }
  }
  if (answer != Description::hidden_last) {
    return answer == Description::hidden;
  }
  ResultTypeCheck* check = state_.check.get();
  if (check == nullptr || !check->waiting) {
    return true;
  }
  auto& types = check->answers == 0 ? check->before : check->after;
  if (frame.type == be::kNoData) {
    types.clear();
    ++check->answers;
  } else if (auto decoded = protocol::decode_row_description_types(frame.body)) {
    types = std::move(*decoded);
    ++check->answers;
  }  // unreadable: the comparison fails and the statement is prepared again next time
  return true;
}

}  // namespace switchyard::proxy
