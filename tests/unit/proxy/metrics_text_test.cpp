#include "proxy/metrics_text.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>

#include "config/config.hpp"

namespace switchyard::proxy {
namespace {

// Checks the text format's line grammar and returns the samples as "name{labels}" -> value.
std::map<std::string, std::string> parse_exposition(const std::string& text) {
  static const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*)");
  static const std::regex type(
      R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped))");
  static const std::regex sample(
      R"re(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? ([-+0-9.eE]+|\+Inf|NaN))re");
  std::map<std::string, std::string> out;
  std::map<std::string, std::string> types;
  std::istringstream lines(text);
  std::string line;
  std::smatch m;
  while (std::getline(lines, line)) {
    if (std::regex_match(line, m, help)) {
      continue;
    }
    if (std::regex_match(line, m, type)) {
      EXPECT_EQ(types.count(m[1]), 0u) << "family declared twice: " << line;
      types[m[1]] = m[2];
      continue;
    }
    if (!std::regex_match(line, m, sample)) {
      ADD_FAILURE() << "not a valid exposition line: " << line;
      continue;
    }
    std::string name = m[1];
    bool declared = types.count(name) > 0;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      auto s = std::string(suffix);
      if (!declared && name.size() > s.size() && name.ends_with(s)) {
        declared = types.count(name.substr(0, name.size() - s.size())) > 0;
      }
    }
    EXPECT_TRUE(declared) << "sample without TYPE: " << line;
    auto space = line.rfind(' ');
    EXPECT_EQ(out.count(line.substr(0, space)), 0u) << "duplicate sample: " << line;
    out[line.substr(0, space)] = line.substr(space + 1);
  }
  return out;
}

std::shared_ptr<const Snapshot> snapshot_with_migration(std::string name, std::uint64_t gen) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->generation = gen;
  config::Config c;
  config::Migration m;
  m.name = std::move(name);
  m.schema = "public";
  m.table = "users";
  m.old_column = "status";
  m.new_column = "state";
  m.writes = config::Writes::both;
  m.reads = config::Reads::new_column;
  c.migrations.push_back(m);
  snapshot->config = std::make_shared<const config::Config>(std::move(c));
  return snapshot;
}

TEST(EscapeLabelValueTest, EscapesBackslashQuoteAndNewline) {
  EXPECT_EQ(escape_label_value("plain-name_1"), "plain-name_1");
  EXPECT_EQ(escape_label_value("a\"b"), "a\\\"b");
  EXPECT_EQ(escape_label_value("a\\b"), "a\\\\b");
  EXPECT_EQ(escape_label_value("a\nb"), "a\\nb");
  EXPECT_EQ(escape_label_value("\\n"), "\\\\n");
}

TEST(RenderMetricsTest, EmptyStateIsValidExposition) {
  ProxyState state;
  state.publish(snapshot_with_migration("users-status", 1));
  auto samples = parse_exposition(render_metrics(state, ReloadStatus{}));
  EXPECT_EQ(samples["switchyard_config_generation"], "1");
  EXPECT_EQ(samples["switchyard_connections_total"], "0");
  EXPECT_EQ(samples["switchyard_rewrite_cache_hits_total"], "0");
  EXPECT_EQ(samples["switchyard_query_duration_seconds_count"], "0");
  EXPECT_EQ(samples.count("switchyard_config_last_reload_success"), 0u);
}

