#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>

namespace switchyard::protocol {

/// Largest accepted length field of a regular message, exclusive. PostgreSQL
/// itself caps most messages at 1 GB (PQ_LARGE_MESSAGE_LIMIT); anything at or
/// above this is treated as a corrupt stream rather than a huge message.
inline constexpr std::uint32_t kMaxMessageLength = 1u << 30;
/// Largest accepted length field of a startup packet, inclusive, as PostgreSQL's
/// MAX_STARTUP_PACKET_LENGTH.
inline constexpr std::uint32_t kMaxStartupLength = 10000;
/// A regular message's header: the type byte and the Int32 length.
inline constexpr std::size_t kTypedHeaderSize = 5;
/// The smallest length field of a regular message: the length field alone.
inline constexpr std::uint32_t kMinTypedLength = 4;

/// Why the bytes at the start of a buffer cannot start a valid frame. Each one
/// means the stream is out of sync and the connection has to be closed.
enum class FrameError {
  length_too_small,
  length_too_large,
  /// A type byte of 0, which no message has; it is rejected because Header and
  /// Frame use type 0 to mean a startup packet, which has no type byte.
  invalid_type,
};

/// A short, stable description for logs.
std::string_view to_string(FrameError e);

/// Not enough bytes yet: the buffer must hold at least `total` bytes from its start.
struct NeedMore {
  std::size_t total;
};

/// The first bytes of a message ("55.7 Message Formats": Byte1 type, Int32 length).
struct Header {
  char type;             ///< 0 for a startup-phase packet, which has no type byte
  std::uint32_t length;  ///< the wire length field, which counts itself

  /// Bytes the whole frame occupies: 1 + length when typed, length for startup.
  std::size_t frame_size() const { return type == 0 ? length : std::size_t{1} + length; }
  /// Bytes after the length field.
  std::size_t body_size() const { return std::size_t{length} - 4; }
};

/// One complete message. `body` points into the buffer given to the framer.
struct Frame {
  char type;                        ///< 0 for a startup-phase packet
  std::span<const std::byte> body;  ///< the bytes after the length field
  std::size_t size;                 ///< bytes consumed from the buffer
};

using HeaderResult = std::variant<Header, NeedMore, FrameError>;
using FrameResult = std::variant<Frame, NeedMore, FrameError>;

/// The header of a regular message at the start of `data` when its five bytes are there and
/// valid (the checks of peek_header); nullopt otherwise, and peek_header says why. Inline and
/// without peek_header's variant: the relay walks every message of a result with it, and a
/// walk through the variant took twice as long per message (bench/RESULTS.md, 2026-11-30).
inline std::optional<Header> whole_header(std::span<const std::byte> data,
                                          std::uint32_t max_length = kMaxMessageLength) {
  if (data.size() < kTypedHeaderSize) {
    return std::nullopt;
  }
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  // Unsigned, so that a "negative" Int32 is simply too large.
  const std::uint32_t length = (std::uint32_t{bytes[1]} << 24) | (std::uint32_t{bytes[2]} << 16) |
                               (std::uint32_t{bytes[3]} << 8) | std::uint32_t{bytes[4]};
  if (bytes[0] == 0 || length < kMinTypedLength || length >= max_length) {
    return std::nullopt;
  }
  return Header{static_cast<char>(bytes[0]), length};
}

/// Reads the header of a regular message at the start of `data`: a non-zero type
/// byte and a length that must be at least 4 and below `max_length`.
HeaderResult peek_header(std::span<const std::byte> data,
                         std::uint32_t max_length = kMaxMessageLength);

/// Cuts the regular message at the start of `data` once it is complete.
FrameResult next_frame(std::span<const std::byte> data,
                       std::uint32_t max_length = kMaxMessageLength);

/// The type of the last message in `data` when `data` is whole regular messages, from its
/// first byte to its last; nullopt when it ends inside one or holds a malformed header.
std::optional<char> last_frame_type(std::span<const std::byte> data);

/// Cuts the startup-phase packet (StartupMessage, SSLRequest, GSSENCRequest,
/// CancelRequest) at the start of `data`: a length of at least 8 (the length and a
/// request code) and at most kMaxStartupLength. The frame's type is 0.
FrameResult next_startup_frame(std::span<const std::byte> data);

}  // namespace switchyard::protocol
