#include "protocol/message_writer.hpp"

#include <cassert>
#include <utility>

namespace switchyard::protocol {

void MessageWriter::begin_message(char type) {
  assert(length_at_ == kNoMessage && "finish_message() the previous message first");
  buf_.push_back(static_cast<std::byte>(type));
  begin_untyped();
}

void MessageWriter::begin_untyped() {
  length_at_ = buf_.size();
  i32(0);
}

void MessageWriter::u8(std::uint8_t v) { buf_.push_back(static_cast<std::byte>(v)); }

void MessageWriter::i16(std::int16_t v) {
  auto u = static_cast<std::uint16_t>(v);
  buf_.push_back(static_cast<std::byte>(u >> 8));
  buf_.push_back(static_cast<std::byte>(u & 0xff));
}

void MessageWriter::i32(std::int32_t v) {
  auto u = static_cast<std::uint32_t>(v);
  buf_.push_back(static_cast<std::byte>(u >> 24));
  buf_.push_back(static_cast<std::byte>((u >> 16) & 0xff));
  buf_.push_back(static_cast<std::byte>((u >> 8) & 0xff));
  buf_.push_back(static_cast<std::byte>(u & 0xff));
}

void MessageWriter::cstring(std::string_view s) {
  assert(s.find('\0') == std::string_view::npos && "a wire String cannot hold NUL");
  bytes(s);
  buf_.push_back(std::byte{0});
}

void MessageWriter::bytes(std::span<const std::byte> b) {
  buf_.insert(buf_.end(), b.begin(), b.end());
}

void MessageWriter::bytes(std::string_view s) {
  auto b = std::as_bytes(std::span(s.data(), s.size()));
  buf_.insert(buf_.end(), b.begin(), b.end());
}

void MessageWriter::finish_message() {
  assert(length_at_ != kNoMessage && "finish_message() without begin_message()");
  auto len = static_cast<std::uint32_t>(buf_.size() - length_at_);
  buf_[length_at_] = static_cast<std::byte>(len >> 24);
  buf_[length_at_ + 1] = static_cast<std::byte>((len >> 16) & 0xff);
  buf_[length_at_ + 2] = static_cast<std::byte>((len >> 8) & 0xff);
  buf_[length_at_ + 3] = static_cast<std::byte>(len & 0xff);
  length_at_ = kNoMessage;
}

void MessageWriter::clear() {
  buf_.clear();
  length_at_ = kNoMessage;
}

std::vector<std::byte> MessageWriter::take() {
  std::vector<std::byte> out = std::move(buf_);
  clear();
  return out;
}

}  // namespace switchyard::protocol
