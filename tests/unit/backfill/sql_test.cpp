#include "backfill/sql.hpp"

#include <gtest/gtest.h>

namespace switchyard::backfill {
namespace {

TableSpec single_key() {
  return {"public", "users", {{"id", "integer"}}, "status", "state", "", ""};
}

TableSpec composite_key() {
  return {"app",
          "Orders",
          {{"region", "text"}, {"id", "bigint"}},
          "status",
          "state",
          "CASE {value} WHEN 'a' THEN 1 END",
          "CASE {value} WHEN 1 THEN 'a' END"};
}

TEST(SqlTest, QuoteIdentAlwaysQuotesAndDoublesQuotes) {
  const std::pair<std::string, std::string> cases[] = {
      {"id", "\"id\""},       {"user", "\"user\""}, {"Order Status", "\"Order Status\""},
      {"a\"b", "\"a\"\"b\""}, {"", "\"\""},
  };
  for (const auto& [in, out] : cases) {
    EXPECT_EQ(quote_ident(in), out) << in;
  }
}

TEST(SqlTest, QuoteLiteralDoublesSingleQuotes) {
  EXPECT_EQ(quote_literal("it's"), "'it''s'");
  EXPECT_EQ(quote_literal(""), "''");
}

TEST(SqlTest, TextArrayLiteralQuotesEveryElement) {
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{}, "{}"},
      {{"42"}, "{\"42\"}"},
      {{"eu", "7"}, "{\"eu\",\"7\"}"},
      {{"a,b", "{x}"}, "{\"a,b\",\"{x}\"}"},
      {{"say \"hi\"", "back\\slash"}, "{\"say \\\"hi\\\"\",\"back\\\\slash\"}"},
      {{"NULL", ""}, "{\"NULL\",\"\"}"},
  };
  for (const auto& [items, out] : cases) {
    EXPECT_EQ(text_array_literal(items), out);
  }
}

