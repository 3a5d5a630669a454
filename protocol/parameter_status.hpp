#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include "protocol/message_writer.hpp"

namespace switchyard::protocol {

/// ParameterStatus ("55.7 Message Formats"). The views point into the decoded body.
struct ParameterStatus {
  std::string_view name;
  std::string_view value;

  bool operator==(const ParameterStatus&) const = default;
};

/// Decodes a ParameterStatus body: two Strings and nothing after them.
std::optional<ParameterStatus> decode_parameter_status(std::span<const std::byte> body);
/// Writes a complete ParameterStatus.
void encode_parameter_status(MessageWriter& w, std::string_view name, std::string_view value);

}  // namespace switchyard::protocol
