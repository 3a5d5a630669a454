// Fuzzes what a server sends, the way a session reads it. The input is a conversation:
//   byte 0: bit 0 set means the proxy sent SSLRequest first, so one answer byte ('S' or
//           'N', anything else closes) precedes the messages;
//   startup phase: typed backend messages (Authentication*, BackendKeyData,
//           ParameterStatus, NegotiateProtocolVersion, Error/Notice) up to ReadyForQuery;
//   normal phase: each message is preceded by a direction byte. Odd means a frontend
//           message the client sent (fed to the tracker as sent upstream), even a backend
//           message the server sent.
// Each decoded message is encoded again and must decode to the same value; the
// transaction tracker must never count more outstanding answers than requests sent.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "fuzz_check.hpp"
#include "protocol/authentication.hpp"
#include "protocol/backend_key_data.hpp"
#include "protocol/copy_response.hpp"
#include "protocol/error_response.hpp"
#include "protocol/framer.hpp"
#include "protocol/message_types.hpp"
#include "protocol/message_writer.hpp"
#include "protocol/parameter_status.hpp"
#include "protocol/ready_for_query.hpp"
#include "protocol/row_description.hpp"
#include "protocol/transaction_state.hpp"

namespace sp = switchyard::protocol;
using switchyard::fuzz::check;

