#include "proxy/backend_handler.hpp"

#include "protocol/row_description.hpp"

namespace switchyard::proxy {

bool BackendHandler::track_command_complete() {
  const ReplyTracker::CompleteAnswer answer = state_.replies.on_command_complete();
  if (answer.confirmed != 0) {
    state_.sql_reprepared.push_back(answer.confirmed);
  }
  return answer.hide;
}

bool BackendHandler::track_description(const protocol::Frame& frame) {
  namespace be = protocol::backend;
  using Description = ReplyTracker::Description;
  const Description answer = state_.replies.on_description(frame.type != be::kParameterDescription);
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
