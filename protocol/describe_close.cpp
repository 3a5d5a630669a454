#include "protocol/describe_close.hpp"

#include "protocol/byte_reader.hpp"
#include "protocol/message_types.hpp"

namespace switchyard::protocol {
namespace {

void encode_target(MessageWriter& w, char type, char kind, std::string_view name) {
  w.begin_message(type);
  w.u8(static_cast<std::uint8_t>(kind));
  w.cstring(name);
  w.finish_message();
}

}  // namespace

std::optional<DescribeOrClose> decode_describe_or_close(std::span<const std::byte> body) {
  ByteReader r(body);
  auto kind = r.u8();
  if (!kind || (*kind != 'S' && *kind != 'P')) {
    return std::nullopt;
  }
  auto name = r.cstring();
  if (!name || !r.at_end()) {
    return std::nullopt;
  }
  return DescribeOrClose{static_cast<char>(*kind), *name};
}

void encode_describe(MessageWriter& w, char kind, std::string_view name) {
  encode_target(w, frontend::kDescribe, kind, name);
}

void encode_close(MessageWriter& w, char kind, std::string_view name) {
  encode_target(w, frontend::kClose, kind, name);
}

}  // namespace switchyard::protocol
