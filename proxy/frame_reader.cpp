#include "proxy/frame_reader.hpp"

#include <algorithm>
#include <cstring>

namespace switchyard::proxy {

awaitable<FrameReader::Result> FrameReader::next(Stream& stream, Phase phase,
                                                 std::uint32_t max_length) {
  if (consumed_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + consumed_, held_ - consumed_);
    held_ -= consumed_;
    consumed_ = 0;
  }
  for (;;) {
    std::span<const std::byte> data(buffer_.data(), held_);
    auto result = phase == Phase::startup ? protocol::next_startup_frame(data)
                                          : protocol::next_frame(data, max_length);
    if (auto* frame = std::get_if<protocol::Frame>(&result)) {
      consumed_ = frame->size;
      co_return *frame;
    }
    if (auto* error = std::get_if<protocol::FrameError>(&result)) {
      co_return Failure{{}, *error};
    }
    const std::size_t want = std::get<protocol::NeedMore>(result).total;
    if (held_ == buffer_.size()) {
      // Grown with the bytes that arrive (doubling), not to the length the header declares:
      // a five-byte header saying a gigabyte must not cost a gigabyte.
      buffer_.resize(std::max(buffer_.size() + kReadChunk, std::min(want, 2 * buffer_.size())));
    }
    auto [ec, n] =
        co_await stream.read_some(net::buffer(buffer_.data() + held_, buffer_.size() - held_));
    held_ += n;
    if (ec) {
      co_return Failure{ec, std::nullopt};
    }
  }
}

}  // namespace switchyard::proxy
