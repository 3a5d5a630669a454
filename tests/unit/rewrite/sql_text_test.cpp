// quote_ident: a name in, the identifier the rewrite writes out. Each name is asked twice, the
// second time from the keyword answers remembered by the first.

#include "rewrite/sql_text.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace switchyard::rewrite::detail {
namespace {

struct SqlTextCase {
  const char* name;
  const char* written;
};

TEST(QuoteIdentTest, BareOnlyWhenPostgresReadsItBackUnchanged) {
  const SqlTextCase cases[] = {
      {"abalance", "abalance"},
      {"abalance_v2", "abalance_v2"},
      {"_x$1", "_x$1"},
      {"name", "name"},            // an unreserved keyword
      {"select", "\"select\""},    // reserved
      {"user", "\"user\""},        // reserved
      {"between", "\"between\""},  // a column-name keyword
      {"Email", "\"Email\""},      // upper case would be folded
      {"1st", "\"1st\""},
      {"$x", "\"$x\""},
      {"first name", "\"first name\""},
      {"say\"hi", "\"say\"\"hi\""},
      {"", "\"\""},
  };
  for (int round = 0; round < 2; ++round) {
    for (const auto& c : cases) {
      SCOPED_TRACE(c.name);
      EXPECT_EQ(quote_ident(c.name), c.written);
    }
  }
}

TEST(ApplyTemplateTest, SubstitutesEveryPlaceholderParenthesised) {
  const struct {
    std::string tmpl, value, out;
  } cases[] = {
      {"", "\"status\"", "\"status\""},
      {"{value}", "\"status\"", "(\"status\")"},
      {"CAST({value} AS int)", "x", "CAST((x) AS int)"},
      {"coalesce({value}, {value})", "x", "coalesce((x), (x))"},
      {"lower({value}) || '{value'", "x", "lower((x)) || '{value'"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(apply_template(c.tmpl, c.value), c.out) << c.tmpl;
  }
}

// As an operand: an empty template leaves the value bare, any other is parenthesised whole.
TEST(ApplyTemplateTest, TransformedIsAnOperand) {
  EXPECT_EQ(transformed("", "t.v"), "t.v");
  EXPECT_EQ(transformed("{value} + 1", "t.v"), "((t.v) + 1)");
}

TEST(SoleStatementVerbTest, FirstWordOfOneStatementOnly) {
  struct Verb {
    const char* sql;
    std::optional<std::string_view> verb;
  };
  const Verb cases[] = {
      {"SELECT 1", "SELECT"},
      {"  set search_path = a;  \n", "set"},
      {"/* a /* nested */ one */ -- line\n\tDISCARD ALL", "DISCARD"},
      {"-- ends at a carriage return\rRESET ALL", "RESET"},
      {"UPDATE t SET a = 1 ;", "UPDATE"},
      {"SELECT 1; SET search_path = b", std::nullopt},  // maybe several statements
      {"SELECT ';'", std::nullopt},                     // a ';' before the end: not judged
      {"/* ; */ SET search_path = c", "SET"},           // a ';' before the verb is a comment's
      {"/* ; */ SELECT 1; SET x = 1", std::nullopt},
      {"-- a\n-- b\nDEALLOCATE ALL", "DEALLOCATE"},
      {"-- no end", std::nullopt},
      {"(SELECT 1)", std::nullopt},  // no letter first
      {"-- only a comment", std::nullopt},
      {"/* never ends", std::nullopt},
      {"", std::nullopt},
  };
  for (const Verb& c : cases) {
    SCOPED_TRACE(c.sql);
    EXPECT_EQ(sole_statement_verb(c.sql), c.verb);
  }
}

TEST(IcontainsTest, FindsTheLowercaseWordInAnyCase) {
  struct Search {
    std::string hay;
    const char* word;
    bool found;
  };
  const std::string pad(40, 'x');
  const Search cases[] = {
      {"SELECT * FROM users", "users", true},
      {"select * from USERS", "users", true},
      {"SELECT * FROM \"Users\"", "users", true},
      {"users", "users", true},
      {"user", "users", false},
      {"", "users", false},
      {"SELECT abalance FROM pgbench_accounts WHERE aid = 1", "bench_other", false},
      {"SELECT abalance FROM pgbench_accounts WHERE aid = 1", "pgbench_accounts", true},
      // bit 0x20 alone: '@' is 'a' without it, '_' is DEL with it; neither is a letter's case
      {"SELECT @bc, ~ FROM t" + pad, "abc", false},
      {pad + "\x7f" + "note" + pad, "_note", false},
      {pad + "_NOTE" + pad, "_note", true},
      // every start of a long text is tried, including those of the last, overlapping block
      {pad + "bench_other", "bench_other", true},
      {pad + "bench_othe", "bench_other", false},
      {"bench_other" + pad, "bench_other", true},
      {pad.substr(0, 17) + "Bench_Other" + pad.substr(0, 3), "bench_other", true},
  };
  for (const Search& c : cases) {
    SCOPED_TRACE(c.hay + " / " + c.word);
    EXPECT_EQ(icontains(c.hay, c.word), c.found);
  }
}

TEST(IcontainsTest, AgreesWithAPlainSearchAtEveryLengthAndPlace) {
  auto plain = [](std::string_view hay, std::string_view word) {
    std::string lower(hay);
    for (char& ch : lower) {
      if (ch >= 'A' && ch <= 'Z') {
        ch = static_cast<char>(ch - 'A' + 'a');
      }
    }
    return !word.empty() && lower.find(word) != std::string::npos;
  };
  // Few letters, so that matches and near misses are common; bytes that differ from them only
  // in bit 0x20 too.
  const std::string alphabet = "abAB_\x7f@`\x80";
  std::mt19937 random(20261129);
  for (int round = 0; round < 20000; ++round) {
    std::string hay(random() % 70, ' ');
    for (char& ch : hay) {
      ch = alphabet[random() % alphabet.size()];
    }
    std::string word(1 + random() % 5, ' ');
    for (char& ch : word) {
      ch = "ab_"[random() % 3];
    }
    ASSERT_EQ(icontains(hay, word), plain(hay, word)) << hay << " / " << word;
  }
}

// A word written as stored is compared whole, any other spelling byte by byte: every length up
// to 24, each case of each letter, and near misses (another letter, or a byte that differs only
// in bit 0x20) at each place.
TEST(IcontainsTest, LongWordsMatchInAnyCaseAndNearMissesDoNot) {
  std::mt19937 random(20261130);
  auto plain_lower = [](std::string text) {
    for (char& ch : text) {
      if (ch >= 'A' && ch <= 'Z') {
        ch = static_cast<char>(ch - 'A' + 'a');
      }
    }
    return text;
  };
  // Bytes from 0x80 (a UTF-8 name) are never case-folded: 0xC3 is not 'C' with bit 7 set.
  EXPECT_TRUE(icontains("SELECT * FROM CAF\xc3\xa9_ACCOUNTS", "caf\xc3\xa9_accounts"));
  EXPECT_FALSE(icontains("SELECT * FROM CAF\xe3\xa9_ACCOUNTS", "caf\xc3\xa9_accounts"));
  const std::string letters = "az_09$";
  for (std::size_t length = 1; length <= 24; ++length) {
    for (int round = 0; round < 200; ++round) {
      std::string word(length, ' ');
      for (char& ch : word) {
        ch = letters[random() % letters.size()];
      }
      std::string written = word;
      for (char& ch : written) {
        if (ch >= 'a' && ch <= 'z' && random() % 2 == 0) {
          ch = static_cast<char>(ch - 'a' + 'A');
        }
      }
      const std::string before(random() % 20, ' ');
      const std::string after(random() % 20, ';');
      ASSERT_TRUE(icontains(before + written + after, word)) << written << " / " << word;
      std::string miss = written;
      const std::size_t at = random() % miss.size();
      const char swaps[] = {'@', '[', '`', '{', '\x7f', '\xda', 'b', 'Y'};
      miss[at] = swaps[random() % sizeof swaps];
      const std::string hay = before + miss + after;
      ASSERT_EQ(icontains(hay, word), plain_lower(hay).find(word) != std::string::npos)
          << miss << " / " << word;
    }
  }
}

}  // namespace
}  // namespace switchyard::rewrite::detail
