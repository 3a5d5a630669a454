#include "protocol/command_complete.hpp"

#include <algorithm>

#include "protocol/byte_reader.hpp"
#include "protocol/message_types.hpp"

namespace switchyard::protocol {

std::optional<std::string_view> decode_command_complete(std::span<const std::byte> body) {
  ByteReader reader(body);
  auto tag = reader.cstring();
  if (!tag || reader.remaining() != 0) {
    return std::nullopt;
  }
  return tag;
}

void encode_command_complete(MessageWriter& w, std::string_view tag) {
  w.begin_message(backend::kCommandComplete);
  w.cstring(tag);
  w.finish_message();
}

std::optional<std::string> insert_tag_as_copy(std::string_view tag) {
  constexpr std::string_view kInsert = "INSERT ";
  if (!tag.starts_with(kInsert)) {
    return std::nullopt;
  }
  const std::string_view rest = tag.substr(kInsert.size());
  const auto space = rest.find(' ');
  if (space == std::string_view::npos) {
    return std::nullopt;
  }
  const std::string_view oid = rest.substr(0, space);
  const std::string_view rows = rest.substr(space + 1);
  auto digits = [](std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!digits(oid) || !digits(rows)) {
    return std::nullopt;
  }
  return "COPY " + std::string(rows);
}

}  // namespace switchyard::protocol
