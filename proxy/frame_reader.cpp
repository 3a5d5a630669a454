#include "proxy/frame_reader.hpp"

namespace switchyard::proxy {

awaitable<FrameReader::Result> FrameReader::next(Stream& stream, Phase phase) {
  if (consumed_ > 0) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(consumed_));
    consumed_ = 0;
  }
  for (;;) {
    std::span<const std::byte> data(buffer_);
    auto result =
        phase == Phase::startup ? protocol::next_startup_frame(data) : protocol::next_frame(data);
    if (auto* frame = std::get_if<protocol::Frame>(&result)) {
      consumed_ = frame->size;
      co_return *frame;
    }
    if (auto* error = std::get_if<protocol::FrameError>(&result)) {
      co_return Failure{{}, *error};
    }
    std::size_t want = std::get<protocol::NeedMore>(result).total;
    std::size_t have = buffer_.size();
    // Read at least what is missing, in chunks, so a large message is not read byte by byte.
    buffer_.resize(std::max(want, have + 4096));
    auto [ec, n] =
        co_await stream.read_some(net::buffer(buffer_.data() + have, buffer_.size() - have));
    buffer_.resize(have + n);
    if (ec) {
      co_return Failure{ec, std::nullopt};
    }
  }
}

}  // namespace switchyard::proxy
