#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "protocol/message_writer.hpp"

namespace switchyard::protocol {

/// The tag of a CommandComplete body ("INSERT 0 5", "COPY 3"); nullopt without its terminator.
std::optional<std::string_view> decode_command_complete(std::span<const std::byte> body);
/// Writes a complete CommandComplete.
void encode_command_complete(MessageWriter& w, std::string_view tag);
/// An INSERT's tag told as a COPY's: "INSERT <oid> <rows>" becomes "COPY <rows>" (a COPY that
/// Switchyard ran as an INSERT); nullopt for any other tag.
std::optional<std::string> insert_tag_as_copy(std::string_view tag);

}  // namespace switchyard::protocol
