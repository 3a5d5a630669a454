// scan_plain: SQL in, whether the plain reader vouches for it out; where it does, its tokens must
// be libpg_query's scanner's, token for token (start, end, kind, keyword kind).

#include "rewrite/plain_scan.hpp"

#include <gtest/gtest.h>

#include <string>

#include "rewrite/keywords.hpp"

namespace switchyard::rewrite::detail {
namespace {

enum class Reader { kPlain, kScanner };

struct PlainScanCase {
  std::string sql;
  Reader reader;
};

std::string describe(const std::vector<Token>& tokens) {
  std::string out;
  for (const Token& t : tokens) {
    out += std::to_string(t.start) + "-" + std::to_string(t.end) + ":" + std::to_string(t.kind) +
           "/" + std::to_string(t.keyword_kind) + " ";
  }
  return out;
}

TEST(PlainScanTest, ReadsPlainTextAsTheScannerDoes) {
  const PlainScanCase cases[] = {
      // What pgbench and ORMs send.
      {"UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;", Reader::kPlain},
      {"UPDATE pgbench_accounts SET abalance = abalance + -2731 WHERE aid = 48213;",
       Reader::kPlain},
      {"SELECT abalance FROM pgbench_accounts WHERE aid = $1", Reader::kPlain},
      {"INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, "
       "CURRENT_TIMESTAMP)",
       Reader::kPlain},
      {"/* app=checkout */ SELECT a.\"Weird \"\"Name\"\"\", b.* FROM t a -- trailing\n"
       "JOIN u AS b ON a.id = b.id WHERE a.x <> 1 AND a.y != 2 AND a.z <= 3 AND a.w >= $10",
       Reader::kPlain},
      {"select f(a => 1), $1::int, x[1], 'it''s', '' FROM t ORDER BY 1 NULLS FIRST; COMMIT",
       Reader::kPlain},
      {"SeLeCt NOT x, y IS NULL FROM \"select\" WITH ORDINALITY", Reader::kPlain},
      {"/* nested /* comment */ still */ SELECT 1 -- end", Reader::kPlain},
      {"SELECT 2147483647, 2147483648, 007, 99999999999999999999", Reader::kPlain},
      {"SELECT a+b, a*b, a/b, a%b, a^b, a<b, a>b, -a", Reader::kPlain},
      {"SELECT 'a'\n", Reader::kPlain},
      {"", Reader::kPlain},
      {"  \t\r\n", Reader::kPlain},
      // Left to the scanner: string continuation, prefixed strings, numerics, junk, escapes.
      {"SELECT 'a'\n'b'", Reader::kScanner},
      {"SELECT 'a' -- c\n 'b'", Reader::kScanner},
      {"SELECT E'a\\n', B'01', X'ff', N'x', U&'d\\0061t'", Reader::kScanner},
      {"SELECT e'x'", Reader::kScanner},
      {"SELECT U&\"d0061t\"", Reader::kScanner},
      {"SELECT 1.5", Reader::kScanner},
      {"SELECT .5", Reader::kScanner},
      {"SELECT 1e5", Reader::kScanner},
      {"SELECT 123abc", Reader::kScanner},
      {"SELECT $1abc", Reader::kScanner},
      {"SELECT $$dollar$$", Reader::kScanner},
      {"SELECT $tag$x$tag$", Reader::kScanner},
      {"SELECT 'back\\slash'", Reader::kScanner},
      {"SELECT a=-1", Reader::kScanner},
      {"SELECT a @> b, a ~ b, a || b, a ->> 'k', !a", Reader::kScanner},
      {"SELECT x := 1", Reader::kScanner},
      {"SELECT 1..2", Reader::kScanner},
      {"SELECT a:::b", Reader::kScanner},
      {"SELECT \"\"", Reader::kScanner},
      {"SELECT \"open", Reader::kScanner},
      {"SELECT 'open", Reader::kScanner},
      {"SELECT 1 /* open", Reader::kScanner},
      {"SELECT 'caf\xc3\xa9'", Reader::kScanner},
      {"SELECT \"caf\xc3\xa9\"", Reader::kScanner},
      {"SELECT ?", Reader::kScanner},
      {"SELECT 1\f", Reader::kScanner},
      {std::string("SELECT 1\0 2", 10), Reader::kScanner},
  };
  ASSERT_TRUE(keywords_known());
  for (const PlainScanCase& c : cases) {
    SCOPED_TRACE(c.sql);
    const std::optional<std::vector<Token>> plain = scan_plain(c.sql);
    EXPECT_EQ(plain.has_value(), c.reader == Reader::kPlain);
    if (plain.has_value()) {
      EXPECT_EQ(describe(*plain), describe(scan_tokens_with_libpg_query(c.sql)));
    }
  }
}

TEST(PlainScanTest, EveryPrefixAndSuffixItReadsMatchesTheScanner) {
  // Cut anywhere, a text ends inside a string, a comment or an operator: the reader must
  // decline or agree, never read it differently.
  const std::string sql =
      "/* c /* d */ */ UPDATE \"T\"\"x\" SET a = 'q''r', b = $12::text -- note\n"
      "WHERE c <> 2147483648 AND d >= -7 RETURNING *;";
  int read = 0;
  for (std::size_t cut = 0; cut <= sql.size(); ++cut) {
    for (const std::string& piece : {sql.substr(0, cut), sql.substr(cut)}) {
      SCOPED_TRACE(piece);
      const std::optional<std::vector<Token>> plain = scan_plain(piece);
      if (plain.has_value()) {
        ++read;
        EXPECT_EQ(describe(*plain), describe(scan_tokens_with_libpg_query(piece)));
      }
    }
  }
  EXPECT_GT(read, 100);
}

TEST(KeywordsTest, KnowsTheScannersKinds) {
  ASSERT_TRUE(keywords_known());
  struct Expect {
    const char* word;
    int kind;
  };
  const Expect expected[] = {
      {"select", PG_QUERY__KEYWORD_KIND__RESERVED_KEYWORD},
      {"FROM", PG_QUERY__KEYWORD_KIND__RESERVED_KEYWORD},
      {"set", PG_QUERY__KEYWORD_KIND__UNRESERVED_KEYWORD},
      {"abort", PG_QUERY__KEYWORD_KIND__UNRESERVED_KEYWORD},  // token ABORT_P
      {"null", PG_QUERY__KEYWORD_KIND__RESERVED_KEYWORD},     // token NULL_P
      {"row", PG_QUERY__KEYWORD_KIND__COL_NAME_KEYWORD},
      {"authorization", PG_QUERY__KEYWORD_KIND__TYPE_FUNC_NAME_KEYWORD},
      {"current_timestamp", PG_QUERY__KEYWORD_KIND__RESERVED_KEYWORD},
  };
  for (const Expect& e : expected) {
    SCOPED_TRACE(e.word);
    const Keyword* kw = find_keyword(e.word);
    ASSERT_NE(kw, nullptr);
    EXPECT_EQ(kw->kind, e.kind);
    const std::vector<Token> scanned = scan_tokens_with_libpg_query(e.word);
    ASSERT_EQ(scanned.size(), 1U);
    EXPECT_EQ(kw->token, scanned[0].kind);
  }
  for (const char* word : {"abalance", "ident", "not_la", "mode_type_name", "sql_comment", ""}) {
    EXPECT_EQ(find_keyword(word), nullptr) << word;
  }
}

}  // namespace
}  // namespace switchyard::rewrite::detail
