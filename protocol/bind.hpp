#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "protocol/message_writer.hpp"

namespace switchyard::protocol {

/// The two names that lead a Bind ("55.7 Message Formats"). The parameters that
/// follow are relayed as they are, so they are not decoded.
struct BindTarget {
  std::string_view portal;     ///< "" is the unnamed portal
  std::string_view statement;  ///< "" is the unnamed statement

  bool operator==(const BindTarget&) const = default;
};

/// The result-column format codes that end a Bind: none (every column in text), one (for every
/// column) or one per column.
struct ResultFormats {
  std::vector<std::int16_t> codes;

  /// True when column `column` (from 0) is to be sent in binary.
  bool binary(std::size_t column) const {
    if (codes.empty()) {
      return false;
    }
    const std::size_t at = codes.size() == 1 ? 0 : column;
    return at < codes.size() && codes[at] == 1;
  }

  bool operator==(const ResultFormats&) const = default;
};

/// Decodes the portal and statement names at the start of a Bind body.
std::optional<BindTarget> decode_bind_target(std::span<const std::byte> body);
/// Decodes the result formats of a Bind body, passing over its parameters.
std::optional<ResultFormats> decode_bind_result_formats(std::span<const std::byte> body);
/// Writes a complete Bind with no parameter formats, no parameters and no
/// result formats (all results in text).
void encode_bind_no_params(MessageWriter& w, std::string_view portal, std::string_view statement);

}  // namespace switchyard::protocol
