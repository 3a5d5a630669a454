#include "protocol/parse.hpp"

#include <cassert>
#include <limits>

#include "protocol/byte_reader.hpp"
#include "protocol/message_types.hpp"

namespace switchyard::protocol {

std::optional<Parse> decode_parse(std::span<const std::byte> body) {
  ByteReader r(body);
  auto statement = r.cstring();
  auto query = statement ? r.cstring() : std::nullopt;
  auto count = query ? r.i16() : std::nullopt;
  if (!count || *count < 0) {
    return std::nullopt;
  }
  // Check the size before reserving so a lying count cannot cause a large allocation.
  if (r.remaining() != static_cast<std::size_t>(*count) * 4) {
    return std::nullopt;
  }
  Parse p{*statement, *query, {}};
  p.param_types.reserve(static_cast<std::size_t>(*count));
  for (std::int16_t i = 0; i < *count; ++i) {
    p.param_types.push_back(*r.i32());
  }
  return p;
}

void encode_parse(MessageWriter& w, std::string_view statement, std::string_view query,
                  std::span<const std::int32_t> param_types) {
  assert(param_types.size() <= static_cast<std::size_t>(std::numeric_limits<std::int16_t>::max()));
  w.begin_message(frontend::kParse);
  w.cstring(statement);
  w.cstring(query);
  w.i16(static_cast<std::int16_t>(param_types.size()));
  for (std::int32_t oid : param_types) {
    w.i32(oid);
  }
  w.finish_message();
}

}  // namespace switchyard::protocol
