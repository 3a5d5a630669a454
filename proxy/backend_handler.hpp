#pragma once

#include "protocol/byte_reader.hpp"
#include "protocol/message_types.hpp"
#include "proxy/metrics.hpp"
#include "proxy/pump.hpp"
#include "proxy/relay_state.hpp"

namespace switchyard::proxy {

/// Upstream -> client: tracks transaction state from ReadyForQuery, counts errors by class,
/// hides answers to statements Switchyard injected, stops at a boundary when draining.
class BackendHandler {
 public:
  BackendHandler(RelayState& state, Metrics& metrics) : state_(state), metrics_(metrics) {}

  bool wants(char type) const {
    namespace be = protocol::backend;
    return type == be::kReadyForQuery || type == be::kErrorResponse ||
           type == be::kCopyInResponse || type == be::kCopyBothResponse;
  }
  FrameAction on_frame(const protocol::Frame& frame, protocol::MessageWriter&) {
    namespace be = protocol::backend;
    state_.tracker.on_backend(frame.type, frame.body);
    if (frame.type == be::kReadyForQuery) {
      if (state_.ready_to_drop > 0) {
        --state_.ready_to_drop;
        return FrameAction::drop;
      }
      if (state_.at_boundary()) {
        metrics_.transactions.fetch_add(1, std::memory_order_relaxed);
        stop_after_write_ = state_.close_at_boundary;
      }
    } else if (frame.type == be::kErrorResponse) {
      count_error(frame.body);
    }
    return FrameAction::forward;
  }
  void on_streamed(char type) { state_.tracker.on_backend(type, {}); }
  void on_bytes(std::size_t n) {
    metrics_.bytes_from_upstream.fetch_add(n, std::memory_order_relaxed);
  }
  bool on_written() { return !stop_after_write_; }
  net::awaitable<void> complete() { co_return; }

 private:
  void count_error(std::span<const std::byte> body) {
    // The SQLSTATE field ('C') is all we need; scan for it without decoding every field.
    protocol::ByteReader reader(body);
    while (auto field = reader.u8()) {
      if (*field == 0) {
        return;
      }
      auto value = reader.cstring();
      if (!value) {
        return;
      }
      if (*field == 'C' && !value->empty()) {
        metrics_.count_error_class((*value)[0]);
        return;
      }
    }
  }

  RelayState& state_;
  Metrics& metrics_;
  bool stop_after_write_ = false;
};

}  // namespace switchyard::proxy
