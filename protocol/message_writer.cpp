#include "protocol/message_writer.hpp"

#include <algorithm>
#include <cassert>

namespace switchyard::protocol {

void MessageWriter::begin_message(char type) {
  assert(length_at_ == kNoMessage && "finish_message() the previous message first");
  append(1)[0] = static_cast<std::byte>(type);
  begin_untyped();
}

void MessageWriter::begin_untyped() {
  length_at_ = size_;
  i32(0);
}

void MessageWriter::u8(std::uint8_t v) { append(1)[0] = static_cast<std::byte>(v); }

void MessageWriter::i16(std::int16_t v) { put_i16(append(2).data(), v); }

void MessageWriter::i32(std::int32_t v) { put_i32(append(4).data(), v); }

void MessageWriter::cstring(std::string_view s) {
  assert(s.find('\0') == std::string_view::npos && "a wire String cannot hold NUL");
  put_cstring(append(s.size() + 1).data(), s);
}

void MessageWriter::bytes(std::span<const std::byte> b) { put_bytes(append(b.size()).data(), b); }

void MessageWriter::bytes(std::string_view s) {
  bytes(std::as_bytes(std::span(s.data(), s.size())));
}

void MessageWriter::finish_message() {
  assert(length_at_ != kNoMessage && "finish_message() without begin_message()");
  put_i32(buf_.get() + length_at_, static_cast<std::int32_t>(size_ - length_at_));
  length_at_ = kNoMessage;
}

void MessageWriter::grow(std::size_t n) {
  constexpr std::size_t kFirstCapacity = 256;
  const std::size_t capacity = std::max({size_ + n, capacity_ * 2, kFirstCapacity});
  auto grown = std::make_unique_for_overwrite<std::byte[]>(capacity);
  if (size_ > 0) {
    std::memcpy(grown.get(), buf_.get(), size_);
  }
  buf_ = std::move(grown);
  capacity_ = capacity;
}

void MessageWriter::clear() {
  size_ = 0;
  length_at_ = kNoMessage;
}

std::vector<std::byte> MessageWriter::take() {
  std::vector<std::byte> out(buf_.get(), buf_.get() + size_);
  buf_.reset();
  size_ = 0;
  capacity_ = 0;
  length_at_ = kNoMessage;
  return out;
}

}  // namespace switchyard::protocol
