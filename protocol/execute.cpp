#include "protocol/execute.hpp"

#include "protocol/byte_reader.hpp"
#include "protocol/message_types.hpp"

namespace switchyard::protocol {

std::optional<Execute> decode_execute(std::span<const std::byte> body) {
  ByteReader r(body);
  auto portal = r.cstring();
  auto max_rows = portal ? r.i32() : std::nullopt;
  if (!max_rows || !r.at_end()) {
    return std::nullopt;
  }
  return Execute{*portal, *max_rows};
}

void encode_execute(MessageWriter& w, std::string_view portal, std::int32_t max_rows) {
  w.begin_message(frontend::kExecute);
  w.cstring(portal);
  w.i32(max_rows);
  w.finish_message();
}

void encode_sync(MessageWriter& w) {
  w.begin_message(frontend::kSync);
  w.finish_message();
}

void encode_flush(MessageWriter& w) {
  w.begin_message(frontend::kFlush);
  w.finish_message();
}

}  // namespace switchyard::protocol