TEST(RenderMetricsTest, CountersAppearWithTheirValues) {
  ProxyState state;
  state.publish(snapshot_with_migration("users-status", 7));
  // Two workers' blocks and the shared one: the exposition shows their sum.
  auto& m = state.metrics.worker(0);
  auto& other = state.metrics.worker(1);
  m.connections_total += 1;
  other.connections_total += 2;
  m.connections_active += 2;
  m.bytes_from_clients += 60;
  other.bytes_from_clients += 40;
  m.queries_simple += 4;
  m.queries_extended += 5;
  state.metrics.shared().reloads_ok += 6;
  state.metrics.shared().reloads_failed += 1;
  state.metrics.shared().catalog_changes += 2;
  m.count_statement("update t set a = 1");
  m.count_error_sqlstate("23505");
  rewrite::RewriteResult r;
  r.outcome = rewrite::Outcome::rewritten;
  r.uses.push_back({"users-status", 1, 2, 0, 0, true});
  r.kinds.push_back(rewrite::StatementKind::update);
  m.record_rewrite(r);
  other.record_rewrite(r);
  m.observe_query_seconds(0.002);
  other.observe_query_seconds(0.2);
  state.rewrite_cache.find(1, "ctx", "SELECT 1");  // a miss
  state.rewrite_cache.insert(1, "ctx", "SELECT 2", std::make_shared<rewrite::RewriteResult>());
  state.rewrite_cache.find(1, "ctx", "SELECT 2");  // a hit in the shared cache
  other.rewrite_cache_hits_kept += 2;              // and two from sessions' own copies

  ReloadStatus reload;
  reload.result = ReloadStatus::Result::failed;
  reload.time = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  auto samples = parse_exposition(render_metrics(state, reload));

  EXPECT_EQ(samples["switchyard_config_generation"], "7");
  EXPECT_EQ(samples["switchyard_connections_total"], "3");
  EXPECT_EQ(samples["switchyard_connections_active"], "2");
  EXPECT_EQ(samples["switchyard_bytes_received_total{from=\"client\"}"], "100");
  EXPECT_EQ(samples["switchyard_queries_total{protocol=\"simple\"}"], "4");
  EXPECT_EQ(samples["switchyard_queries_total{protocol=\"extended\"}"], "5");
  EXPECT_EQ(samples["switchyard_statements_total{kind=\"update\"}"], "1");
  EXPECT_EQ(samples["switchyard_statements_total{kind=\"select\"}"], "0");
  EXPECT_EQ(samples["switchyard_analyzed_statements_total{kind=\"update\"}"], "2");
  EXPECT_EQ(samples["switchyard_reloads_total{result=\"ok\"}"], "6");
  EXPECT_EQ(samples["switchyard_reloads_total{result=\"failed\"}"], "1");
  EXPECT_EQ(samples["switchyard_catalog_changes_total"], "2");
  EXPECT_EQ(samples["switchyard_config_last_reload_success"], "0");
  EXPECT_EQ(samples["switchyard_config_last_reload_timestamp_seconds"], "1700000000");
  EXPECT_EQ(samples["switchyard_upstream_errors_total{sqlstate_class=\"23\"}"], "1");
  EXPECT_EQ(samples["switchyard_upstream_errors_by_first_char_total{sqlstate_first_char=\"2\"}"],
            "1");
  EXPECT_EQ(samples["switchyard_rewrite_cache_misses_total"], "1");
  EXPECT_EQ(samples["switchyard_rewrite_cache_hits_total"], "3");
  EXPECT_EQ(samples["switchyard_migration_statements_total{migration=\"users-status\",outcome="
                    "\"rewritten\"}"],
            "2");
  EXPECT_EQ(samples["switchyard_migration_column_accesses_total{migration=\"users-status\","
                    "column=\"old\",access=\"write\"}"],
            "4");
  EXPECT_EQ(samples["switchyard_query_duration_seconds_count"], "2");
  EXPECT_EQ(samples["switchyard_query_duration_seconds_bucket{le=\"0.0025\"}"], "1");
  EXPECT_NEAR(std::stod(samples["switchyard_query_duration_seconds_sum"]), 0.202, 1e-9);
  EXPECT_EQ(samples["switchyard_migration_info{migration=\"users-status\",table=\"public.users\","
                    "old_column=\"status\",new_column=\"state\",writes=\"both\",reads=\"new\","
                    "on_unsupported=\"reject\"}"],
            "1");
}

TEST(RenderMetricsTest, HistogramIsCumulative) {
  ProxyState state;
  state.publish(snapshot_with_migration("m", 1));
  state.metrics.shared().observe_query_seconds(0.0001);
  state.metrics.shared().observe_query_seconds(0.003);
  state.metrics.shared().observe_query_seconds(0.003);
  state.metrics.shared().observe_query_seconds(50);
  auto samples = parse_exposition(render_metrics(state, ReloadStatus{}));
  EXPECT_EQ(samples["switchyard_query_duration_seconds_bucket{le=\"0.0005\"}"], "1");
  EXPECT_EQ(samples["switchyard_query_duration_seconds_bucket{le=\"0.0025\"}"], "1");
  EXPECT_EQ(samples["switchyard_query_duration_seconds_bucket{le=\"0.005\"}"], "3");
  EXPECT_EQ(samples["switchyard_query_duration_seconds_bucket{le=\"10\"}"], "3");
  EXPECT_EQ(samples["switchyard_query_duration_seconds_bucket{le=\"+Inf\"}"], "4");
  EXPECT_EQ(samples["switchyard_query_duration_seconds_count"], "4");
  EXPECT_NEAR(std::stod(samples["switchyard_query_duration_seconds_sum"]), 50.0061, 1e-6);
}

TEST(RenderMetricsTest, MigrationNamesAreEscapedInLabels) {
  ProxyState state;
  const std::string name = "we\"ird\\name\nhere";
  state.publish(snapshot_with_migration(name, 1));
  rewrite::RewriteResult r;
  r.outcome = rewrite::Outcome::rejected;
  r.uses.push_back({name, 0, 1, 0, 0, false});
  state.metrics.shared().record_rewrite(r);
  auto text = render_metrics(state, ReloadStatus{});
  EXPECT_NE(text.find("migration=\"we\\\"ird\\\\name\\nhere\",outcome=\"rejected\"} 1"),
            std::string::npos)
      << text;
  parse_exposition(text);  // and every line still follows the grammar
}

}  // namespace
}  // namespace switchyard::proxy
