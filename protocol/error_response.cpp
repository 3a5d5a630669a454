#include "protocol/error_response.hpp"

#include "protocol/byte_reader.hpp"
#include "protocol/message_types.hpp"

namespace switchyard::protocol {
namespace {

void encode_fields(MessageWriter& w, char type, const Notice& n) {
  w.begin_message(type);
  w.u8('S');
  w.cstring(n.severity);
  w.u8('V');
  w.cstring(n.severity);
  w.u8('C');
  w.cstring(n.code);
  w.u8('M');
  w.cstring(n.message);
  if (!n.detail.empty()) {
    w.u8('D');
    w.cstring(n.detail);
  }
  if (!n.hint.empty()) {
    w.u8('H');
    w.cstring(n.hint);
  }
  for (const auto& [field, value] : n.other) {
    w.u8(static_cast<std::uint8_t>(field));
    w.cstring(value);
  }
  w.u8(0);
  w.finish_message();
}

}  // namespace

std::optional<Notice> decode_notice(std::span<const std::byte> body) {
  ByteReader r(body);
  Notice n;
  std::optional<std::string_view> localized;
  std::optional<std::string_view> english;
  for (;;) {
    auto field = r.u8();
    if (!field) {
      return std::nullopt;
    }
    if (*field == 0) {
      break;
    }
    auto value = r.cstring();
    if (!value) {
      return std::nullopt;
    }
    switch (static_cast<char>(*field)) {
      case 'S':
        localized = *value;
        break;
      case 'V':
        english = *value;
        break;
      case 'C':
        n.code = *value;
        break;
      case 'M':
        n.message = *value;
        break;
      case 'D':
        n.detail = *value;
        break;
      case 'H':
        n.hint = *value;
        break;
      default:
        n.other.emplace_back(static_cast<char>(*field), *value);
        break;
    }
  }
  if (!r.at_end()) {
    return std::nullopt;
  }
  if (english) {
    n.severity = *english;
  } else if (localized) {
    n.severity = *localized;
  }
  return n;
}

void encode_error_response(MessageWriter& w, const Notice& n) {
  encode_fields(w, backend::kErrorResponse, n);
}

void encode_notice_response(MessageWriter& w, const Notice& n) {
  encode_fields(w, backend::kNoticeResponse, n);
}

}  // namespace switchyard::protocol
