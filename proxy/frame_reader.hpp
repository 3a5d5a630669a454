#pragma once

#include <cstddef>
#include <variant>
#include <vector>

#include "protocol/framer.hpp"
#include "proxy/stream.hpp"

namespace switchyard::proxy {

/// Reads whole frames from a stream during the startup and auth phases, where messages are
/// small and handled one by one. The relay phase uses the streaming pump instead.
class FrameReader {
 public:
  enum class Phase { startup, normal };

  struct Failure {
    error_code io;                              // set on I/O failure or EOF
    std::optional<protocol::FrameError> frame;  // set on a malformed length
  };
  /// A frame whose body stays valid until the next call.
  using Result = std::variant<protocol::Frame, Failure>;

  /// `max_length` bounds a regular message's declared length (a longer one is a Failure).
  awaitable<Result> next(Stream& stream, Phase phase,
                         std::uint32_t max_length = protocol::kMaxMessageLength);

  /// Bytes received after the last returned frame (a client that pipelines).
  std::span<const std::byte> leftover() const {
    return {buffer_.data() + consumed_, held_ - consumed_};
  }
  bool has_leftover() const { return consumed_ < held_; }
  /// Frees the buffer; what was left over is dropped.
  void release() {
    // Not `buffer_ = {}`: that is the initializer-list assignment, which keeps the capacity
    // (4 KiB and more per reader, held for the whole life of an idle session).
    std::vector<std::byte>().swap(buffer_);
    held_ = 0;
    consumed_ = 0;
  }

 private:
  static constexpr std::size_t kReadChunk = 4096;

  std::vector<std::byte> buffer_;  // its first held_ bytes are read; the rest is room
  std::size_t held_ = 0;
  std::size_t consumed_ = 0;
};

}  // namespace switchyard::proxy
