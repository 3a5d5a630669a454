#pragma once

#include <cstddef>
#include <optional>
#include <span>

#include "protocol/message_writer.hpp"

namespace switchyard::protocol {

/// The transaction status carried by ReadyForQuery ("55.7 Message Formats").
enum class TransactionStatus : char {
  idle = 'I',      ///< not in a transaction block
  in_block = 'T',  ///< in a transaction block
  failed = 'E',    ///< in a failed transaction block; statements are rejected until it ends
};

/// Decodes a ReadyForQuery body: exactly one of 'I', 'T', 'E'.
std::optional<TransactionStatus> decode_ready_for_query(std::span<const std::byte> body);
/// Writes a complete ReadyForQuery.
void encode_ready_for_query(MessageWriter& w, TransactionStatus status);

}  // namespace switchyard::protocol
