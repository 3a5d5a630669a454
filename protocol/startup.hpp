#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "protocol/message_writer.hpp"

namespace switchyard::protocol {

/// Protocol version 3.0 as sent in StartupMessage (major << 16 | minor).
inline constexpr std::int32_t kProtocol30 = 196608;
/// Request codes that take the place of a protocol version in the first packet.
inline constexpr std::int32_t kSslRequestCode = 80877103;     // 1234.5679
inline constexpr std::int32_t kGssEncRequestCode = 80877104;  // 1234.5680
inline constexpr std::int32_t kCancelRequestCode = 80877102;  // 1234.5678

/// StartupMessage ("55.7 Message Formats"). Any minor version of protocol 3 is
/// accepted and relayed unchanged: the server answers an unsupported minor
/// version or `_pq_.` option with NegotiateProtocolVersion itself.
struct StartupMessage {
  std::int32_t version = kProtocol30;  ///< major << 16 | minor; major must be 3
  /// Name/value pairs in wire order, including protocol options such as "_pq_.x".
  std::vector<std::pair<std::string, std::string>> parameters;

  /// The value of the first parameter called `name`, or "" when absent.
  std::string_view get(std::string_view name) const;

  bool operator==(const StartupMessage&) const = default;
};

/// SSLRequest ("55.7 Message Formats", "55.2.10 SSL Session Encryption").
struct SslRequest {
  bool operator==(const SslRequest&) const = default;
};

/// GSSENCRequest ("55.7 Message Formats", "55.2.11 GSSAPI Session Encryption").
struct GssEncRequest {
  bool operator==(const GssEncRequest&) const = default;
};

/// CancelRequest ("55.7 Message Formats", "55.2.7 Canceling Requests in Progress").
struct CancelRequest {
  std::int32_t process_id;
  std::int32_t secret_key;

  bool operator==(const CancelRequest&) const = default;
};

/// A first packet that cannot be honoured, with a reason fit for an ErrorResponse.
struct StartupDecodeError {
  std::string reason;

  bool operator==(const StartupDecodeError&) const = default;
};

using StartupPacket =
    std::variant<StartupMessage, SslRequest, GssEncRequest, CancelRequest, StartupDecodeError>;

/// Decodes the body of a startup-phase packet (the bytes after its length field,
/// as cut by next_startup_frame()).
StartupPacket decode_startup(std::span<const std::byte> body);

/// Writes a complete StartupMessage. Names and values must not contain NUL.
void encode_startup(MessageWriter& w, const StartupMessage& m);
/// Writes a complete CancelRequest.
void encode_cancel_request(MessageWriter& w, const CancelRequest& c);
/// Writes a complete SSLRequest.
void encode_ssl_request(MessageWriter& w);
/// Writes a complete GSSENCRequest.
void encode_gssenc_request(MessageWriter& w);

}  // namespace switchyard::protocol
