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

std::optional<ResultFormats> decode_bind_result_formats(std::span<const std::byte> body) {
  ByteReader r(body);
  if (!r.cstring() || !r.cstring()) {
    return std::nullopt;
  }
  auto param_formats = r.i16();
  if (!param_formats || *param_formats < 0 ||
      !r.bytes(static_cast<std::size_t>(*param_formats) * 2)) {
    return std::nullopt;
  }
  auto params = r.i16();
  if (!params || *params < 0) {
    return std::nullopt;
  }
  for (int i = 0; i < *params; ++i) {
    auto size = r.i32();
    if (!size || *size < -1 || (*size > 0 && !r.bytes(static_cast<std::size_t>(*size)))) {
      return std::nullopt;
    }
  }
  auto count = r.i16();
  if (!count || *count < 0) {
    return std::nullopt;
  }
  ResultFormats formats;
  formats.codes.reserve(static_cast<std::size_t>(*count));
  for (int i = 0; i < *count; ++i) {
    auto code = r.i16();
    if (!code) {
      return std::nullopt;
    }
    formats.codes.push_back(*code);
  }
  return formats;
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
