#include "protocol/framer.hpp"

#include "protocol/byte_reader.hpp"

namespace switchyard::protocol {
namespace {

constexpr std::size_t kStartupHeaderSize = 4;
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
  if (auto header = whole_header(data, max_length)) {
    return *header;
  }
  if (data.size() < kTypedHeaderSize) {
    return NeedMore{kTypedHeaderSize};
  }
  ByteReader r(data);
  if (*r.u8() == 0) {
    return FrameError::invalid_type;
  }
  if (*r.u32() < kMinTypedLength) {
    return FrameError::length_too_small;
  }
  return FrameError::length_too_large;  // the one check whole_header made that is left
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

// Runs on every relay read (proxy/drained_read.hpp): headers read in place, no variant.
std::optional<char> last_frame_type(std::span<const std::byte> data) {
  std::size_t pos = 0;
  std::optional<char> last;
  while (pos < data.size()) {
    auto header = whole_header(data.subspan(pos));
    if (!header || header->frame_size() > data.size() - pos) {
      return std::nullopt;
    }
    last = header->type;
    pos += header->frame_size();
  }
  return last;
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
