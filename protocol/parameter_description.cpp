#include "protocol/parameter_description.hpp"

#include "protocol/type_list.hpp"

namespace switchyard::protocol {

std::optional<std::vector<std::uint32_t>> decode_parameter_description(
    std::span<const std::byte> body) {
  return decode_type_list(body, [](ByteReader& r) { return r.u32(); });
}

}  // namespace switchyard::protocol
