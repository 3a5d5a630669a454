#include "proxy/metrics.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <thread>
#include <vector>

namespace switchyard::proxy {
namespace {

struct ClassifyCase {
  std::string sql;
  StatementClass expected;
};

// Names the case in test listings by its SQL (gtest's default prints the struct's bytes,
// pointers and all, which made the CTest names differ from build to build).
void PrintTo(const ClassifyCase& c, std::ostream* out) {
  for (char ch : c.sql) {
    *out << (ch == '\n' ? "\\n" : ch == '\t' ? "\\t" : std::string(1, ch));
  }
}

class ClassifyStatementTest : public ::testing::TestWithParam<ClassifyCase> {};

TEST_P(ClassifyStatementTest, FirstVerbDecides) {
  EXPECT_EQ(to_string(classify_statement(GetParam().sql)), to_string(GetParam().expected))
      << GetParam().sql;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ClassifyStatementTest,
    ::testing::Values(
        ClassifyCase{"SELECT 1", StatementClass::select},
        ClassifyCase{"select * from t", StatementClass::select},
        ClassifyCase{"  \n\tSeLeCt 1", StatementClass::select},
        ClassifyCase{"INSERT INTO t VALUES (1)", StatementClass::insert},
        ClassifyCase{"update t set a = 1", StatementClass::update},
        ClassifyCase{"DELETE FROM t", StatementClass::delete_},
        ClassifyCase{"-- tracing tag\nUPDATE t SET a = 1", StatementClass::update},
        ClassifyCase{"/* app=web */ INSERT INTO t DEFAULT VALUES", StatementClass::insert},
        ClassifyCase{"/* outer /* nested */ still comment */ DELETE FROM t",
                     StatementClass::delete_},
        ClassifyCase{"((SELECT 1) UNION (SELECT 2))", StatementClass::select},
        ClassifyCase{"VALUES (1), (2)", StatementClass::select},
        ClassifyCase{"TABLE users", StatementClass::select},
        ClassifyCase{"WITH x AS (SELECT 1) SELECT * FROM x", StatementClass::select},
        ClassifyCase{"WITH x AS (SELECT id FROM t) DELETE FROM t USING x", StatementClass::delete_},
        ClassifyCase{"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
                     "INSERT INTO t SELECT n FROM r",
                     StatementClass::insert},
        ClassifyCase{"WITH u AS (UPDATE t SET a = 1 RETURNING id) SELECT count(*) FROM u",
                     StatementClass::select},
        ClassifyCase{"WITH x AS (SELECT ')' AS p) UPDATE t SET a = (SELECT p FROM x)",
                     StatementClass::update},
        ClassifyCase{"WITH x AS (SELECT $$ ) select $$ AS p) DELETE FROM t",
                     StatementClass::delete_},
        ClassifyCase{"WITH x AS (SELECT $tag$ ) $tag$ AS p, $1) INSERT INTO t VALUES (1)",
                     StatementClass::insert},
        ClassifyCase{"WITH \"select\" AS (SELECT 1) UPDATE t SET a = 2", StatementClass::update},
        ClassifyCase{"WITH x AS (SELECT E'\\')' AS p) DELETE FROM t", StatementClass::delete_},
        ClassifyCase{"WITH x AS MATERIALIZED (SELECT 1) -- c\n SELECT 1", StatementClass::select},
        ClassifyCase{"WITH x AS (SELECT 1); SELECT 1", StatementClass::other},
        ClassifyCase{"MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE",
                     StatementClass::other},
        ClassifyCase{"BEGIN", StatementClass::other}, ClassifyCase{"COMMIT", StatementClass::other},
        ClassifyCase{"COPY t FROM STDIN", StatementClass::other},
        ClassifyCase{"EXPLAIN SELECT 1", StatementClass::other},
        ClassifyCase{"selectx 1", StatementClass::other}, ClassifyCase{"", StatementClass::other},
        ClassifyCase{"   -- only a comment", StatementClass::other},
        ClassifyCase{"/* unterminated", StatementClass::other},
        ClassifyCase{"WITH x AS (SELECT 'unterminated", StatementClass::other},
        ClassifyCase{"SELECT 1; DELETE FROM t", StatementClass::select},
        // a text that starts with a letter goes straight to its first word
        ClassifyCase{"select_x FROM t", StatementClass::other},
        ClassifyCase{"Delete$1", StatementClass::other},
        ClassifyCase{"merges", StatementClass::other},
        ClassifyCase{"TABLE", StatementClass::select},
        ClassifyCase{"with x as (select 1) update t set a = 1", StatementClass::update},
        ClassifyCase{"WITHx SELECT 1", StatementClass::other},
        ClassifyCase{"_select 1", StatementClass::other}));

TEST(MetricsTest, CountStatementIncrementsItsKind) {
  Metrics m;
  m.count_statement("SELECT 1");
  m.count_statement("select 2");
  m.count_statement("delete from t");
  m.count_statement("vacuum");
  EXPECT_EQ(m.statements_by_kind[static_cast<std::size_t>(StatementClass::select)].load(), 2u);
  EXPECT_EQ(m.statements_by_kind[static_cast<std::size_t>(StatementClass::delete_)].load(), 1u);
  EXPECT_EQ(m.statements_by_kind[static_cast<std::size_t>(StatementClass::other)].load(), 1u);
  EXPECT_EQ(m.statements_by_kind[static_cast<std::size_t>(StatementClass::insert)].load(), 0u);
}

rewrite::RewriteResult result_with(rewrite::Outcome outcome,
                                   std::vector<rewrite::MigrationUse> uses,
                                   std::vector<rewrite::StatementKind> kinds) {
  rewrite::RewriteResult r;
  r.outcome = outcome;
  r.uses = std::move(uses);
  r.kinds = std::move(kinds);
  return r;
}

TEST(MetricsTest, RecordRewriteCountsPerMigration) {
  Metrics m;
  rewrite::MigrationUse users{"users-status", 2, 1, 0, 0, true};
  rewrite::MigrationUse orders{"orders-total", 0, 0, 1, 0, false};
  m.record_rewrite(
      result_with(rewrite::Outcome::rewritten, {users, orders}, {rewrite::StatementKind::update}));
  m.record_rewrite(
      result_with(rewrite::Outcome::rejected, {users}, {rewrite::StatementKind::copy}));
  m.record_rewrite(result_with(rewrite::Outcome::passthrough_unsupported, {orders},
                               {rewrite::StatementKind::select}));

  auto entries = m.migrations.entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0]->name, "users-status");
  EXPECT_EQ(entries[0]->statements_rewritten.load(), 1u);
  EXPECT_EQ(entries[0]->statements_rejected.load(), 1u);
  EXPECT_EQ(entries[0]->statements_passthrough.load(), 0u);
  EXPECT_EQ(entries[0]->reads_of_old.load(), 4u);
  EXPECT_EQ(entries[0]->writes_of_old.load(), 2u);
  EXPECT_EQ(entries[1]->name, "orders-total");
  // Touched by a rewritten statement without being rewritten itself: not counted as rewritten.
  EXPECT_EQ(entries[1]->statements_rewritten.load(), 0u);
  EXPECT_EQ(entries[1]->statements_passthrough.load(), 1u);
  EXPECT_EQ(entries[1]->reads_of_new.load(), 2u);
  EXPECT_EQ(m.analyzed_by_kind[static_cast<std::size_t>(rewrite::StatementKind::update)].load(),
            1u);
  EXPECT_EQ(m.analyzed_by_kind[static_cast<std::size_t>(rewrite::StatementKind::copy)].load(), 1u);
  EXPECT_EQ(m.analyzed_by_kind[static_cast<std::size_t>(rewrite::StatementKind::select)].load(),
            1u);
}

