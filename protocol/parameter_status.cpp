#include "protocol/parameter_status.hpp"

#include "protocol/byte_reader.hpp"
#include "protocol/message_types.hpp"

namespace switchyard::protocol {

std::optional<ParameterStatus> decode_parameter_status(std::span<const std::byte> body) {
  ByteReader r(body);
  auto name = r.cstring();
  auto value = name ? r.cstring() : std::nullopt;
  if (!value || !r.at_end()) {
    return std::nullopt;
  }
  return ParameterStatus{*name, *value};
}

void encode_parameter_status(MessageWriter& w, std::string_view name, std::string_view value) {
  w.begin_message(backend::kParameterStatus);
  w.cstring(name);
  w.cstring(value);
  w.finish_message();
}

}  // namespace switchyard::protocol
