#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace switchyard::proxy {

/// Process-wide counters. Relaxed atomics: each is read alone, at scrape time.
struct Metrics {
  using Counter = std::atomic<std::uint64_t>;
  Counter connections_total{0};
  std::atomic<std::int64_t> connections_active{0};
  Counter connections_rejected{0};  // protocol violations, startup timeouts, TLS failures
  Counter upstream_connect_failures{0};
  Counter cancel_requests{0};
  Counter bytes_from_clients{0};
  Counter bytes_from_upstream{0};
  Counter queries_simple{0};    // Query messages
  Counter queries_extended{0};  // Parse messages
  Counter transactions{0};      // ReadyForQuery 'I' after work
  Counter statements_rewritten{0};
  Counter statements_rejected{0};
  Counter statements_passthrough{0};  // unsupported, forwarded per on_unsupported = passthrough
  // Upstream ErrorResponses by the first character of the SQLSTATE (class), '0'..'9','A'..'Z'.
  std::array<Counter, 36> upstream_errors_by_class{};
  Counter reloads_ok{0};
  Counter reloads_failed{0};
  std::atomic<std::uint64_t> config_generation{0};

  void count_error_class(char c) {
    int index = c >= '0' && c <= '9' ? c - '0' : (c >= 'A' && c <= 'Z' ? 10 + c - 'A' : -1);
    if (index >= 0) {
      upstream_errors_by_class[static_cast<std::size_t>(index)].fetch_add(
          1, std::memory_order_relaxed);
    }
  }
};

}  // namespace switchyard::proxy
