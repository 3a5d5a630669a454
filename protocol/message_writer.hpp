#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace switchyard::protocol {

/// Appends wire messages to a growing buffer, in the manner of PgBouncer's
/// pktbuf: the length field is written as a placeholder and patched by
/// finish_message(), so callers never compute lengths by hand.
///
/// Several messages may be written one after another into the same buffer;
/// messages do not nest.
class MessageWriter {
 public:
  /// Starts a typed message: the type byte and a length placeholder.
  void begin_message(char type);
  /// Starts a startup-phase message (no type byte): a length placeholder only.
  void begin_untyped();

  /// Appends a Byte1.
  void u8(std::uint8_t v);
  /// Appends a big-endian Int16.
  void i16(std::int16_t v);
  /// Appends a big-endian Int32.
  void i32(std::int32_t v);
  /// Appends a String: the text followed by a NUL. `s` must not contain NUL.
  void cstring(std::string_view s);
  /// Appends raw bytes.
  void bytes(std::span<const std::byte> b);
  /// Appends raw bytes taken from a string (no NUL is added).
  void bytes(std::string_view s);

  /// Patches the length field of the message begun last.
  void finish_message();

  /// Everything written so far.
  std::span<const std::byte> data() const { return buf_; }
  /// Number of bytes written so far.
  std::size_t size() const { return buf_.size(); }
  /// Forgets everything written, keeping the allocation.
  void clear();
  /// Moves the buffer out and leaves the writer empty.
  std::vector<std::byte> take();

 private:
  static constexpr std::size_t kNoMessage = static_cast<std::size_t>(-1);

  std::vector<std::byte> buf_;
  std::size_t length_at_ = kNoMessage;  // offset of the open message's length field
};

}  // namespace switchyard::protocol