TEST(MetricsTest, RecordRewriteIgnoresNeedsCatalog) {
  Metrics m;
  m.record_rewrite(result_with(rewrite::Outcome::needs_catalog, {{"m", 1, 1, 0, 0, false}},
                               {rewrite::StatementKind::select}));
  EXPECT_TRUE(m.migrations.entries().empty());
  EXPECT_EQ(m.analyzed_by_kind[0].load(), 0u);
}

TEST(MetricsTest, UnchangedStatementsStillCountColumnReads) {
  // reads = "old": nothing to rewrite, but the read of the old column is what the operator
  // watches before the migration can end.
  Metrics m;
  m.record_rewrite(result_with(rewrite::Outcome::unchanged, {{"m", 1, 0, 0, 0, false}},
                               {rewrite::StatementKind::select}));
  auto entries = m.migrations.entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]->reads_of_old.load(), 1u);
  EXPECT_EQ(entries[0]->statements_rewritten.load(), 0u);
}

TEST(MigrationCounterTableTest, SameNameSameEntry) {
  MigrationCounterTable table;
  auto& a = table.get("a");
  auto& b = table.get("b");
  EXPECT_EQ(&table.get("a"), &a);
  EXPECT_NE(&a, &b);
  EXPECT_EQ(table.entries().size(), 2u);
}

