#include "protocol/framer.hpp"

#include "protocol/byte_reader.hpp"

namespace switchyard::protocol {
namespace {

constexpr std::size_t kTypedHeaderSize = 5;
constexpr std::size_t kStartupHeaderSize = 4;
constexpr std::uint32_t kMinTypedLength = 4;    // the length field alone
constexpr std::uint32_t kMinStartupLength = 8;  // the length field and a request code

}  // namespace

std::string_view to_string(FrameError e) {
  switch (e) {
    case FrameError::length_too_small:
      return "message length too small";
    case FrameError::length_too_large:
      return "message length too large";
    case FrameError::invalid_type:
      return "invalid message type 0";
  }
  return "unknown frame error";
}

HeaderResult peek_header(std::span<const std::byte> data, std::uint32_t max_length) {
  if (data.size() < kTypedHeaderSize) {
    return NeedMore{kTypedHeaderSize};
  }
  ByteReader r(data);
  auto type = static_cast<char>(*r.u8());
  // The length is read unsigned so that a "negative" Int32 is simply too large.
  std::uint32_t length = *r.u32();
  if (type == 0) {
    return FrameError::invalid_type;
  }
  if (length < kMinTypedLength) {
    return FrameError::length_too_small;
  }
  if (length >= max_length) {
    return FrameError::length_too_large;
  }
  return Header{type, length};
}

FrameResult next_frame(std::span<const std::byte> data, std::uint32_t max_length) {
  HeaderResult h = peek_header(data, max_length);
  if (auto* need = std::get_if<NeedMore>(&h)) {
    return *need;
  }
  if (auto* err = std::get_if<FrameError>(&h)) {
    return *err;
  }
  const Header& header = std::get<Header>(h);
  if (data.size() < header.frame_size()) {
    return NeedMore{header.frame_size()};
  }
  return Frame{header.type, data.subspan(kTypedHeaderSize, header.body_size()),
               header.frame_size()};
}

// Runs on every relay read (proxy/drained_read.hpp), so it reads each header in place instead
// of through peek_header's result variant: a few instructions per message.
std::optional<char> last_frame_type(std::span<const std::byte> data) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  const std::size_t size = data.size();
  std::size_t pos = 0;
  unsigned char last = 0;
  while (size - pos >= kTypedHeaderSize) {
    const unsigned char* header = bytes + pos;
    const std::uint32_t length = (std::uint32_t{header[1]} << 24) |
                                 (std::uint32_t{header[2]} << 16) |
                                 (std::uint32_t{header[3]} << 8) | std::uint32_t{header[4]};
    if (header[0] == 0 || length < kMinTypedLength || length >= kMaxMessageLength) {
      return std::nullopt;
    }
    last = header[0];
    pos += 1 + std::size_t{length};
    if (pos > size) {
      return std::nullopt;
    }
  }
  if (pos != size || last == 0) {
    return std::nullopt;
  }
  return static_cast<char>(last);
}

FrameResult next_startup_frame(std::span<const std::byte> data) {
  if (data.size() < kStartupHeaderSize) {
    return NeedMore{kStartupHeaderSize};
  }
  ByteReader r(data);
  std::uint32_t length = *r.u32();
  if (length < kMinStartupLength) {
    return FrameError::length_too_small;
  }
  if (length > kMaxStartupLength) {
    return FrameError::length_too_large;
  }
  if (data.size() < length) {
    return NeedMore{length};
  }
  return Frame{0, data.subspan(kStartupHeaderSize, length - kStartupHeaderSize), length};
}

}  // namespace switchyard::protocol