TEST(SqlTest, RangeConditionSingleKeyUsesPlainComparisons) {
  const auto spec = single_key();
  const struct {
    RangeShape shape;
    int first;
    std::string out;
  } cases[] = {
      {{false, false}, 1, "TRUE"},
      {{true, false}, 1, "\"id\" > $1::integer"},
      {{false, true}, 1, "\"id\" <= $1::integer"},
      {{true, true}, 1, "\"id\" > $1::integer AND \"id\" <= $2::integer"},
      {{true, true}, 3, "\"id\" > $3::integer AND \"id\" <= $4::integer"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(range_condition(spec, c.shape, c.first), c.out);
  }
}

TEST(SqlTest, RangeConditionCompositeKeyUsesRowComparisons) {
  const auto spec = composite_key();
  EXPECT_EQ(range_condition(spec, {true, true}),
            "(\"region\", \"id\") > ($1::text, $2::bigint) AND (\"region\", \"id\") <= "
            "($3::text, $4::bigint)");
  EXPECT_EQ(range_condition(spec, {false, true}), "(\"region\", \"id\") <= ($1::text, $2::bigint)");
}

TEST(SqlTest, NextChunkReadsTheChunkOnceAndReturnsItsLastKeyAndCount) {
  EXPECT_EQ(next_chunk_sql(single_key(), false),
            "WITH chunk AS (SELECT \"id\" FROM \"public\".\"users\" WHERE TRUE ORDER BY \"id\" "
            "LIMIT $1) SELECT \"id\", (SELECT count(*) FROM chunk) FROM chunk ORDER BY \"id\" "
            "DESC LIMIT 1");
  EXPECT_EQ(next_chunk_sql(composite_key(), true),
            "WITH chunk AS (SELECT \"region\", \"id\" FROM \"app\".\"Orders\" WHERE (\"region\", "
            "\"id\") > ($1::text, $2::bigint) ORDER BY \"region\", \"id\" LIMIT $3) SELECT "
            "\"region\", \"id\", (SELECT count(*) FROM chunk) FROM chunk ORDER BY \"region\" "
            "DESC, \"id\" DESC LIMIT 1");
}

TEST(SqlTest, BackfillUpdateSkipsRowsThatAlreadyAgree) {
  const struct {
    TableSpec spec;
    RangeShape shape;
    std::string out;
  } cases[] = {
      {single_key(),
       {true, true},
       "UPDATE \"public\".\"users\" SET \"state\" = \"status\" WHERE \"id\" > $1::integer AND "
       "\"id\" <= $2::integer AND \"state\" IS DISTINCT FROM (\"status\")"
       " AND (\"status\" IS DISTINCT FROM (\"state\") OR \"state\" IS NULL)"},
      {single_key(),
       {false, true},
       "UPDATE \"public\".\"users\" SET \"state\" = \"status\" WHERE \"id\" <= $1::integer AND "
       "\"state\" IS DISTINCT FROM (\"status\")"
       " AND (\"status\" IS DISTINCT FROM (\"state\") OR \"state\" IS NULL)"},
      {composite_key(),
       {true, true},
       "UPDATE \"app\".\"Orders\" SET \"state\" = CASE (\"status\") WHEN 'a' THEN 1 END WHERE "
       "(\"region\", \"id\") > ($1::text, $2::bigint) AND (\"region\", \"id\") <= ($3::text, "
       "$4::bigint) AND \"state\" IS DISTINCT FROM (CASE (\"status\") WHEN 'a' THEN 1 END)"
       " AND (\"status\" IS DISTINCT FROM (CASE (\"state\") WHEN 1 THEN 'a' END) OR \"state\" IS "
       "NULL)"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(backfill_update_sql(c.spec, c.shape), c.out);
  }
}

// fill = to_old: the rollback's backfill, old = to_old(new) where the columns disagree both
// ways (or the old column is NULL); an old value is never overwritten with to_old(NULL),
// whether to_new maps it (a row never filled forward, h16 #10) or not.
TEST(SqlTest, BackfillTheOtherWayFillsTheOldColumn) {
  auto spec = composite_key();
  spec.fill = Direction::to_old;
  EXPECT_EQ(backfill_update_sql(spec, {false, true}),
            "UPDATE \"app\".\"Orders\" SET \"status\" = CASE (\"state\") WHEN 1 THEN 'a' END "
            "WHERE (\"region\", \"id\") <= ($1::text, $2::bigint) AND \"status\" IS DISTINCT "
            "FROM (CASE (\"state\") WHEN 1 THEN 'a' END) AND (\"state\" IS DISTINCT FROM "
            "(CASE (\"status\") WHEN 'a' THEN 1 END) OR \"status\" IS NULL) AND (\"state\" IS NOT "
            "NULL OR \"status\" IS NULL)");
  EXPECT_EQ(pending_count_sql(spec, {}),
            "SELECT count(*) FROM \"app\".\"Orders\" WHERE TRUE AND \"status\" IS DISTINCT "
            "FROM (CASE (\"state\") WHEN 1 THEN 'a' END) AND (\"state\" IS DISTINCT FROM "
            "(CASE (\"status\") WHEN 'a' THEN 1 END) OR \"status\" IS NULL) AND (\"state\" IS NOT "
            "NULL OR \"status\" IS NULL)");
}

// A type without an equality operator (json) is compared by its text.
TEST(SqlTest, MismatchConditionComparesAsTextWhereThereIsNoEquality) {
  auto spec = single_key();
  spec.to_new = "{value}::json";
  spec.to_old = "{value}::text";
  spec.new_as_text = true;
  EXPECT_EQ(mismatch_condition(spec, Direction::to_new),
            "(\"state\")::text IS DISTINCT FROM (((\"status\")::json)::text)");
  EXPECT_EQ(mismatch_condition(spec, Direction::to_old),
            "\"status\" IS DISTINCT FROM ((\"state\")::text)");
}

// Each column is compared in its own collation: two columns of different collations have none
// in common ("could not determine which collation to use"), and the column's is what its
// readers see.
TEST(SqlTest, MismatchConditionComparesInTheColumnsCollation) {
  auto spec = single_key();
  spec.old_collation = "pg_catalog.\"C\"";
  spec.new_collation = "public.\"en-x-icu\"";
  EXPECT_EQ(mismatch_condition(spec, Direction::to_new),
            "\"state\" COLLATE public.\"en-x-icu\" IS DISTINCT FROM (\"status\")");
  EXPECT_EQ(mismatch_condition(spec, Direction::to_old),
            "\"status\" COLLATE pg_catalog.\"C\" IS DISTINCT FROM (\"state\")");
  // Compared as text, a column has the default collation of text.
  spec.new_as_text = true;
  EXPECT_EQ(mismatch_condition(spec, Direction::to_new),
            "(\"state\")::text IS DISTINCT FROM ((\"status\")::text)");
}

// A type whose equality calls values equal that readers tell apart (interval: '1 mon' and
// '30 days') is compared by the text of what writing the value into the column would store.
TEST(SqlTest, ALooseTypeIsComparedByTheTextOfWhatTheColumnWouldStore) {
  auto spec = single_key();
  spec.new_as_text = true;
  spec.new_type = "interval";
  EXPECT_EQ(mismatch_condition(spec, Direction::to_new),
            "(\"state\")::text IS DISTINCT FROM ((CAST((\"status\") AS interval))::text)");
}

// Each side is compared with the other column's value cast to the compared column's type and
// typmod, as a write (and reads = "new") store it: compared bare, Postgres resolves numeric
// against float8 in float8 and numeric(10,2) against numeric(14,4) at the wider scale, and
// finds drift that no reader sees. Floats are compared by their bits: their text follows the
// session's extra_float_digits.
TEST(SqlTest, MismatchConditionComparesInTheCompareColumnsTypeAndTypmod) {
  const struct {
    std::string old_type;
    std::string new_type;
    bool old_as_text;
    bool new_as_text;
    std::string to_new;
    std::string to_old;
    std::string expected_to_new;
    std::string expected_to_old;
  } cases[] = {
      {"double precision", "numeric", true, false, "", "",
       "\"state\" IS DISTINCT FROM (CAST((\"status\") AS numeric))",
       "pg_catalog.float8send(\"status\") IS DISTINCT FROM "
       "pg_catalog.float8send(CAST((\"state\") AS double precision))"},
      {"numeric(10,2)", "numeric(14,4)", false, false, "", "",
       "\"state\" IS DISTINCT FROM (CAST((\"status\") AS numeric(14,4)))",
       "\"status\" IS DISTINCT FROM (CAST((\"state\") AS numeric(10,2)))"},
      {"numeric(14,4)", "numeric(10,2)", false, false, "", "",
       "\"state\" IS DISTINCT FROM (CAST((\"status\") AS numeric(10,2)))",
       "\"status\" IS DISTINCT FROM (CAST((\"state\") AS numeric(14,4)))"},
      {"numeric(6,2)", "integer", false, false, "", "",
       "\"state\" IS DISTINCT FROM (CAST((\"status\") AS integer))",
       "\"status\" IS DISTINCT FROM (CAST((\"state\") AS numeric(6,2)))"},
      {"real", "double precision", true, true, "", "",
       "pg_catalog.float8send(\"state\") IS DISTINCT FROM "
       "pg_catalog.float8send(CAST((\"status\") AS double precision))",
       "pg_catalog.float4send(\"status\") IS DISTINCT FROM "
       "pg_catalog.float4send(CAST((\"state\") AS real))"},
      {"timestamp(0) without time zone", "timestamp(3) with time zone", false, false,
       "{value} AT TIME ZONE 'UTC'", "{value} AT TIME ZONE 'UTC'",
       "\"state\" IS DISTINCT FROM (CAST(((\"status\") AT TIME ZONE 'UTC') AS timestamp(3) with "
       "time zone))",
       "\"status\" IS DISTINCT FROM (CAST(((\"state\") AT TIME ZONE 'UTC') AS timestamp(0) "
       "without time zone))"},
      {"text", "integer", false, false, "CASE {value} WHEN 'a' THEN 1 END",
       "CASE {value} WHEN 1 THEN 'a' END",
       "\"state\" IS DISTINCT FROM (CAST((CASE (\"status\") WHEN 'a' THEN 1 END) AS integer))",
       "\"status\" IS DISTINCT FROM (CAST((CASE (\"state\") WHEN 1 THEN 'a' END) AS text))"},
      {"text", "interval", false, true, "{value}::interval", "{value}::text",
       "(\"state\")::text IS DISTINCT FROM ((CAST(((\"status\")::interval) AS interval))::text)",
       "\"status\" IS DISTINCT FROM (CAST(((\"state\")::text) AS text))"},
  };
  for (const auto& c : cases) {
    auto spec = single_key();
    spec.old_type = c.old_type;
    spec.new_type = c.new_type;
    spec.old_as_text = c.old_as_text;
    spec.new_as_text = c.new_as_text;
    spec.to_new = c.to_new;
    spec.to_old = c.to_old;
    EXPECT_EQ(mismatch_condition(spec, Direction::to_new), c.expected_to_new)
        << c.old_type << " -> " << c.new_type;
    EXPECT_EQ(mismatch_condition(spec, Direction::to_old), c.expected_to_old)
        << c.old_type << " -> " << c.new_type;
  }
}

// The sample shows to_new(old) and to_old(new) as the columns would store them: the values
// the comparison was made with.
TEST(SqlTest, VerifySampleShowsTheTransformedValuesInTheColumnsTypes) {
  auto spec = single_key();
  spec.old_type = "numeric(10,2)";
  spec.new_type = "numeric(14,4)";
  EXPECT_EQ(verify_sample_sql(spec, {}, Direction::both),
            "SELECT \"id\"::text, \"status\"::text, \"state\"::text, (CAST((\"status\") AS "
            "numeric(14,4)))::text, (CAST((\"state\") AS numeric(10,2)))::text FROM "
            "\"public\".\"users\" WHERE TRUE AND (\"state\" IS DISTINCT FROM (CAST((\"status\") "
            "AS numeric(14,4))) OR \"status\" IS DISTINCT FROM (CAST((\"state\") AS "
            "numeric(10,2)))) ORDER BY \"public\".\"users\".\"id\" LIMIT $1");
}

TEST(SqlTest, MismatchConditionPerDirection) {
  const auto spec = composite_key();
  const std::string to_new = "\"state\" IS DISTINCT FROM (CASE (\"status\") WHEN 'a' THEN 1 END)";
  const std::string to_old = "\"status\" IS DISTINCT FROM (CASE (\"state\") WHEN 1 THEN 'a' END)";
  EXPECT_EQ(mismatch_condition(spec, Direction::to_new), to_new);
  EXPECT_EQ(mismatch_condition(spec, Direction::to_old), to_old);
  EXPECT_EQ(mismatch_condition(spec, Direction::both), "(" + to_new + " OR " + to_old + ")");
  // A rename compares the columns themselves both ways.
  EXPECT_EQ(mismatch_condition(single_key(), Direction::to_old),
            "\"status\" IS DISTINCT FROM (\"state\")");
}

TEST(SqlTest, VerifyCountCountsEachDirectionEitherAndRows) {
  EXPECT_EQ(verify_count_sql(single_key(), {true, true}),
            "SELECT count(*) FILTER (WHERE \"state\" IS DISTINCT FROM (\"status\")), count(*) "
            "FILTER (WHERE \"status\" IS DISTINCT FROM (\"state\")), count(*) FILTER (WHERE "
            "(\"state\" IS DISTINCT FROM (\"status\") OR \"status\" IS DISTINCT FROM "
            "(\"state\"))), count(*) FROM \"public\".\"users\" WHERE \"id\" > $1::integer AND "
            "\"id\" <= $2::integer");
}

TEST(SqlTest, VerifySampleLimitParameterFollowsTheRangeParameters) {
  const struct {
    RangeShape shape;
    std::string tail;
  } cases[] = {
      {{false, false}, "LIMIT $1"},
      {{true, false}, "LIMIT $3"},
      {{true, true}, "LIMIT $5"},
  };
  for (const auto& c : cases) {
    auto sql = verify_sample_sql(composite_key(), c.shape, Direction::to_old);
    EXPECT_TRUE(sql.ends_with(c.tail)) << sql;
    EXPECT_NE(sql.find("\"region\"::text, \"id\"::text, \"status\"::text, \"state\"::text"),
              std::string::npos)
        << sql;
  }
}

TEST(SqlTest, BeginBatchSetsBothTimeoutsLocally) {
  EXPECT_EQ(begin_batch_sql(std::chrono::milliseconds(1500), std::chrono::seconds(30)),
            "BEGIN; SET LOCAL lock_timeout = '1500ms'; SET LOCAL statement_timeout = '30000ms'");
}

TEST(SqlTest, PendingCountAndKeysInRange) {
  EXPECT_EQ(pending_count_sql(single_key(), {true, false}),
            "SELECT count(*) FROM \"public\".\"users\" WHERE \"id\" > $1::integer AND \"state\" "
            "IS DISTINCT FROM (\"status\")"
            " AND (\"status\" IS DISTINCT FROM (\"state\") OR \"state\" IS NULL)");
  EXPECT_EQ(keys_in_range_sql(single_key(), {false, true}),
            "SELECT \"id\" FROM \"public\".\"users\" WHERE \"id\" <= $1::integer ORDER BY \"id\"");
}

TEST(SqlTest, FormatKeyForPeople) {
  EXPECT_EQ(format_key(single_key(), {"42"}), "id=42");
  EXPECT_EQ(format_key(composite_key(), {"eu", "7"}), "region=eu, id=7");
  // A sample line must not be forged by a key: every other value is quoted as SQL reads it.
  const std::pair<std::string, std::string> quoted[] = {
      {"-1.5e3", "id=-1.5e3"},
      {"2026-12-03", "id=2026-12-03"},
      {"", "id=''"},
      {"a b", "id='a b'"},
      {"it's", "id='it''s'"},
      {"x, id=9", "id='x, id=9'"},
      {"line1\nline2 id=999: a='1'", "id=E'line1\\nline2 id=999: a=\\'1\\''"},
      {"tab\there\\", "id=E'tab\\there\\\\'"},
      {std::string("nul\x01"), "id=E'nul\\x01'"},
  };
  for (const auto& [value, shown] : quoted) {
    EXPECT_EQ(format_key(single_key(), {value}), shown);
  }
  EXPECT_EQ(key_names(composite_key()), "region, id");
}

}  // namespace
}  // namespace switchyard::backfill
