#include "protocol/query.hpp"

#include <cassert>

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
  // Written in one pass: a rewritten Query is encoded for every statement.
  assert(sql.find('\0') == std::string_view::npos && "a wire String cannot hold NUL");
  const std::size_t length = 4 + sql.size() + 1;
  std::byte* at = w.append(1 + length).data();
  *at++ = static_cast<std::byte>(frontend::kQuery);
  at = put_i32(at, static_cast<std::int32_t>(length));
  put_cstring(at, sql);
}

}  // namespace switchyard::protocol
