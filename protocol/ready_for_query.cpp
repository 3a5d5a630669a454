#include "protocol/ready_for_query.hpp"

#include "protocol/byte_reader.hpp"
#include "protocol/message_types.hpp"

namespace switchyard::protocol {

std::optional<TransactionStatus> decode_ready_for_query(std::span<const std::byte> body) {
  ByteReader r(body);
  auto status = r.u8();
  if (!status || !r.at_end()) {
    return std::nullopt;
  }
  switch (static_cast<char>(*status)) {
    case 'I':
      return TransactionStatus::idle;
    case 'T':
      return TransactionStatus::in_block;
    case 'E':
      return TransactionStatus::failed;
    default:
      return std::nullopt;
  }
}

void encode_ready_for_query(MessageWriter& w, TransactionStatus status) {
  w.begin_message(backend::kReadyForQuery);
  w.u8(static_cast<std::uint8_t>(status));
  w.finish_message();
}

}  // namespace switchyard::protocol
