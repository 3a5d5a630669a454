#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "protocol/message_writer.hpp"

namespace switchyard::protocol {

/// Parse ("55.7 Message Formats", "55.2.3 Extended Query"). The views point into
/// the decoded body.
struct Parse {
  std::string_view statement;  ///< "" is the unnamed statement
  std::string_view query;
  std::vector<std::int32_t> param_types;  ///< type OIDs; 0 leaves a type unspecified

  bool operator==(const Parse&) const = default;
};

/// Decodes a Parse body; nullopt on a negative count, short data or trailing bytes.
std::optional<Parse> decode_parse(std::span<const std::byte> body);
/// Writes a complete Parse.
void encode_parse(MessageWriter& w, std::string_view statement, std::string_view query,
                  std::span<const std::int32_t> param_types);

}  // namespace switchyard::protocol
