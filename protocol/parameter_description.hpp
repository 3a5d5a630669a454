#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace switchyard::protocol {

/// The type OID of each parameter a ParameterDescription describes, in order ("55.7 Message
/// Formats"); nullopt on a negative count, short data or trailing bytes.
std::optional<std::vector<std::uint32_t>> decode_parameter_description(
    std::span<const std::byte> body);

}  // namespace switchyard::protocol
