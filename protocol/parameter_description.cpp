#include "protocol/parameter_description.hpp"

#include "protocol/byte_reader.hpp"

namespace switchyard::protocol {

std::optional<std::vector<std::uint32_t>> decode_parameter_description(
    std::span<const std::byte> body) {
  ByteReader r(body);
  auto count = r.i16();
  if (!count || *count < 0) {
    return std::nullopt;
  }
  std::vector<std::uint32_t> types;
  types.reserve(static_cast<std::size_t>(*count));
  for (int i = 0; i < *count; ++i) {
    auto type = r.u32();
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
