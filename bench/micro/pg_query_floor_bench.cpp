// What libpg_query itself costs for the corpus statements, without Switchyard: the floor under
// a rewrite cache miss. A miss parses to JSON (protobuf and its unpack when the JSON cannot be
// read with certainty), scans the tokens, and parses the rewritten text once more as a check;
// these time each step alone, for the same statement indices as BM_CacheMiss. Deparse is the
// road not taken (the engine edits the text instead).

#include <benchmark/benchmark.h>
#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include "bench/micro/oltp_corpus.hpp"

namespace {

using switchyard::bench::kTouching;

const char* corpus_statement(const benchmark::State& state) {
  return kTouching.at(static_cast<std::size_t>(state.range(0)));
}

void BM_PgQueryParseProtobuf(benchmark::State& state) {
  const char* sql = corpus_statement(state);
  for (auto _ : state) {
    PgQueryProtobufParseResult result = pg_query_parse_protobuf(sql);
    benchmark::DoNotOptimize(result.parse_tree.len);
    pg_query_free_protobuf_parse_result(result);
  }
}
BENCHMARK(BM_PgQueryParseProtobuf)->DenseRange(0, static_cast<int>(kTouching.size()) - 1);

void BM_PgQueryParseJson(benchmark::State& state) {
  const char* sql = corpus_statement(state);
  for (auto _ : state) {
    PgQueryParseResult result = pg_query_parse(sql);
    benchmark::DoNotOptimize(result.parse_tree);
    pg_query_free_parse_result(result);
  }
}
BENCHMARK(BM_PgQueryParseJson)->DenseRange(0, static_cast<int>(kTouching.size()) - 1);

void BM_PgQueryScan(benchmark::State& state) {
  const char* sql = corpus_statement(state);
  for (auto _ : state) {
    PgQueryScanResult result = pg_query_scan(sql);
    benchmark::DoNotOptimize(result.pbuf.len);
    pg_query_free_scan_result(result);
  }
}
BENCHMARK(BM_PgQueryScan)->DenseRange(0, static_cast<int>(kTouching.size()) - 1);

void BM_PgQuerySplitWithParser(benchmark::State& state) {
  const char* sql = corpus_statement(state);
  for (auto _ : state) {
    PgQuerySplitResult result = pg_query_split_with_parser(sql);
    benchmark::DoNotOptimize(result.n_stmts);
    pg_query_free_split_result(result);
  }
}
BENCHMARK(BM_PgQuerySplitWithParser)->DenseRange(0, static_cast<int>(kTouching.size()) - 1);

void BM_PgQueryUnpackTree(benchmark::State& state) {
  PgQueryProtobufParseResult parsed = pg_query_parse_protobuf(corpus_statement(state));
  const auto* data = reinterpret_cast<const uint8_t*>(parsed.parse_tree.data);
  for (auto _ : state) {
    PgQuery__ParseResult* tree =
        pg_query__parse_result__unpack(nullptr, parsed.parse_tree.len, data);
    benchmark::DoNotOptimize(tree);
    pg_query__parse_result__free_unpacked(tree, nullptr);
  }
  pg_query_free_protobuf_parse_result(parsed);
}
BENCHMARK(BM_PgQueryUnpackTree)->DenseRange(0, static_cast<int>(kTouching.size()) - 1);

void BM_PgQueryDeparse(benchmark::State& state) {
  PgQueryProtobufParseResult parsed = pg_query_parse_protobuf(corpus_statement(state));
  for (auto _ : state) {
    PgQueryDeparseResult result = pg_query_deparse_protobuf(parsed.parse_tree);
    benchmark::DoNotOptimize(result.query);
    pg_query_free_deparse_result(result);
  }
  pg_query_free_protobuf_parse_result(parsed);
}
BENCHMARK(BM_PgQueryDeparse)->DenseRange(0, static_cast<int>(kTouching.size()) - 1);

}  // namespace
