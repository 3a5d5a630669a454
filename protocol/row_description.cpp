#include "protocol/row_description.hpp"

#include "protocol/type_list.hpp"

namespace switchyard::protocol {

std::optional<std::vector<std::uint32_t>> decode_row_description_types(
    std::span<const std::byte> body) {
  return decode_type_list(body, [](ByteReader& r) -> std::optional<std::uint32_t> {
    // name, table OID, column number, then the type OID; size, modifier and format follow.
    if (!r.cstring() || !r.u32() || !r.i16()) {
      return std::nullopt;
    }
    auto type = r.u32();
    if (!type || !r.i16() || !r.i32() || !r.i16()) {
      return std::nullopt;
    }
    return type;
  });
}

}  // namespace switchyard::protocol
