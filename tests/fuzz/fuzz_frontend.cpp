// Fuzzes what a client sends, the way a session reads it: startup-phase packets
// (SSLRequest and GSSENCRequest may precede the StartupMessage, CancelRequest ends the
// connection) and then typed messages, each cut by the framer and decoded by type. Every
// decoded message is encoded again and must decode to the same value, and the framer's
// answers must be consistent with the buffer it was given.

#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>

#include "fuzz_check.hpp"
#include "protocol/bind.hpp"
#include "protocol/describe_close.hpp"
#include "protocol/execute.hpp"
#include "protocol/framer.hpp"
#include "protocol/message_types.hpp"
#include "protocol/message_writer.hpp"
#include "protocol/parse.hpp"
#include "protocol/query.hpp"
#include "protocol/startup.hpp"
#include "protocol/transaction_state.hpp"

namespace sp = switchyard::protocol;
using switchyard::fuzz::check;

namespace {

// Frame invariants shared by both phases.
void check_frame(const sp::FrameResult& r, std::span<const std::byte> data, bool typed) {
  if (const auto* need = std::get_if<sp::NeedMore>(&r)) {
    check(need->total > data.size(), "NeedMore asks for no more than the buffer holds");
    return;
  }
  if (const auto* frame = std::get_if<sp::Frame>(&r)) {
    check(frame->size <= data.size(), "frame larger than the buffer");
    check(frame->body.size() + (typed ? 5 : 4) == frame->size, "body size and frame size differ");
    check(frame->body.data() == data.data() + (typed ? 5 : 4), "body not right after the header");
    check((frame->type == 0) != typed, "type 0 exactly for startup frames");
  }
}

// Returns the rest of the stream when a StartupMessage ended the startup phase, or an
// empty span when the connection would be closed.
std::span<const std::byte> startup_phase(std::span<const std::byte> data) {
  while (true) {
    const sp::FrameResult r = sp::next_startup_frame(data);
    check_frame(r, data, false);
    const auto* frame = std::get_if<sp::Frame>(&r);
    if (frame == nullptr) {
      return {};
    }
    const sp::StartupPacket packet = sp::decode_startup(frame->body);
    data = data.subspan(frame->size);
    if (const auto* m = std::get_if<sp::StartupMessage>(&packet)) {
      sp::MessageWriter w;
      sp::encode_startup(w, *m);
      const auto again = sp::next_startup_frame(w.data());
      const auto* f = std::get_if<sp::Frame>(&again);
      // A re-encoded message can exceed the startup limit only if the original did.
      check(f != nullptr, "re-encoded StartupMessage does not frame");
      check(sp::decode_startup(f->body) == packet, "StartupMessage round trip");
      return data;
    }
    if (const auto* c = std::get_if<sp::CancelRequest>(&packet)) {
      sp::MessageWriter w;
      sp::encode_cancel_request(w, *c);
      const auto again = sp::next_startup_frame(w.data());
      const auto* f = std::get_if<sp::Frame>(&again);
      check(f != nullptr && sp::decode_startup(f->body) == packet, "CancelRequest round trip");
      return {};
    }
    if (std::holds_alternative<sp::StartupDecodeError>(packet)) {
      check(!std::get<sp::StartupDecodeError>(packet).reason.empty(), "error without a reason");
      return {};
    }
    // SSLRequest / GSSENCRequest: the proxy answers 'N' and reads the next packet.
  }
}

template <typename T, typename Decode, typename Encode>
void round_trip(std::span<const std::byte> body, Decode decode, Encode encode, const char* what) {
  const std::optional<T> value = decode(body);
  if (!value) {
    return;
  }
  sp::MessageWriter w;
  encode(w, *value);
  const auto r = sp::next_frame(w.data());
  const auto* f = std::get_if<sp::Frame>(&r);
  check(f != nullptr && f->size == w.size(), what);
  check(decode(f->body) == value, what);
}

void decode_frontend(char type, std::span<const std::byte> body) {
  switch (type) {
    case sp::frontend::kQuery:
      round_trip<sp::Query>(
          body, sp::decode_query, [](auto& w, const auto& q) { sp::encode_query(w, q.sql); },
          "Query round trip");
      break;
    case sp::frontend::kParse:
      round_trip<sp::Parse>(
          body, sp::decode_parse,
          [](auto& w, const auto& p) { sp::encode_parse(w, p.statement, p.query, p.param_types); },
          "Parse round trip");
      break;
    case sp::frontend::kBind: {
      // Only the names are decoded; re-encoding drops parameters, so compare the names.
      const auto target = sp::decode_bind_target(body);
      if (target) {
        sp::MessageWriter w;
        sp::encode_bind_no_params(w, target->portal, target->statement);
        const auto r = sp::next_frame(w.data());
        const auto* f = std::get_if<sp::Frame>(&r);
        check(f != nullptr && sp::decode_bind_target(f->body) == target, "Bind names round trip");
      }
      // The result formats sit after the parameters: decoding them walks every one.
      if (const auto formats = sp::decode_bind_result_formats(body)) {
        check(target.has_value(), "Bind result formats only after readable names");
        check(formats->codes.size() * 2 + 6 <= body.size(), "Bind result formats fit the body");
      }
      break;
    }
    case sp::frontend::kDescribe:
      round_trip<sp::DescribeOrClose>(
          body, sp::decode_describe_or_close,
          [](auto& w, const auto& d) { sp::encode_describe(w, d.kind, d.name); },
          "Describe round trip");
      break;
    case sp::frontend::kClose:
      round_trip<sp::DescribeOrClose>(
          body, sp::decode_describe_or_close,
          [](auto& w, const auto& d) { sp::encode_close(w, d.kind, d.name); }, "Close round trip");
      break;
    case sp::frontend::kExecute:
      round_trip<sp::Execute>(
          body, sp::decode_execute,
          [](auto& w, const auto& e) { sp::encode_execute(w, e.portal, e.max_rows); },
          "Execute round trip");
      break;
    default:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::byte> rest = startup_phase(switchyard::fuzz::bytes_of(data, size));
  sp::ExtendedState state;
  while (!rest.empty()) {
    const sp::FrameResult r = sp::next_frame(rest);
    check_frame(r, rest, true);
    const auto* frame = std::get_if<sp::Frame>(&r);
    if (frame == nullptr) {
      break;
    }
    decode_frontend(frame->type, frame->body);
    state.on_frontend(frame->type);
    rest = rest.subspan(frame->size);
  }
  return 0;
}
