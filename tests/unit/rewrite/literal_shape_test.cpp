// Literal shapes: texts that differ only in their constants share one rewrite. The scanner's
// table (text in, key and literals out), what it refuses, and the property the proxy relies on:
// the key's rewrite, filled with another text's literals, is that text's own rewrite.

#include "rewrite/literal_shape.hpp"

#include <string>
#include <vector>

#include "rewrite_test_support.hpp"

namespace switchyard::rewrite::test {
namespace {

struct ShapeCase {
  const char* in;
  const char* key;
  std::vector<std::string_view> literals;
};

TEST(LiteralShapeTest, TakesOutIntegersNumericsAndStrings) {
  const std::vector<ShapeCase> cases = {
      {"SELECT abalance FROM pgbench_accounts WHERE aid = 123;",
       "SELECT abalance FROM pgbench_accounts WHERE aid = 2147470000;",
       {"123"}},
      {"UPDATE pgbench_accounts SET abalance = abalance + -4567 WHERE aid = 89",
       "UPDATE pgbench_accounts SET abalance = abalance + -2147470000 WHERE aid = 2147470001",
       {"4567", "89"}},
      {"INSERT INTO t (a, b, c) VALUES (1.5, 'x''y', E'a\\'b')",
       "INSERT INTO t (a, b, c) VALUES (2147460000.5, 'swlit0001', 'swlit0002')",
       {"1.5", "'x''y'", "E'a\\'b'"}},
      {"SELECT .5, 1e3, 2E-4, 7.",
       "SELECT 2147460000.5, 2147460001.5, 2147460002.5, 2147460003.5",
       {".5", "1e3", "2E-4", "7."}},
      // Names, parameters, comments and quoted identifiers keep their digits.
      {"SELECT t1.c2, $1 FROM \"t 3\" t1 /* 4 */ WHERE x = 5 -- 6\n",
       "SELECT t1.c2, $1 FROM \"t 3\" t1 /* 4 */ WHERE x = 2147470000 -- 6\n",
       {"5"}},
      // Integers beyond int4 are int8 or numeric by their size: kept as written.
      {"SELECT 9999999999, 42", "SELECT 9999999999, 2147470000", {"42"}},
      // Bit strings and national strings have types of their own.
      {"SELECT B'101', X'ff', N'abc', 3", "SELECT B'101', X'ff', N'abc', 2147470000", {"3"}},
      {"SELECT date '2020-01-01', interval '1 day', 'a'::text",
       "SELECT date 'swlit0000', interval 'swlit0001', 'swlit0002'::text",
       {"'2020-01-01'", "'1 day'", "'a'"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.in);
    auto shape = literal_shape(c.in);
    ASSERT_TRUE(shape.has_value());
    EXPECT_EQ(shape->key, c.key);
    EXPECT_EQ(std::vector<std::string_view>(shape->literals.begin(), shape->literals.end()),
              c.literals);
    // The key filled with its own literals is the text again.
    EXPECT_EQ(fill_literals(shape->key, shape->literals), std::string(c.in));
  }
}

TEST(LiteralShapeTest, RefusesWhatItDoesNotVouchFor) {
  for (const char* in : {
           "SELECT 1 FROM t WHERE a = 'x\\'",  // backslash in a plain string
           "SELECT $$1$$",                     // dollar quote
           "SELECT $tag$x$tag$",               // tagged dollar quote
           "SELECT U&'d\\0061t'",              // Unicode escapes
           "SELECT 2147470001",                // a placeholder's spelling
           "SELECT 'swlit0001'",               // a placeholder's spelling
           "SELECT 12abc",                     // a number run into a name
           "SELECT 1.2.3",                     // two dots
           "SELECT 'unterminated",             // the parser says what is wrong
           "SELECT a FROM t /* unterminated",  //
           "SELECT a FROM t",                  // nothing to take out
           "SELECT $1, $2",                    //
           "SELECT $2e'x', 1",                 // an E string run into a parameter
       }) {
    SCOPED_TRACE(in);
    EXPECT_FALSE(literal_shape(in).has_value());
  }
}

TEST(LiteralShapeTest, FillLeavesOtherDigitsAndRefusesUnknownPlaceholders) {
  const std::vector<std::string_view> literals = {"17", "'q'"};
  // A transform's own constants, even ones that start like a placeholder, stay.
  EXPECT_EQ(fill_literals("SELECT 2147470000 * 214745, x21474700001", literals),
            std::string("SELECT 17 * 214745, x21474700001"));
  EXPECT_EQ(fill_literals("SELECT 'swlit0001', 'swlit0001'", literals),
            std::string("SELECT 'q', 'q'"));
  EXPECT_FALSE(fill_literals("SELECT 2147470002", literals).has_value());
  EXPECT_FALSE(fill_literals("SELECT 'swlit0005'", literals).has_value());
  // An E-string put against a name would join it: refused, the text is rewritten instead.
  const std::vector<std::string_view> e_string = {"E'a'"};
  EXPECT_FALSE(fill_literals("SELECT x'swlit0000'", e_string).has_value());
  EXPECT_EQ(fill_literals("SELECT x 'swlit0000'", e_string), std::string("SELECT x E'a'"));
}

TEST(LiteralShapeTest, RefusesAPlaceholdersSpellingAnywhereInTheText) {
  // Every place a mark can start, in texts long and short: the blocks of 16 starts, the last
  // block that overlaps the one before, and the bytes too few for a block.
  for (std::size_t pad = 0; pad <= 40; ++pad) {
    const std::string before = "SELECT 1 /* " + std::string(pad, 'x') + " ";
    for (const char* mark : {"21474", "swlit"}) {
      SCOPED_TRACE(before + mark);
      EXPECT_FALSE(literal_shape(before + mark + " */").has_value());
      EXPECT_FALSE(
          literal_shape(std::string("SELECT 1, ") + mark + std::string(pad, 'y')).has_value());
    }
    for (const char* near : {"21475", "2147", "swlix", "SWLIT", "s1474", "2wlit"}) {
      SCOPED_TRACE(before + near);
      EXPECT_TRUE(literal_shape(before + near + " */").has_value());
    }
  }
}

TEST(LiteralShapeTest, TakingAShapeAgainReusesTheBuffersAndLeavesNothingBehind) {
  LiteralShape shape;
  ASSERT_TRUE(take_literal_shape("UPDATE t SET a = 'long string value', b = 2 WHERE c = 3", shape));
  ASSERT_TRUE(take_literal_shape("SELECT a FROM t WHERE c = 4", shape));
  EXPECT_EQ(shape.key, "SELECT a FROM t WHERE c = 2147470000");
  EXPECT_EQ(std::vector<std::string_view>(shape.literals.begin(), shape.literals.end()),
            std::vector<std::string_view>{"4"});
  EXPECT_FALSE(take_literal_shape("SELECT $1", shape));
  ASSERT_TRUE(take_literal_shape("SELECT 5", shape));
  EXPECT_EQ(shape.key, "SELECT 2147470000");
  EXPECT_EQ(shape.literals.size(), 1u);
}

TEST(LiteralShapeTest, TakesOutAtMostTenThousandLiterals) {
  // Placeholders carry four digits.
  auto with_literals = [](int n) {
    std::string sql = "SELECT 0";
    for (int i = 1; i < n; ++i) {
      sql += ",1";
    }
    return sql;
  };
  const std::string text = with_literals(10000);
  auto most = literal_shape(text);  // views into `text`
  ASSERT_TRUE(most.has_value());
  EXPECT_EQ(most->literals.size(), 10000u);
  EXPECT_NE(most->key.find("2147479999"), std::string::npos);
  EXPECT_TRUE(fill_literals(most->key, most->literals) == text);
  EXPECT_FALSE(literal_shape(with_literals(10001)).has_value());
}

RewriteResult result_of(Outcome outcome, const char* sql) {
  RewriteResult r;
  r.outcome = outcome;
  r.sql = sql;
  return r;
}

TEST(LiteralShapeTest, TemplatesAreMadeOnlyOfReusableResults) {
  RewriteResult unchanged;
  auto same = LiteralTemplate::of(unchanged);
  ASSERT_TRUE(same.has_value());
  EXPECT_TRUE(same->unchanged());

  const RewriteResult rewritten =
      result_of(Outcome::rewritten, "SELECT b AS a FROM t WHERE c = 2147470000");
  auto filler = LiteralTemplate::of(rewritten);
  ASSERT_TRUE(filler.has_value());
  EXPECT_FALSE(filler->unchanged());
  std::string out = "left over from the last statement, longer than the text";
  const std::vector<std::string_view> literals = {"42"};
  ASSERT_TRUE(filler->fill(literals, out));
  EXPECT_EQ(out, "SELECT b AS a FROM t WHERE c = 42");
  EXPECT_FALSE(filler->fill({}, out));  // a placeholder without its literal

  for (Outcome outcome :
       {Outcome::rejected, Outcome::passthrough_unsupported, Outcome::needs_catalog}) {
    EXPECT_FALSE(LiteralTemplate::of(result_of(outcome, "SELECT 2147470000")).has_value());
  }
  RewriteResult copy = result_of(Outcome::rewritten, "COPY t (a, b) FROM STDIN");
  copy.copy.emplace();
  EXPECT_FALSE(LiteralTemplate::of(copy).has_value());
  RewriteResult missing = result_of(Outcome::rewritten, "SELECT 2147470000");
  missing.missing.push_back({"public", "t"});
  EXPECT_FALSE(LiteralTemplate::of(missing).has_value());
  EXPECT_FALSE(LiteralTemplate::parse("SELECT 'swlit00x1'").has_value());
}

// The text of `shape` with every literal replaced by another one of the same kind.
std::string with_other_literals(const LiteralShape& shape, std::vector<std::string>& storage) {
  storage.clear();
  for (std::string_view literal : shape.literals) {
    if (literal.front() == '\'' || literal.front() == 'E' || literal.front() == 'e') {
      storage.emplace_back("'in''active'");
    } else if (literal.find_first_of(".eE") != std::string_view::npos) {
      storage.emplace_back("3.25");
    } else {
      storage.emplace_back(std::to_string(literal.size() * 7 + 2));
    }
  }
  std::vector<std::string_view> views(storage.begin(), storage.end());
  return *fill_literals(shape.key, views);
}

// The property the proxy relies on (proxy/session_rewrite.cpp): when the key's rewrite, filled
// with one text's literals, reproduces that text's rewrite, it reproduces the rewrite of every
// text of the same shape. Checked over the rewrite tables' kinds of statement and every
// migration phase, with a rename and with a type-changing transform.
TEST(LiteralShapeTest, KeyRewriteFilledEqualsEachTextsRewrite) {
  const std::vector<const char*> corpus = {
      "SELECT status FROM users WHERE id = 1",
      "SELECT id, status FROM users WHERE status = 'active' AND id > 10 ORDER BY 1 LIMIT 5",
      "SELECT * FROM users WHERE id IN (1, 2, 3)",
      "SELECT u.status, o.total FROM users u JOIN orders o ON o.user_id = u.id WHERE o.total > "
      "99.5",
      "SELECT count(*) FROM users WHERE status <> 'inactive' GROUP BY status HAVING count(*) > 2",
      "SELECT CASE WHEN id > 5 THEN status ELSE 'none' END FROM users",
      "SELECT status FROM users WHERE id = -7 OFFSET 2",
      "SELECT status, 1 FROM users ORDER BY 2, 1",
      "UPDATE users SET status = 'active' WHERE id = 42",
      "UPDATE users SET status = 'inactive', name = E'o\\'brien' WHERE id = 3 RETURNING status",
      "UPDATE users SET name = 'x' WHERE status = 'active'",
      "INSERT INTO users (id, status) VALUES (1, 'active')",
      "INSERT INTO users (id, status, name) VALUES (1, 'active', 'a'), (2, 'inactive', 'b')",
      "INSERT INTO users (id, status) VALUES (5, 'active') ON CONFLICT (id) DO UPDATE SET "
      "status = 'inactive'",
      "INSERT INTO users VALUES (9, 'active')",
      "DELETE FROM users WHERE status = 'inactive' AND id < 100",
      "SELECT status FROM users WHERE id = 1; UPDATE users SET status = 'active' WHERE id = 2",
      "WITH x AS (SELECT id FROM users WHERE status = 'active' LIMIT 3) SELECT * FROM x",
      "SELECT status::text || 'x' FROM users WHERE id = 1.0",
      "SELECT 1",
      "UPDATE users SET status = status WHERE id = 1",
      "UPDATE users SET status = lower('ACTIVE') WHERE id = 8",
      "MERGE INTO users u USING (SELECT 4 AS id, 'active' AS s) v ON u.id = v.id WHEN MATCHED "
      "AND u.status <> 'inactive' THEN UPDATE SET status = 'inactive' WHEN NOT MATCHED THEN "
      "INSERT (id, status) VALUES (v.id, 'active')",
      "MERGE INTO users u USING orders o ON o.user_id = u.id AND o.total > 2.5 WHEN MATCHED THEN "
      "UPDATE SET status = CASE WHEN o.total > 10 THEN 'big' ELSE 'small' END",
      "SELECT o.id, row_to_json(u) FROM orders o LEFT JOIN users u ON u.id = o.user_id WHERE "
      "o.total > 1.5",
      "INSERT INTO users SELECT * FROM (VALUES (3, 'active')) v",
      "INSERT INTO users SELECT 1, 'a' UNION SELECT 2, 'b'",
      "UPDATE users SET status = md5(random()::text || 'salt') WHERE id = 4 AND name <> 'x'",
      "INSERT INTO users (id, status) VALUES (1, random()::text), (2, 'x')",
      "UPDATE users SET (name, status) = ('n', random()::text) WHERE id = 1",
      // Refused: a refusal is never shared, each text of the shape is rewritten.
      "MERGE INTO users u USING orders o ON o.user_id = u.id AND o.total > 2 WHEN NOT MATCHED "
      "THEN INSERT (id, status) VALUES (o.id, random()::text)",
  };
  const StaticCatalog catalog = make_catalog();
  int reusable = 0;
  for (bool transform : {false, true}) {
    for (auto [writes, reads] :
         {std::pair{Writes::old_column, Reads::old_column},
          std::pair{Writes::both, Reads::old_column}, std::pair{Writes::both, Reads::new_column},
          std::pair{Writes::new_column, Reads::new_column}}) {
      const Rewriter rewriter({users_migration(writes, reads, transform)});
      const SessionContext ctx;
      for (const char* sql : corpus) {
        SCOPED_TRACE(sql);
        auto shape = literal_shape(sql);
        ASSERT_TRUE(shape.has_value());
        const RewriteResult tmpl = rewriter.rewrite(shape->key, ctx, catalog);
        auto first = instantiate(tmpl, *shape);
        if (!first || !same_result(*first, rewriter.rewrite(sql, ctx, catalog))) {
          continue;  // not reusable: the proxy rewrites each text of this shape
        }
        ++reusable;
        std::vector<std::string> storage;
        const std::string other = with_other_literals(*shape, storage);
        SCOPED_TRACE(other);
        auto other_shape = literal_shape(other);
        ASSERT_TRUE(other_shape.has_value());
        ASSERT_EQ(other_shape->key, shape->key);
        auto reused = instantiate(tmpl, *other_shape);
        ASSERT_NE(reused, nullptr);
        const RewriteResult direct = rewriter.rewrite(other, ctx, catalog);
        EXPECT_TRUE(same_result(*reused, direct)) << reused->sql << "\n" << direct.sql;
        if (direct.outcome == Outcome::rewritten) {
          EXPECT_TRUE(parses(reused->sql)) << reused->sql;
        }
      }
    }
  }
  // Most of the corpus must take the shared path, or the test proves little.
  EXPECT_GT(reusable, static_cast<int>(corpus.size()) * 6);
  EXPECT_LT(reusable, static_cast<int>(corpus.size()) * 8);
}

}  // namespace
}  // namespace switchyard::rewrite::test
