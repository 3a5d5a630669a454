// Shape recipes: a later text with the same text between its literals, and literals of the same
// kinds, is recognised without a scan. What the proxy relies on: whenever a recipe recognises a
// text, take_literal_shape gives that text the same key and the same literals.

#include "rewrite/shape_recipe.hpp"

#include <gtest/gtest.h>

#include <array>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::rewrite {
namespace {

std::vector<std::string_view> literals_of(const LiteralShape& shape) {
  return {shape.literals.begin(), shape.literals.end()};
}

// The recipe of `first`, which must have a shape.
ShapeRecipe recipe_of(const std::string& first) {
  LiteralShape shape;
  EXPECT_TRUE(take_literal_shape(first, shape)) << first;
  auto recipe = ShapeRecipe::of(first, shape);
  EXPECT_TRUE(recipe.has_value()) << first;
  return *recipe;
}

struct RecipeCase {
  const char* first;  // the text the recipe is made from
  const char* later;
  std::vector<std::string_view> literals;  // empty: not recognised
};

TEST(ShapeRecipeTest, RecognisesTheSameTextWithOtherLiteralsOfTheSameKinds) {
  const std::vector<RecipeCase> cases = {
      {"SELECT abalance FROM pgbench_accounts WHERE aid = 123;",
       "SELECT abalance FROM pgbench_accounts WHERE aid = 987654;",
       {"987654"}},
      {"UPDATE pgbench_accounts SET abalance = abalance + -4567 WHERE aid = 89",
       "UPDATE pgbench_accounts SET abalance = abalance + -1 WHERE aid = 100000",
       {"1", "100000"}},
      {"INSERT INTO t VALUES (1.5, 'x', E'a\\'b', .5, 7)",
       "INSERT INTO t VALUES (12.25e3, 'it''s', e'\\\\', .75, 0)",
       {"12.25e3", "'it''s'", "e'\\\\'", ".75", "0"}},
      {"SELECT 'a'5", "SELECT 'bc'67", {"'bc'", "67"}},
      // Not the same shape: another kind, a number beyond int4, another text between.
      {"SELECT * FROM t WHERE a = 5", "SELECT * FROM t WHERE a = 5.5", {}},
      {"SELECT * FROM t WHERE a = 5", "SELECT * FROM t WHERE a = 99999999999", {}},
      {"SELECT * FROM t WHERE a = 5", "SELECT * FROM t WHERE b = 5", {}},
      {"SELECT * FROM t WHERE a = 5", "SELECT * FROM t WHERE a = 5 ", {}},
      {"SELECT * FROM t WHERE a = 5", "SELECT * FROM t WHERE a = ", {}},
      {"SELECT * FROM t WHERE a = 5", "SELECT * FROM t WHERE a = x", {}},
      {"SELECT * FROM t WHERE a = 'x'", "SELECT * FROM t WHERE a = E'x'", {}},
      {"SELECT * FROM t WHERE a = 1.5", "SELECT * FROM t WHERE a = .5", {}},
      // A text take_literal_shape refuses is not recognised either.
      {"SELECT * FROM t WHERE a = 5", "SELECT * FROM t WHERE a = 2147470001", {}},
      {"SELECT * FROM t WHERE a = 'x'", "SELECT * FROM t WHERE a = 'swlit0001'", {}},
      {"SELECT * FROM t WHERE a = 'x'", "SELECT * FROM t WHERE a = 'a\\b'", {}},
      {"SELECT * FROM t WHERE a = 'x'", "SELECT * FROM t WHERE a = 'unterminated", {}},
      {"SELECT * FROM t WHERE a = 1", "SELECT * FROM t WHERE a = 1e", {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.first) + " | " + c.later);
    const ShapeRecipe recipe = recipe_of(c.first);
    LiteralShape recognised;
    const bool matched = recipe.match(c.later, recognised);
    ASSERT_EQ(matched, !c.literals.empty());
    if (!matched) {
      continue;
    }
    EXPECT_EQ(literals_of(recognised), c.literals);
    LiteralShape scanned;
    ASSERT_TRUE(take_literal_shape(c.later, scanned));
    EXPECT_EQ(recognised.key, scanned.key);
  }
}

TEST(ShapeRecipeTest, LongTextsGetNoRecipe) {
  const std::string text = "SELECT 1" + std::string(ShapeRecipe::kMaxText, ' ');
  LiteralShape shape;
  ASSERT_TRUE(take_literal_shape(text, shape));
  EXPECT_FALSE(ShapeRecipe::of(text, shape).has_value());
}

TEST(ShapeRecipeTest, RecentRecipesKeepTheLastFew) {
  RecentRecipes recent;
  LiteralShape shape;
  auto remember = [&](const std::string& text) {
    ASSERT_TRUE(take_literal_shape(text, shape));
    recent.remember(text, shape);
  };
  for (std::size_t i = 0; i <= RecentRecipes::kKept; ++i) {
    remember("SELECT c" + std::to_string(i) + " FROM t WHERE a = 1");
  }
  // The first was pushed out by the last; the others are recognised.
  EXPECT_FALSE(recent.match("SELECT c0 FROM t WHERE a = 2", shape));
  for (std::size_t i = 1; i <= RecentRecipes::kKept; ++i) {
    const std::string text = "SELECT c" + std::to_string(i) + " FROM t WHERE a = 42";
    ASSERT_TRUE(recent.match(text, shape)) << text;
    EXPECT_EQ(literals_of(shape), std::vector<std::string_view>{"42"});
  }
}

// Texts made of pieces chosen to sit at a literal's edges: names a digit or an E would run on
// into, quotes a quote would join, dots, parameters, comments, placeholders' marks.
constexpr std::array<std::string_view, 44> kPieces = {
    "SELECT ",  "a",       "x1",     " ",           "=",     "(",       ")",       ",",
    "-",        "+",       "/",      "*",           "--c\n", "/* 1 */", "\"q 2\"", "\"",
    ".",        "$1",      "$",      "::",          "E",     "e",       "N'n'",    "B'1'",
    "'s'",      "'it''s'", "E'\\''", "e'x'",        "0",     "12",      "1.5",     ".5",
    "7.",       "1e3",     "2E-4",   "99999999999", "21474", "swlit",   "'swlit'", "\n",
    "\xc3\xa9", "U&'x'",   "'a\\b'", "2147483648"};
constexpr std::array<std::string_view, 16> kLiterals = {
    "0",    "5",  "123456", "2147483647", "2147483648", "1.5",  "7.",      "1e3",
    "2E-4", ".5", "'s'",    "'it''s'",    "E'\\''",     "e'x'", "'21474'", "'swlit'"};

TEST(ShapeRecipeTest, WhatARecipeRecognisesTheScanShapesAlike) {
  std::mt19937 random(20261130);
  auto pick = [&](auto& from) { return from[random() % from.size()]; };
  std::size_t recognised_count = 0;
  LiteralShape first_shape;
  LiteralShape recognised;
  LiteralShape scanned;
  for (int round = 0; round < 300000; ++round) {
    std::string first;
    const std::size_t pieces = 1 + random() % 10;
    for (std::size_t i = 0; i < pieces; ++i) {
      first += pick(kPieces);
    }
    if (!take_literal_shape(first, first_shape)) {
      continue;
    }
    auto recipe = ShapeRecipe::of(first, first_shape);
    ASSERT_TRUE(recipe.has_value());
    // The text itself, then the text with its literals swapped for others, of any kind.
    for (int variant = 0; variant < 4; ++variant) {
      std::string later;
      std::size_t copied = 0;
      for (std::string_view literal : first_shape.literals) {
        const auto at = static_cast<std::size_t>(literal.data() - first.data());
        later.append(first, copied, at - copied);
        later += variant == 0 ? literal : pick(kLiterals);
        copied = at + literal.size();
      }
      later.append(first, copied);
      SCOPED_TRACE(first + " | " + later);
      const bool matched = recipe->match(later, recognised);
      if (variant == 0) {
        ASSERT_TRUE(matched);
      }
      if (!matched) {
        continue;
      }
      ++recognised_count;
      ASSERT_TRUE(take_literal_shape(later, scanned));
      ASSERT_EQ(recognised.key, scanned.key);
      ASSERT_EQ(literals_of(recognised), literals_of(scanned));
    }
  }
  // The generator must reach the property: most shaped texts are recognised again.
  EXPECT_GT(recognised_count, 50000u);
}

}  // namespace
}  // namespace switchyard::rewrite
