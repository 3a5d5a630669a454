#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include "protocol/message_writer.hpp"

namespace switchyard::protocol {

/// Query, the simple query protocol ("55.7 Message Formats", "55.2.2 Simple Query").
/// `sql` points into the decoded body.
struct Query {
  std::string_view sql;

  bool operator==(const Query&) const = default;
};

/// Decodes a Query body: one String and nothing after it.
std::optional<Query> decode_query(std::span<const std::byte> body);
/// Writes a complete Query. `sql` must not contain NUL.
void encode_query(MessageWriter& w, std::string_view sql);

}  // namespace switchyard::protocol
