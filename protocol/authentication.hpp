#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/message_writer.hpp"

namespace switchyard::protocol {

/// The request code that starts the body of every Authentication* message
/// ("55.7 Message Formats"). Codes not listed here (Kerberos, SCM, GSS, SSPI)
/// still decode, as a plain int32.
enum class AuthCode : std::int32_t {
  ok = 0,
  cleartext = 3,
  md5 = 5,
  sasl = 10,
  sasl_continue = 11,
  sasl_final = 12,
};

/// Reads the request code of an Authentication* message body.
std::optional<std::int32_t> decode_auth_code(std::span<const std::byte> body);

/// The mechanism names of an AuthenticationSASL body (code 10, then a list of
/// Strings ended by an empty one). Empty when the body is not a well-formed
/// AuthenticationSASL.
std::vector<std::string> decode_sasl_mechanisms(std::span<const std::byte> body);

/// Re-encodes an AuthenticationSASL message without any "-PLUS" (channel
/// binding) mechanism, for a client whose TLS ends at the proxy and so cannot
/// bind to the server's channel. Returns the whole message, type byte
/// included; empty when `body` is not a well-formed AuthenticationSASL.
std::vector<std::byte> encode_sasl_without_plus(std::span<const std::byte> body);

/// Writes a complete AuthenticationOk.
void encode_authentication_ok(MessageWriter& w);
/// Writes a complete AuthenticationSASL offering `mechanisms` in order.
void encode_authentication_sasl(MessageWriter& w, std::span<const std::string> mechanisms);

}  // namespace switchyard::protocol
