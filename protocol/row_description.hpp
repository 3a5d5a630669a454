#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace switchyard::protocol {

/// The type OID of each column a RowDescription describes, in column order ("55.7 Message
/// Formats"). The rest of each field (name, table, type size and modifier, format) is skipped:
/// what a client decodes a value with is its type.
std::optional<std::vector<std::uint32_t>> decode_row_description_types(
    std::span<const std::byte> body);

}  // namespace switchyard::protocol
