#pragma once

#include <cstdint>

#include "protocol/byte_reader.hpp"
#include "protocol/error_response.hpp"
#include "protocol/message_types.hpp"
#include "protocol/ready_for_query.hpp"
#include "proxy/metrics.hpp"
#include "proxy/pump.hpp"

namespace switchyard::proxy {

/// What both relay directions know of the conversation. Both directions of one session run
/// on the same thread, so plain fields suffice.
struct RelayState {
  protocol::TransactionStatus status = protocol::TransactionStatus::idle;
  std::uint64_t requests_sent = 0;  // Query, Sync and FunctionCall: each earns one ReadyForQuery
  std::uint64_t ready_received = 0;
  bool in_batch = false;  // extended-protocol messages sent since the last Sync
  bool terminate_sent = false;
  bool close_at_boundary = false;  // draining: close once the transaction is over

  /// Idle between transactions with nothing in flight: where a session may adopt a new config
  /// generation or be closed by a drain (DESIGN §4).
  bool at_boundary() const {
    return status == protocol::TransactionStatus::idle && !in_batch &&
           requests_sent == ready_received;
  }
};

/// Client -> upstream.
class FrontendHandler {
 public:
  FrontendHandler(RelayState& state, Metrics& metrics) : state_(state), metrics_(metrics) {}

  bool wants(char type) const {
    namespace fe = protocol::frontend;
    return type == fe::kQuery || type == fe::kParse || type == fe::kSync || type == fe::kTerminate;
  }
  FrameAction on_frame(const protocol::Frame& frame, protocol::MessageWriter&) {
    namespace fe = protocol::frontend;
    switch (frame.type) {
      case fe::kQuery:
        ++state_.requests_sent;
        metrics_.queries_simple.fetch_add(1, std::memory_order_relaxed);
        break;
      case fe::kParse:
        state_.in_batch = true;
        metrics_.queries_extended.fetch_add(1, std::memory_order_relaxed);
        break;
      case fe::kSync:
        ++state_.requests_sent;
        state_.in_batch = false;
        break;
      case fe::kTerminate:
        state_.terminate_sent = true;
        break;
      default:
        break;
    }
    return FrameAction::forward;
  }
  void on_streamed(char type) {
    namespace fe = protocol::frontend;
    if (type == fe::kFunctionCall) {
      ++state_.requests_sent;
    } else if (type == fe::kBind || type == fe::kDescribe || type == fe::kExecute ||
               type == fe::kClose || type == fe::kFlush) {
      state_.in_batch = true;
    }
  }
  void on_bytes(std::size_t n) {
    metrics_.bytes_from_clients.fetch_add(n, std::memory_order_relaxed);
  }
  bool on_written() { return !state_.terminate_sent; }

 private:
  RelayState& state_;
  Metrics& metrics_;
};

/// Upstream -> client.
class BackendHandler {
 public:
  BackendHandler(RelayState& state, Metrics& metrics) : state_(state), metrics_(metrics) {}

  bool wants(char type) const {
    namespace be = protocol::backend;
    return type == be::kReadyForQuery || type == be::kErrorResponse;
  }
  FrameAction on_frame(const protocol::Frame& frame, protocol::MessageWriter&) {
    namespace be = protocol::backend;
    if (frame.type == be::kReadyForQuery) {
      if (auto status = protocol::decode_ready_for_query(frame.body)) {
        state_.status = *status;
      }
      ++state_.ready_received;
      if (state_.at_boundary()) {
        metrics_.transactions.fetch_add(1, std::memory_order_relaxed);
        stop_after_write_ = state_.close_at_boundary;
      }
    } else if (frame.type == be::kErrorResponse) {
      count_error(frame.body);
    }
    return FrameAction::forward;
  }
  void on_streamed(char) {}
  void on_bytes(std::size_t n) {
    metrics_.bytes_from_upstream.fetch_add(n, std::memory_order_relaxed);
  }
  bool on_written() { return !stop_after_write_; }

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
