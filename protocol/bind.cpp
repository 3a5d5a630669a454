#include "protocol/bind.hpp"

#include "protocol/byte_reader.hpp"
#include "protocol/message_types.hpp"

namespace switchyard::protocol {

std::optional<BindTarget> decode_bind_target(std::span<const std::byte> body) {
  ByteReader r(body);
  auto portal = r.cstring();
  auto statement = portal ? r.cstring() : std::nullopt;
  if (!statement) {
    return std::nullopt;
  }
  return BindTarget{*portal, *statement};
}

void encode_bind_no_params(MessageWriter& w, std::string_view portal, std::string_view statement) {
  w.begin_message(frontend::kBind);
  w.cstring(portal);
  w.cstring(statement);
  w.i16(0);  // parameter format codes
  w.i16(0);  // parameter values
  w.i16(0);  // result format codes
  w.finish_message();
}

}  // namespace switchyard::protocol