TEST(MigrationCounterTableTest, PastCapacityNamesShareOtherEntry) {
  MigrationCounterTable table;
  for (std::size_t i = 0; i < MigrationCounterTable::kCapacity; ++i) {
    table.get("m" + std::to_string(i));
  }
  auto& overflow = table.get("one-too-many");
  EXPECT_EQ(overflow.name, "(other)");
  EXPECT_EQ(&table.get("another"), &overflow);
  EXPECT_EQ(&table.get("m0"), &table.get("m0"));
  auto entries = table.entries();
  ASSERT_EQ(entries.size(), MigrationCounterTable::kCapacity + 1);
  EXPECT_EQ(entries.back()->name, "(other)");
}

TEST(MigrationCounterTableTest, ConcurrentFirstUseCreatesOneEntryPerName) {
  MigrationCounterTable table;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&table] {
      for (int round = 0; round < 1000; ++round) {
        table.get("m" + std::to_string(round % 10)).reads_of_old.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  auto entries = table.entries();
  ASSERT_EQ(entries.size(), 10u);
  for (const auto* entry : entries) {
    EXPECT_EQ(entry->reads_of_old.load(), 400u) << entry->name;
  }
}

TEST(LatencyHistogramTest, BucketsAreUpperBoundsInclusive) {
  LatencyHistogram h;
  h.observe(0.0005);  // exactly the first bound: first bucket
  h.observe(0.0007);
  h.observe(3);
  h.observe(100);  // +Inf
  h.observe(-1);   // clamped to 0
  auto s = h.sample();
  EXPECT_EQ(s.buckets[0], 2u);
  EXPECT_EQ(s.buckets[1], 1u);
  EXPECT_EQ(s.buckets[12], 1u);  // (2.5, 5]
  EXPECT_EQ(s.buckets.back(), 1u);
  EXPECT_EQ(s.count, 5u);
  EXPECT_NEAR(s.sum_seconds, 0.0005 + 0.0007 + 3 + 100, 1e-6);
}

TEST(MetricsTest, SqlstateClassCountsTwoCharactersAndFirstCharacter) {
  Metrics m;
  m.count_error_sqlstate("23505");
  m.count_error_sqlstate("23503");
  m.count_error_sqlstate("42P01");
  m.count_error_sqlstate("");
  m.count_error_sqlstate("x");
  m.count_error_class('0');
  EXPECT_EQ(m.upstream_errors_by_sqlstate_class[2 * 36 + 3].load(), 2u);
  EXPECT_EQ(m.upstream_errors_by_sqlstate_class[4 * 36 + 2].load(), 1u);
  EXPECT_EQ(m.upstream_errors_by_class[2].load(), 2u);
  EXPECT_EQ(m.upstream_errors_by_class[4].load(), 1u);
  EXPECT_EQ(m.upstream_errors_by_class[0].load(), 1u);
}

}  // namespace
}  // namespace switchyard::proxy