namespace {

const sp::Frame* frame_of(const sp::FrameResult& r, std::span<const std::byte> data) {
  if (const auto* need = std::get_if<sp::NeedMore>(&r)) {
    check(need->total > data.size(), "NeedMore asks for no more than the buffer holds");
    return nullptr;
  }
  const auto* frame = std::get_if<sp::Frame>(&r);
  if (frame != nullptr) {
    check(frame->size <= data.size() && frame->body.size() + 5 == frame->size,
          "frame sizes inconsistent with the buffer");
    check(frame->type != 0, "typed frame with type 0");
  }
  return frame;
}

// The body of the single frame in `w`, which must frame exactly.
std::span<const std::byte> reframed(const sp::MessageWriter& w, char type) {
  const auto r = sp::next_frame(w.data());
  const auto* f = std::get_if<sp::Frame>(&r);
  check(f != nullptr && f->size == w.size() && f->type == type, "re-encoded message frames");
  return f->body;
}

void check_authentication(std::span<const std::byte> body) {
  const auto code = sp::decode_auth_code(body);
  if (!code || *code != static_cast<std::int32_t>(sp::AuthCode::sasl)) {
    return;
  }
  const std::vector<std::string> mechanisms = sp::decode_sasl_mechanisms(body);
  const std::vector<std::byte> without_plus = sp::encode_sasl_without_plus(body);
  if (mechanisms.empty()) {
    return;
  }
  check(!without_plus.empty(), "well-formed AuthenticationSASL not re-encoded");
  sp::MessageWriter w;
  w.bytes(without_plus);
  const std::vector<std::string> kept = sp::decode_sasl_mechanisms(reframed(w, 'R'));
  std::vector<std::string> expected;
  for (const std::string& m : mechanisms) {
    if (!(m.size() >= 5 && m.compare(m.size() - 5, 5, "-PLUS") == 0)) {
      expected.push_back(m);
    }
  }
  // An offer of only -PLUS mechanisms leaves an empty list, which decodes as "not SASL".
  check(kept == expected, "SASL re-encoding keeps exactly the non -PLUS mechanisms");
  sp::MessageWriter again;
  sp::encode_authentication_sasl(again, kept);
  check(sp::decode_sasl_mechanisms(reframed(again, 'R')) == kept, "AuthenticationSASL round trip");
}

void decode_backend(char type, std::span<const std::byte> body) {
  sp::MessageWriter w;
  switch (type) {
    case sp::backend::kAuthentication:
      check_authentication(body);
      break;
    case sp::backend::kBackendKeyData:
      if (const auto k = sp::decode_backend_key_data(body)) {
        sp::encode_backend_key_data(w, *k);
        check(sp::decode_backend_key_data(reframed(w, type)) == k, "BackendKeyData round trip");
      }
      break;
    case sp::backend::kParameterStatus:
      if (const auto p = sp::decode_parameter_status(body)) {
        sp::encode_parameter_status(w, p->name, p->value);
        check(sp::decode_parameter_status(reframed(w, type)) == p, "ParameterStatus round trip");
      }
      break;
    case sp::backend::kReadyForQuery:
      if (const auto s = sp::decode_ready_for_query(body)) {
        sp::encode_ready_for_query(w, *s);
        check(sp::decode_ready_for_query(reframed(w, type)) == s, "ReadyForQuery round trip");
      }
      break;
    case sp::backend::kErrorResponse:
    case sp::backend::kNoticeResponse:
      if (const auto n = sp::decode_notice(body)) {
        if (type == sp::backend::kErrorResponse) {
          sp::encode_error_response(w, *n);
        } else {
          sp::encode_notice_response(w, *n);
        }
        check(sp::decode_notice(reframed(w, type)) == n, "Error/NoticeResponse round trip");
      }
      break;
    case sp::backend::kCopyInResponse:
    case sp::backend::kCopyOutResponse:
    case sp::backend::kCopyBothResponse:
      if (const auto c = sp::decode_copy_response(body)) {
        sp::encode_copy_response(w, type, *c);
        check(sp::decode_copy_response(reframed(w, type)) == c, "CopyResponse round trip");
      }
      break;
    case sp::backend::kRowDescription:
      // Each field takes at least 19 bytes (an empty name and six numbers).
      if (const auto types = sp::decode_row_description_types(body)) {
        check(2 + types->size() * 19 <= body.size(), "RowDescription fields fit the body");
      }
      break;
    default:
      break;
  }
}

bool counts_as_request(char type) {
  return type == sp::frontend::kQuery || type == sp::frontend::kFunctionCall ||
         type == sp::frontend::kSync;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::byte> rest = switchyard::fuzz::bytes_of(data, size);
  if (rest.empty()) {
    return 0;
  }
  const bool ssl_answer_first = (std::to_integer<unsigned>(rest[0]) & 1u) != 0;
  rest = rest.subspan(1);
  if (ssl_answer_first) {
    if (rest.empty()) {
      return 0;
    }
    const auto answer = static_cast<char>(rest[0]);
    if (answer != 'S' && answer != 'N') {
      return 0;
    }
    rest = rest.subspan(1);
  }

  sp::ExtendedState state;
  // Startup phase: no direction bytes, up to and including the first ReadyForQuery.
  while (true) {
    const sp::FrameResult r = sp::next_frame(rest);
    const sp::Frame* frame = frame_of(r, rest);
    if (frame == nullptr) {
      return 0;
    }
    decode_backend(frame->type, frame->body);
    rest = rest.subspan(frame->size);
    if (frame->type == sp::backend::kErrorResponse) {
      return 0;  // a FATAL during startup closes the connection
    }
    if (frame->type == sp::backend::kReadyForQuery) {
      state.on_backend(frame->type, frame->body);
      break;
    }
  }
  check(state.outstanding() == 0 && !state.in_copy_in(), "startup leaves nothing outstanding");

  std::size_t requests = 0;
  while (rest.size() > 1) {
    const bool from_client = (std::to_integer<unsigned>(rest[0]) & 1u) != 0;
    rest = rest.subspan(1);
    const sp::FrameResult r = sp::next_frame(rest);
    const sp::Frame* frame = frame_of(r, rest);
    if (frame == nullptr) {
      break;
    }
    if (from_client) {
      requests += counts_as_request(frame->type) ? 1 : 0;
      state.on_frontend(frame->type);
    } else {
      decode_backend(frame->type, frame->body);
      state.on_backend(frame->type, frame->body);
    }
    check(state.outstanding() <= requests, "more answers owed than requests sent");
    check(!state.idle() || state.outstanding() == 0, "idle with answers still owed");
    rest = rest.subspan(frame->size);
  }
  return 0;
}
