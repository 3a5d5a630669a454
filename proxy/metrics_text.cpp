#include "proxy/metrics_text.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <tuple>
#include <utility>
#include <vector>

#ifndef SWITCHYARD_VERSION
#define SWITCHYARD_VERSION "0.0.0"
#endif

namespace switchyard::proxy {
namespace {

using Labels = std::vector<std::pair<std::string_view, std::string>>;

std::string format_double(double value) {
  if (std::isnan(value)) {
    return "NaN";
  }
  if (std::isinf(value)) {
    return value > 0 ? "+Inf" : "-Inf";
  }
  std::array<char, 64> buffer{};
  // Shortest round-trip digits; fixed notation where it stays short, so "0.0005" and Unix
  // timestamps read as people write them.
  const double magnitude = std::fabs(value);
  const bool fixed = magnitude == 0 || (magnitude >= 1e-6 && magnitude < 1e15);
  auto [end, ec] = fixed ? std::to_chars(buffer.data(), buffer.data() + buffer.size(), value,
                                         std::chars_format::fixed)
                         : std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  return ec == std::errc() ? std::string(buffer.data(), end) : "NaN";
}

double seconds_since_epoch(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// HELP text escapes only backslash and newline (the format's rule for HELP lines).
std::string escape_help(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

class Exposition {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += escape_help(help);
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  void sample(std::string_view name, const Labels& labels, std::string_view value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      bool first = true;
      for (const auto& [key, label_value] : labels) {
        if (!first) {
          out_ += ',';
        }
        first = false;
        out_ += key;
        out_ += "=\"";
        out_ += escape_label_value(label_value);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }
  void sample(std::string_view name, const Labels& labels, std::uint64_t value) {
    sample(name, labels, std::to_string(value));
  }
  void sample(std::string_view name, const Labels& labels, std::int64_t value) {
    sample(name, labels, std::to_string(value));
  }
  void sample(std::string_view name, const Labels& labels, double value) {
    sample(name, labels, format_double(value));
  }

  // A family with one unlabelled sample.
  void counter(std::string_view name, std::string_view help, const Counter& value) {
    family(name, "counter", help);
    sample(name, {}, value.load(std::memory_order_relaxed));
  }
  template <typename T>
  void gauge(std::string_view name, std::string_view help, T value) {
    family(name, "gauge", help);
    sample(name, {}, value);
  }

  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

std::uint64_t load(const Counter& counter) { return counter.load(std::memory_order_relaxed); }

char sqlstate_char(std::size_t index) {
  return static_cast<char>(index < 10 ? '0' + index : 'A' + (index - 10));
}

void render_connections(Exposition& out, const ProxyState& state, const Metrics& m) {
  out.counter("switchyard_connections_total", "Client connections accepted.", m.connections_total);
  out.gauge("switchyard_connections_active", "Client connections open now.",
            static_cast<std::int64_t>(m.connections_active.load(std::memory_order_relaxed)));
  out.counter("switchyard_connections_rejected_total",
              "Client connections closed for a protocol violation, a startup timeout or a TLS "
              "failure.",
              m.connections_rejected);
  out.gauge("switchyard_sessions_active", "Client sessions registered for draining.",
            static_cast<std::uint64_t>(state.sessions.size()));
  out.gauge("switchyard_draining", "1 while draining after SIGTERM.",
            static_cast<std::uint64_t>(state.draining() ? 1 : 0));
  out.counter("switchyard_upstream_connect_failures_total",
              "Upstream connections that could not be established.", m.upstream_connect_failures);
  out.counter("switchyard_upstream_reconnects_total",
              "Upstream connections closed before the server's first message and made again.",
              m.upstream_reconnects);
  out.counter("switchyard_cancel_requests_total", "CancelRequests received.", m.cancel_requests);
  out.family("switchyard_bytes_received_total", "counter",
             "Bytes received, by peer (client or upstream).");
  out.sample("switchyard_bytes_received_total", {{"from", "client"}}, load(m.bytes_from_clients));
  out.sample("switchyard_bytes_received_total", {{"from", "upstream"}},
             load(m.bytes_from_upstream));
}

void render_statements(Exposition& out, const Metrics& m) {
  out.family("switchyard_queries_total", "counter",
             "Query (simple protocol) and Parse (extended protocol) messages.");
  out.sample("switchyard_queries_total", {{"protocol", "simple"}}, load(m.queries_simple));
  out.sample("switchyard_queries_total", {{"protocol", "extended"}}, load(m.queries_extended));
  out.counter("switchyard_transactions_total",
              "Transactions ended (ReadyForQuery idle after work).", m.transactions);

  out.family("switchyard_statements_total", "counter",
             "Statements by kind, from the first keyword of every Query and Parse.");
  for (std::size_t i = 0; i < kStatementClasses; ++i) {
    out.sample("switchyard_statements_total",
               {{"kind", std::string(to_string(static_cast<StatementClass>(i)))}},
               load(m.statements_by_kind[i]));
  }
  out.family("switchyard_analyzed_statements_total", "counter",
             "Statements parsed by the rewrite engine (their text names a mapped table), by kind.");
  for (std::size_t i = 0; i < kRewriteStatementKinds; ++i) {
    out.sample("switchyard_analyzed_statements_total",
               {{"kind", std::string(to_string(static_cast<rewrite::StatementKind>(i)))}},
               load(m.analyzed_by_kind[i]));
  }
  out.counter("switchyard_statements_rewritten_total", "Statement texts forwarded rewritten.",
              m.statements_rewritten);
  out.counter("switchyard_statements_rejected_total",
              "Statements refused because a migration cannot rewrite them (SQLSTATE 0A000).",
              m.statements_rejected);
  out.counter("switchyard_statements_passthrough_total",
              "Unsupported statements forwarded unchanged (on_unsupported = passthrough).",
              m.statements_passthrough);
  out.counter("switchyard_statements_reprepared_total",
              "Named prepared statements prepared again after a flip changed their rewrite.",
              m.statements_reprepared);
  out.counter("switchyard_result_type_refusals_total",
              "Binds refused (SQLSTATE 0A000, cached plan must not change result type) because a "
              "result column they ask for in binary changed type when a flip prepared the "
              "statement again.",
              m.result_type_refusals);
  out.counter("switchyard_settle_waits_total",
              "Statements naming a mapped table held until the answers to earlier pipelined "
              "requests that change the search_path, role or prepared statements came.",
              m.settle_waits);
}

void render_migrations(Exposition& out, const ProxyState& state, const Metrics& total) {
  const auto entries = total.migrations.entries();
  out.family("switchyard_migration_statements_total", "counter",
             "Statements touching a migration, by outcome (rewritten, rejected, passthrough), at "
             "each execution: a prepared statement at each Bind or EXECUTE.");
  for (const auto* c : entries) {
    for (auto [outcome, counter] :
         {std::pair<std::string_view, const Counter*>{"rewritten", &c->statements_rewritten},
          {"rejected", &c->statements_rejected},
          {"passthrough", &c->statements_passthrough}}) {
      out.sample("switchyard_migration_statements_total",
                 {{"migration", c->name}, {"outcome", std::string(outcome)}}, load(*counter));
    }
  }
  out.family("switchyard_migration_column_accesses_total", "counter",
             "References to the old and new column in the application's SQL, before rewriting, "
             "at each execution. Reads of the old column at zero: no client reads it any more.");
  for (const auto* c : entries) {
    using Row = std::tuple<std::string_view, std::string_view, const Counter*>;
    for (auto [column, access, counter] :
         {Row{"old", "read", &c->reads_of_old}, Row{"old", "write", &c->writes_of_old},
          Row{"new", "read", &c->reads_of_new}, Row{"new", "write", &c->writes_of_new}}) {
      out.sample("switchyard_migration_column_accesses_total",
                 {{"migration", c->name},
                  {"column", std::string(column)},
                  {"access", std::string(access)}},
                 load(*counter));
    }
  }
  out.family("switchyard_migration_info", "gauge",
             "The effective flags of each migration of the running config (value 1).");
  if (auto snapshot = state.snapshot(); snapshot && snapshot->config) {
    for (const auto& m : snapshot->config->migrations) {
      out.sample("switchyard_migration_info",
                 {{"migration", m.name},
                  {"table", m.schema + "." + m.table},
                  {"old_column", m.old_column},
                  {"new_column", m.new_column},
                  {"writes", std::string(config::to_string(m.writes))},
                  {"reads", std::string(config::to_string(m.reads))},
                  {"on_unsupported", std::string(config::to_string(m.on_unsupported))}},
                 std::uint64_t{1});
    }
  }
  out.family("switchyard_migration_warnings", "gauge",
             "Warnings of the running config per migration: defaults that disagree, objects in "
             "the database that rely on an old column no longer written (see /config).");
  if (auto snapshot = state.snapshot(); snapshot && snapshot->config) {
    for (const auto& m : snapshot->config->migrations) {
      const auto count =
          std::count_if(snapshot->warnings.begin(), snapshot->warnings.end(),
                        [&](const ConfigWarning& w) { return w.migration == m.name; });
      out.sample("switchyard_migration_warnings", {{"migration", m.name}},
                 static_cast<std::uint64_t>(count));
    }
  }
}

void render_latency(Exposition& out, const LatencyHistogram& histogram) {
  constexpr std::string_view name = "switchyard_query_duration_seconds";
  out.family(name, "histogram", "Query latency through the proxy, in seconds.");
  auto sample = histogram.sample();
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < LatencyHistogram::kBounds.size(); ++i) {
    cumulative += sample.buckets[i];
    out.sample("switchyard_query_duration_seconds_bucket",
               {{"le", format_double(LatencyHistogram::kBounds[i])}}, cumulative);
  }
  out.sample("switchyard_query_duration_seconds_bucket", {{"le", "+Inf"}}, sample.count);
  out.sample("switchyard_query_duration_seconds_sum", {}, sample.sum_seconds);
  out.sample("switchyard_query_duration_seconds_count", {}, sample.count);
}

void render_errors(Exposition& out, const Metrics& m) {
  out.family("switchyard_upstream_errors_total", "counter",
             "Upstream ErrorResponses by SQLSTATE class (its first two characters).");
  for (std::size_t i = 0; i < m.upstream_errors_by_sqlstate_class.size(); ++i) {
    auto value = load(m.upstream_errors_by_sqlstate_class[i]);
    if (value > 0) {
      std::string label{sqlstate_char(i / 36), sqlstate_char(i % 36)};
      out.sample("switchyard_upstream_errors_total", {{"sqlstate_class", label}}, value);
    }
  }
  out.family("switchyard_upstream_errors_by_first_char_total", "counter",
             "Upstream ErrorResponses by the first character of the SQLSTATE.");
  for (std::size_t i = 0; i < m.upstream_errors_by_class.size(); ++i) {
    auto value = load(m.upstream_errors_by_class[i]);
    if (value > 0) {
      out.sample("switchyard_upstream_errors_by_first_char_total",
                 {{"sqlstate_first_char", std::string(1, sqlstate_char(i))}}, value);
    }
  }
}

void render_config(Exposition& out, const ProxyState& state, const Metrics& m,
                   const ReloadStatus& last_reload) {
  out.gauge("switchyard_config_generation", "Generation of the running config (1 at start).",
            m.config_generation.load(std::memory_order_relaxed));
  out.gauge("switchyard_sessions_on_old_generation",
            "Client sessions with work begun under other migration flags than the running "
            "config's (a transaction, or a statement, COPY or batch not yet answered): they keep "
            "those until it ends, and a backfill started meanwhile leaves behind what they write "
            "to the old column.",
            m.open_transactions.older_than(state.flags_generation()).sessions);
  out.family("switchyard_reloads_total", "counter", "Config reloads by result.");
  out.sample("switchyard_reloads_total", {{"result", "ok"}}, load(m.reloads_ok));
  out.sample("switchyard_reloads_total", {{"result", "failed"}}, load(m.reloads_failed));
  out.family("switchyard_catalog_changes_total", "counter",
             "Catalog checks that found DDL made on another connection.");
  out.sample("switchyard_catalog_changes_total", {}, load(m.catalog_changes));
  if (last_reload.result != ReloadStatus::Result::none) {
    out.gauge("switchyard_config_last_reload_success",
              "1 when the last reload was applied, 0 when it failed and the old config runs on.",
              static_cast<std::uint64_t>(last_reload.result == ReloadStatus::Result::ok ? 1 : 0));
    out.gauge("switchyard_config_last_reload_timestamp_seconds",
              "Unix time of the last reload attempt.", seconds_since_epoch(last_reload.time));
  }
  out.family("switchyard_rewrite_cache_hits_total", "counter",
             "Rewrite cache look-ups that found a result.");
  out.sample("switchyard_rewrite_cache_hits_total", {},
             state.rewrite_cache.hits() + load(m.rewrite_cache_hits_kept));
  out.family("switchyard_rewrite_cache_misses_total", "counter",
             "Rewrite cache look-ups that did not find the text.");
  out.sample("switchyard_rewrite_cache_misses_total", {}, state.rewrite_cache.misses());
  out.family("switchyard_rewrite_shape_hits_total", "counter",
             "Cache misses served from the rewrite of a text differing only in its constants.");
  out.sample("switchyard_rewrite_shape_hits_total", {},
             m.rewrites_from_shape.load(std::memory_order_relaxed));
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_metrics(const ProxyState& state, const ReloadStatus& last_reload) {
  Exposition out;
  out.family("switchyard_build_info", "gauge", "Switchyard version (value 1).");
  out.sample("switchyard_build_info", {{"version", SWITCHYARD_VERSION}}, std::uint64_t{1});
  const std::unique_ptr<Metrics> total = state.metrics.total();
  render_connections(out, state, *total);
  render_statements(out, *total);
  render_migrations(out, state, *total);
  render_latency(out, total->query_seconds);
  render_errors(out, *total);
  render_config(out, state, *total, last_reload);
  return out.take();
}

}  // namespace switchyard::proxy
