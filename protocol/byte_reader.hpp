#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>

namespace switchyard::protocol {

/// Bounds-checked big-endian reader over a byte span (the integer layout of the
/// PostgreSQL wire protocol, "55.6 Message Data Types").
///
/// Every accessor returns nullopt when the data is too short and then leaves the
/// position unchanged, so a failed read never consumes anything.
class ByteReader {
 public:
  /// Reads from `data`, which must outlive the reader and every view it returns.
  explicit ByteReader(std::span<const std::byte> data) : data_(data) {}

  /// Reads an unsigned byte (Byte1).
  std::optional<std::uint8_t> u8() {
    if (remaining() < 1) {
      return std::nullopt;
    }
    return static_cast<std::uint8_t>(data_[pos_++]);
  }

  /// Reads a signed byte (Int8).
  std::optional<std::int8_t> i8() {
    auto v = u8();
    if (!v) {
      return std::nullopt;
    }
    return static_cast<std::int8_t>(*v);
  }

  /// Reads a big-endian Int16.
  std::optional<std::int16_t> i16() {
    if (remaining() < 2) {
      return std::nullopt;
    }
    auto v = static_cast<std::uint16_t>((to_u32(data_[pos_]) << 8) | to_u32(data_[pos_ + 1]));
    pos_ += 2;
    return static_cast<std::int16_t>(v);
  }

  /// Reads a big-endian Int32.
  std::optional<std::int32_t> i32() {
    auto v = u32();
    if (!v) {
      return std::nullopt;
    }
    return static_cast<std::int32_t>(*v);
  }

  /// Reads a big-endian 32-bit value without a sign (message lengths).
  std::optional<std::uint32_t> u32() {
    if (remaining() < 4) {
      return std::nullopt;
    }
    std::uint32_t v = (to_u32(data_[pos_]) << 24) | (to_u32(data_[pos_ + 1]) << 16) |
                      (to_u32(data_[pos_ + 2]) << 8) | to_u32(data_[pos_ + 3]);
    pos_ += 4;
    return v;
  }

  /// Reads a String: the bytes up to a NUL, which is consumed but not returned.
  /// Returns nullopt when no NUL follows.
  std::optional<std::string_view> cstring() {
    if (remaining() == 0) {
      return std::nullopt;
    }
    const char* begin = reinterpret_cast<const char*>(data_.data()) + pos_;
    const void* nul = std::memchr(begin, 0, remaining());
    if (nul == nullptr) {
      return std::nullopt;
    }
    auto len = static_cast<std::size_t>(static_cast<const char*>(nul) - begin);
    pos_ += len + 1;
    return std::string_view(begin, len);
  }

  /// Reads exactly `n` raw bytes.
  std::optional<std::span<const std::byte>> bytes(std::size_t n) {
    if (remaining() < n) {
      return std::nullopt;
    }
    auto out = data_.subspan(pos_, n);
    pos_ += n;
    return out;
  }

  /// Bytes not yet read.
  std::size_t remaining() const { return data_.size() - pos_; }
  /// Bytes read so far.
  std::size_t position() const { return pos_; }
  /// True when every byte has been read; decoders use it to reject trailing garbage.
  bool at_end() const { return pos_ == data_.size(); }

 private:
  static std::uint32_t to_u32(std::byte b) { return static_cast<std::uint32_t>(b); }

  std::span<const std::byte> data_;
  std::size_t pos_ = 0;
};

}  // namespace switchyard::protocol
