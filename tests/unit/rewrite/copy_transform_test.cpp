// CopyRowTransformer: rows arrive in arbitrary CopyData chunks; every split must give the same
// output as the whole buffer.

#include "rewrite/copy_transform.hpp"

#include <gtest/gtest.h>

namespace switchyard::rewrite {
namespace {

CopyPlan duplicate_second_of_three(CopyPlan::Format format) {
  CopyPlan p;
  p.format = format;
  p.delimiter = format == CopyPlan::Format::csv ? ',' : '\t';
  p.input_columns = 3;
  p.source_index_per_output_column = {0, 1, 2, 1};
  return p;
}

std::string run_whole(const CopyPlan& plan, std::string_view in, bool* ok = nullptr) {
  CopyRowTransformer t(plan);
  std::string out;
  bool good = t.feed(in, out) && t.finish(out);
  if (ok != nullptr) {
    *ok = good;
  }
  return out;
}

// Feeds `in` split at every pair of boundaries (three chunks) and checks the output each time.
void expect_every_split(const CopyPlan& plan, std::string_view in, std::string_view expected) {
  for (std::size_t a = 0; a <= in.size(); ++a) {
    for (std::size_t b = a; b <= in.size(); ++b) {
      CopyRowTransformer t(plan);
      std::string out;
      ASSERT_TRUE(t.feed(in.substr(0, a), out));
      ASSERT_TRUE(t.feed(in.substr(a, b - a), out));
      ASSERT_TRUE(t.feed(in.substr(b), out));
      ASSERT_TRUE(t.finish(out)) << t.error();
      ASSERT_EQ(out, expected) << "split at " << a << "," << b;
    }
  }
}

TEST(CopyRowTransformerTest, TextRowsDuplicateAColumn) {
  const CopyPlan p = duplicate_second_of_three(CopyPlan::Format::text);
  expect_every_split(p, "1\tactive\tann\n2\t\\N\tbob\n",
                     "1\tactive\tann\tactive\n2\t\\N\tbob\t\\N\n");
}

TEST(CopyRowTransformerTest, TextEscapedDelimiterAndNewlineStayInTheField) {
  const CopyPlan p = duplicate_second_of_three(CopyPlan::Format::text);
  expect_every_split(p, "1\ta\\\tb\\\nc\tz\n", "1\ta\\\tb\\\nc\tz\ta\\\tb\\\nc\n");
}

TEST(CopyRowTransformerTest, TextEndMarkerPassesThrough) {
  const CopyPlan p = duplicate_second_of_three(CopyPlan::Format::text);
  expect_every_split(p, "1\ta\tb\n\\.\n", "1\ta\tb\ta\n\\.\n");
}

TEST(CopyRowTransformerTest, LastRowWithoutNewline) {
  const CopyPlan p = duplicate_second_of_three(CopyPlan::Format::text);
  expect_every_split(p, "1\ta\tb\n2\tc\td", "1\ta\tb\ta\n2\tc\td\tc");
}

TEST(CopyRowTransformerTest, CrLfLineEndsAreKept) {
  const CopyPlan p = duplicate_second_of_three(CopyPlan::Format::text);
  expect_every_split(p, "1\ta\tb\r\n", "1\ta\tb\ta\r\n");
}

TEST(CopyRowTransformerTest, CsvQuotedFieldsWithDelimitersQuotesAndNewlines) {
  const CopyPlan p = duplicate_second_of_three(CopyPlan::Format::csv);
  expect_every_split(p, "1,\"a,\"\"b\"\"\nc\",x\n2,,\"\"\n",
                     "1,\"a,\"\"b\"\"\nc\",x,\"a,\"\"b\"\"\nc\"\n2,,\"\",\n");
}

TEST(CopyRowTransformerTest, CsvWithSeparateEscapeCharacter) {
  CopyPlan p = duplicate_second_of_three(CopyPlan::Format::csv);
  p.escape = '\\';
  expect_every_split(p, "1,\"a\\\"b,c\",z\n", "1,\"a\\\"b,c\",z,\"a\\\"b,c\"\n");
}

TEST(CopyRowTransformerTest, HeaderLineIsPassedUntouched) {
  CopyPlan p = duplicate_second_of_three(CopyPlan::Format::csv);
  p.header = true;
  expect_every_split(p, "id,status,name\n1,a,b\n", "id,status,name\n1,a,b,a\n");
}

TEST(CopyRowTransformerTest, CustomDelimiter) {
  CopyPlan p = duplicate_second_of_three(CopyPlan::Format::text);
  p.delimiter = '|';
  EXPECT_EQ(run_whole(p, "1|a|b\n"), "1|a|b|a\n");
}

TEST(CopyRowTransformerTest, RenameReordersNothingAndDropRemoves) {
  CopyPlan p;
  p.input_columns = 3;
  p.source_index_per_output_column = {0, 2};
  EXPECT_EQ(run_whole(p, "1\told\tnew\n"), "1\tnew\n");
}

TEST(CopyRowTransformerTest, WrongFieldCountIsAnError) {
  const CopyPlan p = duplicate_second_of_three(CopyPlan::Format::text);
  CopyRowTransformer t(p);
  std::string out;
  EXPECT_FALSE(t.feed("1\ta\n", out));
  EXPECT_NE(t.error().find("expected 3"), std::string::npos);
  EXPECT_FALSE(t.feed("1\ta\tb\n", out));
}

TEST(CopyRowTransformerTest, ARowStillIncompletePastTheBoundIsAnError) {
  for (const auto format : {CopyPlan::Format::text, CopyPlan::Format::binary}) {
    CopyPlan p = duplicate_second_of_three(format);
    p.max_row_bytes = 64;
    const std::string head = format == CopyPlan::Format::binary
                                 ? std::string("PGCOPY\n\xFF\r\n\0", 11) + std::string(8, '\0') +
                                       std::string(
                                           "\0\3\0\0\0\1"
                                           "1\0\0\1\0",
                                           11)
                                 : std::string("1\t");
    CopyRowTransformer t(p);
    std::string out;
    EXPECT_TRUE(t.feed(head + std::string(40, 'x'), out));
    EXPECT_FALSE(t.feed(std::string(40, 'x'), out));
    EXPECT_NE(t.error().find("longer than 64 bytes"), std::string::npos) << t.error();
  }
}

TEST(CopyRowTransformerTest, UnterminatedQuoteAtEndIsAnError) {
  const CopyPlan p = duplicate_second_of_three(CopyPlan::Format::csv);
  bool ok = true;
  run_whole(p, "1,\"abc", &ok);
  EXPECT_FALSE(ok);
}

// Binary format: bytes built field by field, so a table row reads as the tuple it is.
std::string be16(int v) {
  return {static_cast<char>((v >> 8) & 0xFF), static_cast<char>(v & 0xFF)};
}

std::string field(std::string_view bytes) {
  const auto n = static_cast<std::uint32_t>(bytes.size());
  std::string out{static_cast<char>(n >> 24), static_cast<char>((n >> 16) & 0xFF),
                  static_cast<char>((n >> 8) & 0xFF), static_cast<char>(n & 0xFF)};
  return out.append(bytes);
}

const std::string kNull("\xFF\xFF\xFF\xFF", 4);
const std::string kHeader = std::string("PGCOPY\n\xFF\r\n\0", 11) + std::string(8, '\0');
const std::string kTrailer = be16(-1);

TEST(CopyRowTransformerTest, BinaryTuplesDuplicateAColumn) {
  const CopyPlan p = duplicate_second_of_three(CopyPlan::Format::binary);
  const std::string id1 = field(std::string("\0\0\0\1", 4));
  const std::string id2 = field(std::string("\0\0\0\2", 4));
  const std::string in = kHeader + be16(3) + id1 + field("active") + field("") +  //
                         be16(3) + id2 + kNull + field("bob") + kTrailer;
  const std::string expected = kHeader + be16(4) + id1 + field("active") + field("") +
                               field("active") + be16(4) + id2 + kNull + field("bob") + kNull +
                               kTrailer;
  expect_every_split(p, in, expected);
}

TEST(CopyRowTransformerTest, BinaryHeaderExtensionAndDataAfterTheTrailerPass) {
  CopyPlan p;
  p.format = CopyPlan::Format::binary;
  p.input_columns = 2;
  p.source_index_per_output_column = {1};
  const std::string header = std::string("PGCOPY\n\xFF\r\n\0", 11) + std::string(4, '\0') +
                             std::string("\0\0\0\3", 4) + "ext";
  expect_every_split(p, header + be16(2) + field("a") + field("b") + kTrailer + "x",
                     header + be16(1) + field("b") + kTrailer + "x");
}

TEST(CopyRowTransformerTest, MalformedBinaryDataIsAnError) {
  const CopyPlan p = duplicate_second_of_three(CopyPlan::Format::binary);
  const struct {
    std::string in;
    const char* error;
  } cases[] = {
      {"1\ta\tb\n", "PGCOPY signature"},
      {kHeader + be16(2) + field("1") + field("a"), "has 2 fields, expected 3"},
      {kHeader + be16(3) + field("1") + std::string("\xFF\xFF\xFF\xFE", 4), "negative length"},
      {kHeader + be16(3) + field("1") + field("a"), "ends inside a tuple"},
      {std::string("PGCOPY\n\xFF\r\n\0", 11), "ends inside its header"},
      {std::string("PGCOPY\n\xFF\r\n\0", 11) + std::string("\0\1\0\0", 4) + std::string(4, '\0'),
       "OIDs"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.error);
    CopyRowTransformer t(p);
    std::string out;
    EXPECT_FALSE(t.feed(c.in, out) && t.finish(out));
    EXPECT_NE(t.error().find(c.error), std::string::npos) << t.error();
  }
}

}  // namespace
}  // namespace switchyard::rewrite
