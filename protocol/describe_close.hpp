#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include "protocol/message_writer.hpp"

namespace switchyard::protocol {

/// Describe or Close ("55.7 Message Formats"): both name a statement or a portal.
struct DescribeOrClose {
  char kind;              ///< 'S' for a prepared statement, 'P' for a portal
  std::string_view name;  ///< "" is the unnamed one

  bool operator==(const DescribeOrClose&) const = default;
};

/// Decodes a Describe or Close body; nullopt unless the kind is 'S' or 'P'.
std::optional<DescribeOrClose> decode_describe_or_close(std::span<const std::byte> body);
/// Writes a complete Describe.
void encode_describe(MessageWriter& w, char kind, std::string_view name);
/// Writes a complete Close.
void encode_close(MessageWriter& w, char kind, std::string_view name);

}  // namespace switchyard::protocol
