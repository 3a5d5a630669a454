#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "protocol/byte_reader.hpp"

namespace switchyard::protocol {

/// The type OIDs of a message that is an Int16 count and then that many entries, each read by
/// `read_entry` (which returns the entry's type OID, or nullopt on short data): a
/// RowDescription's fields, a ParameterDescription's parameters. nullopt on a negative count,
/// short data or trailing bytes.
template <class ReadEntry>
std::optional<std::vector<std::uint32_t>> decode_type_list(std::span<const std::byte> body,
                                                           ReadEntry read_entry) {
  ByteReader r(body);
  auto count = r.i16();
  if (!count || *count < 0) {
    return std::nullopt;
  }
  std::vector<std::uint32_t> types;
  types.reserve(static_cast<std::size_t>(*count));
  for (int i = 0; i < *count; ++i) {
    std::optional<std::uint32_t> type = read_entry(r);
    if (!type) {
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
