#include "protocol/row_description.hpp"

#include "protocol/byte_reader.hpp"

namespace switchyard::protocol {

std::optional<std::vector<std::uint32_t>> decode_row_description_types(
    std::span<const std::byte> body) {
  ByteReader r(body);
  auto count = r.i16();
  if (!count || *count < 0) {
    return std::nullopt;
  }
  std::vector<std::uint32_t> types;
  types.reserve(static_cast<std::size_t>(*count));
  for (int i = 0; i < *count; ++i) {
    // name, table OID, column number, then the type OID; size, modifier and format follow.
    if (!r.cstring() || !r.u32() || !r.i16()) {
      return std::nullopt;
    }
    auto type = r.u32();
    if (!type || !r.i16() || !r.i32() || !r.i16()) {
      return std::nullopt;
    }
    types.push_back(*type);
  }
  if (!r.at_end()) {
    return std::nullopt;
  }
  return types;
}

}  // namespace switchyard::protocol
