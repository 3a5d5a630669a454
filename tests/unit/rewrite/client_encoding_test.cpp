#include "rewrite/client_encoding.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchyard::rewrite {
namespace {

TEST(ClientEncodingTest, ClassifiesNamesAndAliasesAsPostgresCleansThem) {
  const struct {
    const char* name;
    ClientEncoding kind;
  } cases[] = {
      {"UTF8", ClientEncoding::utf8},
      {"utf-8", ClientEncoding::utf8},
      {"Unicode", ClientEncoding::utf8},
      {"SQL_ASCII", ClientEncoding::utf8},
      {"LATIN1", ClientEncoding::ascii_safe},
      {"WIN1252", ClientEncoding::ascii_safe},
      {"EUC_JP", ClientEncoding::ascii_safe},
      {"SJIS", ClientEncoding::embeds_ascii},
      {"Shift_JIS", ClientEncoding::embeds_ascii},
      {"BIG5", ClientEncoding::embeds_ascii},
      {"GBK", ClientEncoding::embeds_ascii},
      {"GB18030", ClientEncoding::embeds_ascii},
      {"UHC", ClientEncoding::embeds_ascii},
      {"JOHAB", ClientEncoding::embeds_ascii},
      {"cp932", ClientEncoding::embeds_ascii},
      {"SHIFT_JIS_2004", ClientEncoding::embeds_ascii},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(classify_encoding(c.name), c.kind) << c.name;
  }
  // A SQL_ASCII client's bytes are read in the database's encoding.
  const struct {
    const char* name;
    const char* server;
    ClientEncoding kind;
  } on_server[] = {
      {"SQL_ASCII", "UTF8", ClientEncoding::utf8},
      {"SQL_ASCII", "SQL_ASCII", ClientEncoding::utf8},
      {"SQL_ASCII", "LATIN1", ClientEncoding::ascii_safe},
      {"sql-ascii", "EUC_JP", ClientEncoding::ascii_safe},
      {"LATIN1", "UTF8", ClientEncoding::ascii_safe},
  };
  for (const auto& c : on_server) {
    EXPECT_EQ(classify_encoding(c.name, c.server), c.kind) << c.name << " on " << c.server;
  }
}

TextReading reading(const char* encoding, bool standard_strings = true, bool in_flight = false) {
  TextReading r;
  r.encoding = classify_encoding(encoding);
  r.encoding_name = encoding;
  r.standard_strings = standard_strings;
  r.settings_in_flight = in_flight;
  return r;
}

// Encoding and settings, the text's bytes, whether it may name a mapped table and whether a
// migration has a non-ASCII name: refused (with a word of the reason) or read.
TEST(ClientEncodingTest, RefusesTextsTheRewriteCannotReadAsTheServer) {
  const struct {
    TextReading reading;
    std::string sql;
    bool may_touch;
    bool non_ascii_names;
    const char* refused;  // a part of the reason; null: read
  } cases[] = {
      // SJIS '表' is 95 5C: E'表' is a closed string to the server, `\'` to the rewrite.
      {reading("SJIS"), "INSERT INTO notes (id, body) VALUES (1, E'\x95\x5c')", true, false,
       "use client_encoding UTF8"},
      {reading("BIG5"), "INSERT INTO notes AS \x83\x7c (id, body) VALUES (2, 'w')", true, false,
       "second byte"},
      {reading("SJIS"), "INSERT INTO notes (id, body) VALUES (3, 'plain')", true, false, nullptr},
      {reading("SJIS"), "SELECT E'\x83\x5c'", false, false, nullptr},
      // LATIN1 structure reads alike: a write of an ASCII name with 'é' is rewritten.
      {reading("LATIN1"), "INSERT INTO notes (id, body) VALUES (4, 'caf\xe9')", true, false,
       nullptr},
      // ... but the name match looks for a non-ASCII name's UTF-8 bytes.
      {reading("LATIN1"), "INSERT INTO caf\xe9 (id) VALUES (5)", false, true, "name is not ASCII"},
      {reading("LATIN1"), "INSERT INTO notes (id) VALUES (6)", false, true, nullptr},
      {reading("UTF8"), "INSERT INTO caf\xc3\xa9 (id) VALUES (7)", true, true, nullptr},
      // standard_conforming_strings off: a backslash outside an E'' string (the only ones both
      // read alike), in a plain string, a comment, a string after a name.
      {reading("UTF8", false), "INSERT INTO notes (id, body) VALUES (8, E'a\\\\b')", true, false,
       nullptr},
      {reading("UTF8", false), "INSERT INTO notes (id, body) VALUES (8, e'it\\'s' || E'x'\n'\\\\')",
       true, false, nullptr},
      {reading("UTF8", false), "INSERT INTO notes (id, body) VALUES (8, 'it\\'s')", true, false,
       "outside an E'...' string"},
      {reading("UTF8", false), "UPDATE notes SET body = E'\\\\' || 'p\\' -- ', body = 'x'", true,
       false, "outside an E'...' string"},
      {reading("UTF8", false), "INSERT INTO notes VALUES (8, 'a') -- c:\\dir", true, false,
       "outside an E'...' string"},
      {reading("UTF8", false), "INSERT INTO notes VALUES (8, $$\\$$)", true, false,
       "outside an E'...' string"},
      {reading("UTF8", false), "INSERT INTO notes VALUES (8, 'a\\'", true, false,
       "outside an E'...' string"},
      {reading("UTF8", false), "INSERT INTO notes (id, body) VALUES (9, 'ab')", true, false,
       nullptr},
      // A change of either not answered yet: a backslash or a non-ASCII byte is refused.
      {reading("UTF8", true, true), "UPDATE notes2 SET tag = 'p\\', body = $$v$$ WHERE id = 1",
       true, false, "not answered yet"},
      {reading("UTF8", true, true), "INSERT INTO notes (id, body) VALUES (10, '\xc3\xa9')", true,
       false, "not answered yet"},
      {reading("UTF8", true, true), "INSERT INTO notes (id, body) VALUES (11, 'ab')", true, false,
       nullptr},
      {reading("UTF8", true, true), "SELECT 'a\\b'", false, false, nullptr},
      {reading("UTF8", true, true), "INSERT INTO notes (id, body) VALUES (12, E'a\\\\b')", true,
       false, nullptr},
  };
  for (const auto& c : cases) {
    const auto why = unreadable_text(c.reading, c.sql, c.may_touch, c.non_ascii_names);
    if (c.refused == nullptr) {
      EXPECT_FALSE(why.has_value()) << c.reading.encoding_name << ": " << c.sql << " -> " << *why;
    } else {
      ASSERT_TRUE(why.has_value()) << c.reading.encoding_name << ": " << c.sql;
      EXPECT_NE(why->find(c.refused), std::string::npos) << *why;
    }
  }
}

Migration rename(std::string to_new = {}, std::string new_column = "content") {
  Migration m;
  m.name = "notes";
  m.schema = "public";
  m.table = "notes";
  m.old_column = "body";
  m.new_column = std::move(new_column);
  m.to_new = std::move(to_new);
  return m;
}

RewriteResult rewritten(bool copy_text = false) {
  RewriteResult r;
  r.outcome = Outcome::rewritten;
  r.uses.push_back(MigrationUse{"notes"});
  if (copy_text) {
    r.copy = CopyPlan{};
  }
  return r;
}

// Encoding, the rewrite and the migration: refused, or forwarded as rewritten.
TEST(ClientEncodingTest, RefusesRewritesThatSpliceWhatTheServerReadsOtherwise) {
  RewriteResult unparsed;
  unparsed.unparsed = true;
  RewriteResult binary_copy = rewritten(true);
  binary_copy.copy->format = CopyPlan::Format::binary;
  const struct {
    TextReading reading;
    RewriteResult result;
    Migration migration;
    const char* refused;
    std::string sql = "INSERT INTO notes (id, body) VALUES (1, E'\\\xe9')";
  } cases[] = {
      // 'résilié' in the transform, sent as UTF-8 into a LATIN1 text.
      {reading("LATIN1"), rewritten(),
       rename("CASE {value} WHEN 'r\xc3\xa9sili\xc3\xa9' THEN 2 END"), "non-ASCII text"},
      {reading("LATIN1"), rewritten(), rename({}, "\xc3\xa9tat"), "non-ASCII text"},
      {reading("LATIN1"), rewritten(), rename("CASE {value} WHEN 'active' THEN 1 END"), nullptr},
      {reading("UTF8"), rewritten(), rename("CASE {value} WHEN 'r\xc3\xa9' THEN 2 END"), nullptr},
      // A pipelined SET client_encoding = 'LATIN1' not answered yet: the UTF-8 bytes spliced in
      // would be read as LATIN1.
      {reading("UTF8", true, true), rewritten(), rename("CASE {value} WHEN 'r\xc3\xa9' THEN 2 END"),
       "not answered yet", "INSERT INTO notes (id, body) VALUES (1, 'x')"},
      {reading("UTF8", true, true), rewritten(), rename("CASE {value} WHEN 'r' THEN 2 END"),
       nullptr, "INSERT INTO notes (id, body) VALUES (1, 'x')"},
      // LATIN1 E'\é': not valid UTF-8 to the parser, run by the server.
      {reading("WIN1252"), unparsed, rename(), "cannot parse"},
      {reading("UTF8"), unparsed, rename(), nullptr},
      // An ASCII text reads alike: the server reports its syntax error.
      {reading("LATIN1"), unparsed, rename(), nullptr, "INSERT INTO notes VALUES (1,"},
      // The proxy splits COPY rows by bytes.
      {reading("SJIS"), rewritten(true), rename(), "data stream"},
      {reading("UTF8", true, true), rewritten(true), rename(), "data stream"},
      {reading("SJIS"), binary_copy, rename(), nullptr},
      {reading("LATIN1"), rewritten(true), rename(), nullptr},
      // The SET has run when the COPY's data comes.
      {reading("UTF8"), rewritten(true), rename(), "data stream",
       "SET client_encoding = 'SJIS'; COPY notes (id, body) FROM STDIN"},
      {reading("UTF8"), rewritten(true), rename(), "data stream",
       "RESET client_encoding; COPY notes (id, body) FROM STDIN"},
      {reading("UTF8"), rewritten(true), rename(), nullptr, "COPY notes (id, body) FROM STDIN"},
  };
  for (const auto& c : cases) {
    const std::vector<Migration> migrations{c.migration};
    const auto why = unsplicable_rewrite(c.reading, c.sql, c.result, migrations);
    if (c.refused == nullptr) {
      EXPECT_FALSE(why.has_value()) << c.reading.encoding_name << " -> " << *why;
    } else {
      ASSERT_TRUE(why.has_value()) << c.reading.encoding_name << " " << c.migration.to_new;
      EXPECT_NE(why->find(c.refused), std::string::npos) << *why;
    }
  }
}

TEST(ClientEncodingTest, TellsTextsThatMayChangeHowTheServerReads) {
  const struct {
    const char* sql;
    bool may;
  } cases[] = {
      {"SET standard_conforming_strings = off", true},
      {"set local STANDARD_CONFORMING_STRINGS to on", true},
      {"SET client_encoding TO 'SJIS'", true},
      {"SET NAMES 'SJIS'", true},
      {"SELECT set_config('client_encoding', 'LATIN1', false)", true},
      {"RESET ALL", true},
      {"SELECT 1; SET NAMES 'SJIS'", true},
      {"SELECT SET_CONFIG('standard_conforming_strings', 'off', false)", true},
      {"", false},
      {"DISCARD ALL", true},
      {"SET search_path = app", false},
      {"SELECT names FROM notes", false},
      {"UPDATE notes SET body = 'long string' WHERE id = 1", false},
      // A column, an alias, a comment or a string with the words sets nothing.
      {"SELECT 'gzip' AS content_encoding", false},
      {"SELECT 1 AS x /* conforming */", false},
      {"UPDATE files SET encoding = 'gzip', names = 'x' WHERE id = 1", false},
      {"SELECT 'set_config(' FROM t -- reset all", false},
      {"SELECT 1; reset client_encoding", true},
      {"begin; set session \"client_encoding\" = 'SJIS'", true},
      {"SELECT pg_catalog.set_config ('client_encoding', 'SJIS', false)", true},
      {"DO $$ BEGIN PERFORM set_config('client_encoding', 'SJIS', false); END $$", true},
      {"EXPLAIN ANALYZE SELECT set_config('client_encoding', 'SJIS', false)", true},
      {"INSERT INTO t VALUES (set_config('standard_conforming_strings', 'off', true))", true},
      {"  /* c */ set client_encoding = 'SJIS';  ", true},
      {"Reset standard_conforming_strings", true},
      {"SELECT abalance FROM pgbench_accounts WHERE aid = 7;", false},
      {"ALTER ROLE app SET client_encoding = 'SJIS'", false},
      // Another setting named in a plain string: row-level security's tenant, every transaction.
      {"SELECT set_config('app.tenant', '42', true)", false},
      {"SELECT set_config('Client_Encoding', 'SJIS', false)", true},
      {"SELECT set_config(E'client_encoding', 'SJIS', false)", true},
      {"SELECT set_config('app.tenant', '42', true), set_config($1, 'off', false)", true},
      {"UPDATE pg_settings SET setting = 'off' WHERE name = 'standard_conforming_strings'", true},
      {"update pg_catalog.pg_settings set setting = 'SJIS' where name = 'client_encoding'", true},
      {"WITH s AS (UPDATE pg_settings SET setting = 'SJIS' RETURNING 1) SELECT 1", true},
      {"BEGIN; UPDATE pg_settings SET setting = 'SJIS' WHERE name = 'client_encoding'", true},
      {"SELECT setting FROM pg_settings WHERE name = 'client_encoding'", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(may_change_reading(c.sql), c.may) << c.sql;
    // The proxy asks with the verb it scanned once for all its checks: the same answers.
    EXPECT_EQ(may_change_reading(c.sql, detail::sole_statement_verb(c.sql)), c.may) << c.sql;
  }
}

}  // namespace
}  // namespace switchyard::rewrite
