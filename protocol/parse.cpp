#include "protocol/parse.hpp"

#include <algorithm>
#include <cassert>
#include <limits>

#include "protocol/byte_reader.hpp"
#include "protocol/message_types.hpp"

namespace switchyard::protocol {

std::int32_t ParamTypes::operator[](std::size_t i) const {
  assert(i < size());
  ByteReader r(wire_.subspan(i * 4, 4));
  return *r.i32();
}

bool ParamTypes::operator==(const ParamTypes& other) const {
  return std::equal(wire_.begin(), wire_.end(), other.wire_.begin(), other.wire_.end());
}

std::optional<Parse> decode_parse(std::span<const std::byte> body) {
  ByteReader r(body);
  auto statement = r.cstring();
  auto query = statement ? r.cstring() : std::nullopt;
  auto count = query ? r.i16() : std::nullopt;
  if (!count || *count < 0) {
    return std::nullopt;
  }
  auto types = r.bytes(static_cast<std::size_t>(*count) * 4);
  if (!types || !r.at_end()) {
    return std::nullopt;
  }
  return Parse{*statement, *query, ParamTypes(*types)};
}

void encode_parse(MessageWriter& w, std::string_view statement, std::string_view query,
                  ParamTypes param_types) {
  assert(param_types.size() <= static_cast<std::size_t>(std::numeric_limits<std::int16_t>::max()));
  assert(statement.find('\0') == std::string_view::npos &&
         query.find('\0') == std::string_view::npos);
  const std::size_t length =
      4 + statement.size() + 1 + query.size() + 1 + 2 + param_types.wire().size();
  std::byte* at = w.append(1 + length).data();
  *at++ = static_cast<std::byte>(frontend::kParse);
  at = put_i32(at, static_cast<std::int32_t>(length));
  at = put_cstring(at, statement);
  at = put_cstring(at, query);
  at = put_i16(at, static_cast<std::int16_t>(param_types.size()));
  put_bytes(at, param_types.wire());
}

}  // namespace switchyard::protocol
