#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/generation_census.hpp"
#include "rewrite/result.hpp"

namespace switchyard::proxy {

using Counter = std::atomic<std::uint64_t>;

/// The kind of a statement judged by its first keyword (see classify_statement).
enum class StatementClass { select, insert, update, delete_, other };
inline constexpr std::size_t kStatementClasses = 5;
/// "select", "insert", "update", "delete", "other": the label value on /metrics.
std::string_view to_string(StatementClass kind);

/// Classifies SQL text without parsing it, cheaply enough for every Query and Parse: the first
/// keyword after whitespace, comments and opening parentheses. For `WITH` the verb after the
/// common table expressions decides (`WITH x AS (...) DELETE ...` is a delete). `TABLE` and
/// `VALUES` are selects. Only the first statement of a multi-statement text is looked at.
StatementClass classify_statement(std::string_view sql);

/// The label value for the rewrite engine's statement kinds ("select", ..., "copy", "ddl").
std::string_view to_string(rewrite::StatementKind kind);
inline constexpr std::size_t kRewriteStatementKinds = 8;

/// Counters of one migration, by the name in the config. Counts describe the application's
/// SQL as written (before rewriting): `reads_of_old` falling to zero is the sign that no
/// client reads the old column any more.
struct MigrationCounters {
  explicit MigrationCounters(std::string n) : name(std::move(n)) {}
  const std::string name;
  Counter statements_rewritten{0};
  Counter statements_rejected{0};
  Counter statements_passthrough{0};  // unsupported, forwarded per on_unsupported = passthrough
  Counter reads_of_old{0};
  Counter writes_of_old{0};
  Counter reads_of_new{0};
  Counter writes_of_new{0};
};

/// Per-migration counters, created on first use and never removed (a migration dropped from
/// the config keeps its series, as Prometheus counters should). Finding an existing entry takes
/// no lock: entries are published in an append-only array of atomic pointers.
class MigrationCounterTable {
 public:
  static constexpr std::size_t kCapacity = 256;

  MigrationCounterTable() = default;
  MigrationCounterTable(const MigrationCounterTable&) = delete;
  MigrationCounterTable& operator=(const MigrationCounterTable&) = delete;

  /// The counters of `name`; past kCapacity names, one shared entry named "(other)".
  MigrationCounters& get(std::string_view name);
  /// The entries in order of first use (the "(other)" entry last, when used).
  std::vector<const MigrationCounters*> entries() const;

 private:
  const MigrationCounters* find(std::string_view name, std::size_t from, std::size_t to) const;

  std::array<std::atomic<MigrationCounters*>, kCapacity> slots_{};
  std::atomic<std::size_t> size_{0};
  std::mutex insert_mutex_;                                // taken only to add a name
  std::vector<std::unique_ptr<MigrationCounters>> owned_;  // guarded by insert_mutex_
  MigrationCounters overflow_{"(other)"};
  std::atomic<bool> overflow_used_{false};
};

/// A latency histogram with fixed buckets; observe() is a few relaxed atomic adds.
class LatencyHistogram {
 public:
  /// Upper bounds in seconds; a last, implicit bucket is +Inf.
  static constexpr std::array<double, 14> kBounds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  struct Sample {
    std::array<std::uint64_t, kBounds.size() + 1> buckets{};  // not cumulative; last is +Inf
    std::uint64_t count = 0;                                  // the sum of buckets
    double sum_seconds = 0;
  };

  void observe(double seconds);
  /// The counts at one moment (each bucket read once; count is their sum, so it always
  /// equals the +Inf bucket of the rendered, cumulative form).
  Sample sample() const;
  /// Adds this histogram's counts into `total`.
  void add_to(LatencyHistogram& total) const;

