#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "protocol/message_writer.hpp"

namespace switchyard::protocol {

/// CopyInResponse, CopyOutResponse and CopyBothResponse ("55.7 Message
/// Formats"), which share one layout.
struct CopyResponse {
  std::int8_t format;                        ///< 0 text, 1 binary
  std::vector<std::int16_t> column_formats;  ///< one per column, each 0 or 1

  bool operator==(const CopyResponse&) const = default;
};

/// Decodes a Copy*Response body; nullopt on a format other than 0 or 1, a
/// negative count, short data or trailing bytes.
std::optional<CopyResponse> decode_copy_response(std::span<const std::byte> body);
/// Writes a complete Copy*Response; `type` is backend::kCopyInResponse,
/// kCopyOutResponse or kCopyBothResponse.
void encode_copy_response(MessageWriter& w, char type, const CopyResponse& c);

}  // namespace switchyard::protocol
