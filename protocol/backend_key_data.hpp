#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "protocol/message_writer.hpp"

namespace switchyard::protocol {

/// BackendKeyData ("55.7 Message Formats"): what a CancelRequest must quote.
/// Only the 4-byte secret key of protocol 3.0 is supported.
struct BackendKeyData {
  std::int32_t process_id;
  std::int32_t secret_key;

  bool operator==(const BackendKeyData&) const = default;
};

/// Decodes a BackendKeyData body; nullopt unless it is exactly two Int32.
std::optional<BackendKeyData> decode_backend_key_data(std::span<const std::byte> body);
/// Writes a complete BackendKeyData.
void encode_backend_key_data(MessageWriter& w, const BackendKeyData& k);

}  // namespace switchyard::protocol
