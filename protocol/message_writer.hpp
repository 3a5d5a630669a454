#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
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

  /// Appends `n` bytes of room, not yet written, and returns it: for an encoder that knows a
  /// whole message's size and fills it in one pass (put_i32, put_cstring) instead of field by
  /// field, each field growing the buffer.
  std::span<std::byte> append(std::size_t n) {
    if (capacity_ - size_ < n) {
      grow(n);
    }
    std::byte* at = buf_.get() + size_;
    size_ += n;
    return {at, n};
  }

  /// Patches the length field of the message begun last.
  void finish_message();

  /// Everything written so far.
  std::span<const std::byte> data() const { return {buf_.get(), size_}; }
  /// Number of bytes written so far.
  std::size_t size() const { return size_; }
  /// Forgets everything written, keeping the allocation.
  void clear();
  /// Returns everything written and leaves the writer empty.
  std::vector<std::byte> take();

 private:
  static constexpr std::size_t kNoMessage = static_cast<std::size_t>(-1);

  /// Makes room for `n` more bytes, keeping what is written.
  void grow(std::size_t n);

  // Not a std::vector: growing one fills the new bytes with zeros, and every byte appended
  // here is written at once anyway. A relay encodes a message per rewritten statement.
  std::unique_ptr<std::byte[]> buf_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
  std::size_t length_at_ = kNoMessage;  // offset of the open message's length field
};

/// Writes the big-endian Int16 `v` at `at`; returns the byte after it.
inline std::byte* put_i16(std::byte* at, std::int16_t v) {
  auto u = static_cast<std::uint16_t>(v);
  at[0] = static_cast<std::byte>(u >> 8);
  at[1] = static_cast<std::byte>(u & 0xff);
  return at + 2;
}

/// Writes the big-endian Int32 `v` at `at`; returns the byte after it.
inline std::byte* put_i32(std::byte* at, std::int32_t v) {
  auto u = static_cast<std::uint32_t>(v);
  at[0] = static_cast<std::byte>(u >> 24);
  at[1] = static_cast<std::byte>((u >> 16) & 0xff);
  at[2] = static_cast<std::byte>((u >> 8) & 0xff);
  at[3] = static_cast<std::byte>(u & 0xff);
  return at + 4;
}

/// Writes `bytes` at `at`; returns the byte after them.
inline std::byte* put_bytes(std::byte* at, std::span<const std::byte> bytes) {
  if (!bytes.empty()) {
    std::memcpy(at, bytes.data(), bytes.size());
  }
  return at + bytes.size();
}

/// Writes the String `s` (its bytes and a NUL) at `at`; returns the byte after it.
inline std::byte* put_cstring(std::byte* at, std::string_view s) {
  at = put_bytes(at, std::as_bytes(std::span(s.data(), s.size())));
  *at = std::byte{0};
  return at + 1;
}

}  // namespace switchyard::protocol
