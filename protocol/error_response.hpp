#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "protocol/message_writer.hpp"

namespace switchyard::protocol {

/// The fields of an ErrorResponse or NoticeResponse ("55.7 Message Formats",
/// "55.8 Error and Notice Message Fields").
struct Notice {
  /// Field 'V' (never localized) when present, else field 'S'.
  std::string severity = "ERROR";
  std::string code;     ///< field 'C', the SQLSTATE
  std::string message;  ///< field 'M'
  std::string detail;   ///< field 'D', "" when absent
  std::string hint;     ///< field 'H', "" when absent
  /// Every other field (position, where, schema, ...) in wire order.
  std::vector<std::pair<char, std::string>> other;

  bool operator==(const Notice&) const = default;
};

/// Decodes the body of an ErrorResponse or NoticeResponse. A localized 'S' that
/// differs from 'V' is not kept: the English severity is what code compares.
std::optional<Notice> decode_notice(std::span<const std::byte> body);

/// Writes a complete ErrorResponse. Both 'S' and 'V' carry `n.severity`; 'D' and
/// 'H' are written only when non-empty.
void encode_error_response(MessageWriter& w, const Notice& n);
/// Writes a complete NoticeResponse, laid out as encode_error_response().
void encode_notice_response(MessageWriter& w, const Notice& n);

}  // namespace switchyard::protocol
