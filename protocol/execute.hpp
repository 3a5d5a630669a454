#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "protocol/message_writer.hpp"

namespace switchyard::protocol {

/// Execute ("55.7 Message Formats").
struct Execute {
  std::string_view portal;  ///< "" is the unnamed portal
  std::int32_t max_rows;    ///< 0 means no limit

  bool operator==(const Execute&) const = default;
};

/// Decodes an Execute body.
std::optional<Execute> decode_execute(std::span<const std::byte> body);
/// Writes a complete Execute.
void encode_execute(MessageWriter& w, std::string_view portal, std::int32_t max_rows);
/// Writes a complete Sync ("55.7 Message Formats"), which has an empty body.
void encode_sync(MessageWriter& w);
/// Writes a complete Flush ("55.7 Message Formats"), which has an empty body.
void encode_flush(MessageWriter& w);

}  // namespace switchyard::protocol
