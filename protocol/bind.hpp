#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include "protocol/message_writer.hpp"

namespace switchyard::protocol {

/// The two names that lead a Bind ("55.7 Message Formats"). The parameters that
/// follow are relayed as they are, so they are not decoded.
struct BindTarget {
  std::string_view portal;     ///< "" is the unnamed portal
  std::string_view statement;  ///< "" is the unnamed statement

  bool operator==(const BindTarget&) const = default;
};

/// Decodes the portal and statement names at the start of a Bind body.
std::optional<BindTarget> decode_bind_target(std::span<const std::byte> body);
/// Writes a complete Bind with no parameter formats, no parameters and no
/// result formats (all results in text).
void encode_bind_no_params(MessageWriter& w, std::string_view portal, std::string_view statement);

}  // namespace switchyard::protocol
