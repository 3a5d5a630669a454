#include "protocol/query.hpp"

#include "protocol/byte_reader.hpp"
#include "protocol/message_types.hpp"

namespace switchyard::protocol {

std::optional<Query> decode_query(std::span<const std::byte> body) {
  ByteReader r(body);
  auto sql = r.cstring();
  if (!sql || !r.at_end()) {
    return std::nullopt;
  }
  return Query{*sql};
}

void encode_query(MessageWriter& w, std::string_view sql) {
  w.begin_message(frontend::kQuery);
  w.cstring(sql);
  w.finish_message();
}

}  // namespace switchyard::protocol