 private:
  std::array<Counter, kBounds.size() + 1> buckets_{};
  Counter sum_nanoseconds_{0};
};

/// Counters of one block: each worker thread writes its own, and another block serves the
/// threads that are not workers (MetricsShards); a scrape adds them up (add_to), so a counter
/// added here must be added there too. Relaxed atomics: each is read alone, at scrape time.
/// Aligned to a cache line so that one block's last counters and the next block's first,
/// allocated next to each other, never share a line.
struct alignas(64) Metrics {
  using Counter = proxy::Counter;
  Counter connections_total{0};
  std::atomic<std::int64_t> connections_active{0};
  Counter connections_rejected{0};  // protocol violations, startup timeouts, TLS failures
  Counter upstream_connect_failures{0};
  Counter upstream_reconnects{0};  // closed before the server's first message, made again
  Counter cancel_requests{0};
  Counter bytes_from_clients{0};
  Counter bytes_from_upstream{0};
  Counter queries_simple{0};    // Query messages
  Counter queries_extended{0};  // Parse messages
  Counter transactions{0};      // ReadyForQuery 'I' after work
  Counter statements_rewritten{0};
  // Rewrites made from the rewrite of an earlier text of the same literal shape, without a parse.
  Counter rewrites_from_shape{0};
  // Rewrite cache hits served from a session's own copy of an entry (SessionRewrite's recent
  // texts): counted here rather than on the shared cache, whose counter every worker would bump.
  Counter rewrite_cache_hits_kept{0};
  Counter statements_rejected{0};
  Counter statements_reprepared{0};  // named statements prepared again after a flip
  // Binds refused because a result column they ask for in binary changed type at a re-prepare.
  Counter result_type_refusals{0};
  // Statements held until earlier requests that change the path or role were answered.
  Counter settle_waits{0};
  Counter statements_passthrough{0};  // unsupported, forwarded per on_unsupported = passthrough
  // Upstream ErrorResponses by the first character of the SQLSTATE, '0'..'9','A'..'Z'.
  std::array<Counter, 36> upstream_errors_by_class{};
  // By the SQLSTATE class proper (its first two characters), filled by count_error_sqlstate.
  std::array<Counter, 36 * 36> upstream_errors_by_sqlstate_class{};
  Counter reloads_ok{0};
  Counter reloads_failed{0};
  // Catalog checks that found DDL made on another connection (CatalogWatch).
  Counter catalog_changes{0};
  std::atomic<std::uint64_t> config_generation{0};

  /// Every Query/Parse statement by kind (count_statement).
  std::array<Counter, kStatementClasses> statements_by_kind{};
  /// Statements the rewrite engine analysed (their text named a mapped table), by kind.
  std::array<Counter, kRewriteStatementKinds> analyzed_by_kind{};
  MigrationCounterTable migrations;
  /// Transaction blocks open now, by config generation (BackendHandler, at ReadyForQuery).
  GenerationCensus open_transactions;
  /// Query latency as the session measures it (observe_query_seconds).
  LatencyHistogram query_seconds;

  /// Index 0..35 of '0'..'9','A'..'Z'; -1 for anything else.
  static int sqlstate_char_index(char c) {
    return c >= '0' && c <= '9' ? c - '0' : (c >= 'A' && c <= 'Z' ? 10 + c - 'A' : -1);
  }

  void count_error_class(char c) {
    int index = sqlstate_char_index(c);
    if (index >= 0) {
      upstream_errors_by_class[static_cast<std::size_t>(index)].fetch_add(
          1, std::memory_order_relaxed);
    }
  }

  /// Counts an upstream ErrorResponse by its SQLSTATE: by class (two characters) and, like
  /// count_error_class, by first character. Call one of the two per error, not both.
  void count_error_sqlstate(std::string_view sqlstate);

  /// Per-migration counters from `result.uses` (unless `uses` is false: a prepared statement
  /// counts them at each execution, record_uses) and analysed statements by kind from
  /// `result.kinds`. Call it once per analysed statement text with its final result;
  /// `needs_catalog` results are ignored (the retry's result is the one to record). The
  /// process-wide statements_rewritten/rejected/passthrough stay the caller's to count.
  void record_rewrite(const rewrite::RewriteResult& result, bool uses = true);
  /// The per-migration counters of `result.uses` alone: what record_rewrite counts once per
  /// statement text, at each execution of a prepared statement (its Bind or EXECUTE).
  void record_uses(const rewrite::RewriteResult& result);

  /// Counts any statement text by kind (classify_statement); cheap, no parse.
  void count_statement(std::string_view sql) {
    statements_by_kind[static_cast<std::size_t>(classify_statement(sql))].fetch_add(
        1, std::memory_order_relaxed);
  }

  void observe_query_seconds(double seconds) { query_seconds.observe(seconds); }

  /// Adds every counter of this block into `total`, each read once. connections_active adds up
  /// too (a session counts itself in and out of the same block); config_generation is the
  /// larger of the two, since only one block holds it.
  void add_to(Metrics& total) const;
};

}  // namespace switchyard::proxy
