// The map from an error's position in a rewritten text back to the client's text: a table of
// original text, edits (a rule renders a piece and then edits, as the rules do) and positions.

#include "rewrite/position_map.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "rewrite/literal_shape.hpp"
#include "rewrite/text_edits.hpp"

namespace switchyard::rewrite {
namespace {

struct Edit {
  int begin;
  int end;
  std::string text;
  // A piece of the original rendered (copied) before the edit is made, {-1, -1} for none.
  int copy_begin = -1;
  int copy_end = -1;
};

struct Case {
  const char* name;
  std::string original;
  std::vector<Edit> edits;
  std::string rewritten;  // what the edits make, to check the case itself
  // Position (1-based, characters) in the rewritten text -> in the original, nullopt: none.
  std::vector<std::pair<std::uint32_t, std::optional<std::uint32_t>>> positions;
  CharacterCount count = CharacterCount::utf8;  // how the session's encoding counts
};

const std::vector<Case> kCases = {
    {"UnchangedStretchesMapExactly",
     "update acc set n = 'abc' where id = 1",
     {{24, 24, ", n_big = 'abc'::integer"}},
     "update acc set n = 'abc', n_big = 'abc'::integer where id = 1",
     {{1, 1}, {20, 20}, {24, 24}, {49, 25}, {50, 26}, {61, 37}, {62, 38}, {63, std::nullopt}}},
    {"InsertedTextMapsToItsPointOfInsertion",
     "update acc set n = 'abc' where id = 1",
     {{24, 24, ", n_big = 'abc'::integer"}},
     "update acc set n = 'abc', n_big = 'abc'::integer where id = 1",
     {{25, 25}, {27, 25}, {35, 25}, {49, 25}}},
    {"ACopyOfTheOriginalInInsertedTextMapsToWhatItCopies",
     "update acc set n = 'abc' where id = 1",
     {{24, 24, ", n_big = 'abc'::integer", 19, 24}},
     "update acc set n = 'abc', n_big = 'abc'::integer where id = 1",
     {{35, 20}, {39, 24}, {40, 25}, {48, 25}, {49, 25}, {50, 26}}},
    {"ReplacedTextMapsToTheStartOfWhatItReplaced",
     "select status from users",
     {{7, 13, "CASE state WHEN 1 THEN 'a' END AS status"}},
     "select CASE state WHEN 1 THEN 'a' END AS status from users",
     {{8, 8}, {20, 8}, {47, 8}, {48, 14}, {54, 20}}},
    {"ATransformAroundACopyMapsTheCopyAndTheRestToTheEditStart",
     "insert into users (status) values ('x') returning id",
     {{25, 25, ", state"}, {38, 38, ", (CASE 'x' WHEN 'a' THEN 1 END)", 35, 38}},
     "insert into users (status, state) values ('x', (CASE 'x' WHEN 'a' THEN 1 END)) returning id",
     {{26, 26}, {44, 37}, {49, 39}, {54, 36}, {56, 38}, {58, 39}, {80, 41}, {91, 52}}},
    {"ASpaceAddedBetweenPiecesBelongsToThePieceBefore",
     "select*from t",
     {{6, 7, "t.a"}},
     "select t.a from t",
     {{7, 7}, {8, 7}, {11, 7}, {12, 8}, {17, 13}}},
    {"CharactersNotBytes",
     "update acc set n = 'é' where id = 1",
     {{23, 23, ", m = 'é'"}},
     "update acc set n = 'é', m = 'é' where id = 1",
     {{22, 22}, {27, 23}, {33, 24}, {44, 35}}},
    // LATIN1 `°` (0xB0) is a character of its own, which UTF-8 would count as none.
    {"ASingleByteEncodingCountsBytes",
     "update acc set n = '\xb0\xb0' where id = 1 returning nosuch",
     {{23, 23, ", n_big = '\xb0\xb0'::integer", 19, 23}},
     "update acc set n = '\xb0\xb0', n_big = '\xb0\xb0'::integer where id = 1 returning nosuch",
     {{22, 22}, {34, 20}, {36, 22}, {40, 24}, {47, 24}, {71, 48}},
     CharacterCount::bytes},
    // EUC_JP `あ` (A4 A2) is not counted: its text has no position told; an ASCII one has.
    {"AnUncountedEncodingTellsNoPositionInANonAsciiText",
     "update acc set n = '\xa4\xa2' where id = 1 returning nosuch",
     {{23, 23, ", n_big = '\xa4\xa2'::integer", 19, 23}},
     "update acc set n = '\xa4\xa2', n_big = '\xa4\xa2'::integer where id = 1 returning nosuch",
     {{1, std::nullopt}, {71, std::nullopt}},
     CharacterCount::ascii_only},
    {"AnUncountedEncodingTellsAnAsciiTextsPosition",
     "update acc set n = 'ab' where id = 1 returning nosuch",
     {{23, 23, ", n_big = 'ab'::integer", 19, 23}},
     "update acc set n = 'ab', n_big = 'ab'::integer where id = 1 returning nosuch",
     {{35, 21}, {71, 48}},
     CharacterCount::ascii_only},
    {"NoPositionPastTheText",
     "select status from users",
     {{7, 13, "state"}},
     "select state from users",
     {{0, std::nullopt}, {23, 24}, {24, 25}, {25, std::nullopt}}},
};

class PositionMapTest : public testing::TestWithParam<Case> {};

TEST_P(PositionMapTest, MapsBackToTheClientsText) {
  const Case& c = GetParam();
  detail::TextEdits edits(c.original);
  for (const Edit& e : c.edits) {
    if (e.copy_begin >= 0) {
      (void)edits.render(e.copy_begin, e.copy_end);
    }
    ASSERT_TRUE(edits.replace(e.begin, e.end, e.text));
  }
  PositionMap map;
  const std::string rewritten = edits.render_all(map);
  ASSERT_EQ(rewritten, c.rewritten);
  ASSERT_EQ(rewritten, edits.render(0, static_cast<int>(c.original.size()), true));
  to_characters(map, c.original);
  for (const auto& [rewritten_position, expected] : c.positions) {
    EXPECT_EQ(original_position(map, rewritten, rewritten_position, c.count), expected)
        << "rewritten position " << rewritten_position;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, PositionMapTest, testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<Case>& info) { return info.param.name; });

// A text filled in from the rewrite of its literal shape's key: the key's map, the literals'
// lengths and places in the client's text tell the position.
TEST(PositionMapShapeTest, ATextFilledInFromItsShapesRewrite) {
  const std::string original = "update acc set n = 'abc' where id = 12";
  const auto shape = literal_shape(original);
  ASSERT_TRUE(shape);
  ASSERT_EQ(shape->key, "update acc set n = 'swlit0000' where id = 2147470001");
  detail::TextEdits edits(shape->key);
  (void)edits.render(19, 30);
  ASSERT_TRUE(edits.replace(30, 30, ", n_big = 'swlit0000'::integer"));
  PositionMap map;
  const std::string key_rewrite = edits.render_all(map);
  to_characters(map, shape->key);
  const auto filled = fill_literals(key_rewrite, shape->literals);
  ASSERT_EQ(filled, "update acc set n = 'abc', n_big = 'abc'::integer where id = 12");
  const std::vector<std::pair<std::uint32_t, std::optional<std::uint32_t>>> positions = {
      {1, 1},    // kept
      {20, 20},  // the literal
      {22, 22},
      {25, 25},  // after it: the insertion point
      {35, 20},  // the literal copied into the inserted text
      {40, 25},  // the inserted text
      {50, 26},  // `where`, past a literal longer and one shorter than its placeholder
      {59, 35},
      {61, 37},  // `12`
      {62, 38},
      {63, 39},  // the end
      {64, std::nullopt},
      {0, std::nullopt}};
  for (const auto& [position, expected] : positions) {
    EXPECT_EQ(shaped_original_position(map, key_rewrite, original, position), expected)
        << "filled position " << position;
  }
}

// Postgres counts in its own encoding the text converted from the client's: as the client's
// encoding counts, but a SQL_ASCII database counts bytes and a SQL_ASCII client is not converted.
TEST(CharacterCountTest, AsTheServerCountsTheSessionsText) {
  const std::vector<std::tuple<const char*, const char*, CharacterCount>> rows = {
      {"UTF8", "UTF8", CharacterCount::utf8},
      {"LATIN1", "UTF8", CharacterCount::bytes},
      {"WIN1252", "UTF8", CharacterCount::bytes},
      {"KOI8R", "UTF8", CharacterCount::bytes},
      {"UTF8", "LATIN1", CharacterCount::utf8},
      {"EUC_JP", "UTF8", CharacterCount::ascii_only},
      {"SJIS", "UTF8", CharacterCount::ascii_only},
      {"MULE_INTERNAL", "UTF8", CharacterCount::ascii_only},
      {"UTF8", "SQL_ASCII", CharacterCount::bytes},
      {"SQL_ASCII", "SQL_ASCII", CharacterCount::bytes},
      {"SQL_ASCII", "UTF8", CharacterCount::utf8},
      {"SQL_ASCII", "LATIN1", CharacterCount::bytes},
      {"SQL_ASCII", "EUC_JP", CharacterCount::ascii_only},
  };
  for (const auto& [client, server, expected] : rows) {
    EXPECT_EQ(character_count(client, server), expected) << client << " on " << server;
  }
}

TEST(PositionMapEmptyTest, AnEmptyMapTellsNothing) {
  EXPECT_EQ(original_position(PositionMap{}, "abc", 3), std::nullopt);
}

}  // namespace
}  // namespace switchyard::rewrite
