// CopyRowTransformer: rows arrive in arbitrary CopyData chunks; every split must give the same
// output as the whole buffer.

#include "rewrite/copy_transform.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <vector>

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

// (id, status) rows into (id, status, state), and (status) rows into (status, state).
CopyPlan status_to_state(CopyPlan::Format format, std::size_t input_columns) {
  CopyPlan p;
  p.format = format;
  p.delimiter = format == CopyPlan::Format::csv ? ',' : '\t';
  p.input_columns = input_columns;
  p.source_index_per_output_column =
      input_columns == 2 ? std::vector<int>{0, 1, 1} : std::vector<int>{0, 0};
  return p;
}

// Where the data ends and where its lines end, as Postgres 15 reads COPY FROM (copyfromparse.c,
// CopyReadLineText); each case's comment is what a direct COPY into the table does. Where the
// server stores rows, it must store them from the output with every state filled; where it
// fails, the output must make it fail on the same line: that line and the rest pass untouched.
TEST(CopyRowTransformerTest, EndOfDataMarkerAndLineEndsAsPostgresReadsThem) {
  struct Case {
    const char* what;
    CopyPlan::Format format;
    std::size_t columns;
    bool header;
    const char* in;
    const char* expected;
  };
  constexpr auto text = CopyPlan::Format::text;
  constexpr auto csv = CopyPlan::Format::csv;
  const Case cases[] = {
      // Text: an unescaped \. ends the data anywhere, the row's data before it stored.
      {"text: data before the marker", text, 2, false, "1\ta\n2\tb\\.\n3\tc\n",
       "1\ta\ta\n2\tb\tb\\.\n3\tc\n"},  // rows 1, 2
      {"text: data before the marker, CRLF", text, 2, false, "1\ta\r\n2\tb\\.\r\n",
       "1\ta\ta\r\n2\tb\tb\\.\r\n"},  // rows 1, 2
      {"text: the first line's data before the marker", text, 2, false, "1\ta\\.\r\n",
       "1\ta\ta\\.\r\n"},  // row 1
      {"text: an empty field before the marker", text, 2, false, "1\t\\.\n", "1\t\t\\.\n"},
      {"text: an escaped backslash and a period are data", text, 2, false, "1\ta\\\\.\n",
       "1\ta\\\\.\ta\\\\.\n"},  // row (1, 'a\.')
      {"text: the marker alone, rows after it ignored", text, 2, false, "1\ta\n\\.\n2\tb\tc\n",
       "1\ta\ta\n\\.\n2\tb\tc\n"},  // row 1
      {"text: the marker alone on the first line", text, 2, false, "\\.\r\n", "\\.\r\n"},
      {"text: the marker last, no line end", text, 2, false, "1\ta\n2\tb\\.",
       "1\ta\ta\n2\tb\\."},  // end-of-copy marker corrupt
      {"text: the marker alone last, no line end", text, 2, false, "1\ta\n\\.",
       "1\ta\ta\n\\."},  // end-of-copy marker corrupt
      {"text: data after the marker", text, 2, false, "1\ta\n2\tb\\.xyz\n3\tc\n",
       "1\ta\ta\n2\tb\\.xyz\n3\tc\n"},  // end-of-copy marker corrupt
      {"text: a tab after the marker", text, 2, false, "1\ta\\.\t\n", "1\ta\\.\t\n"},  // corrupt
      {"text: CRLF data, LF after the marker", text, 2, false, "1\ta\r\n2\tb\\.\n",
       "1\ta\ta\r\n2\tb\\.\n"},  // end-of-copy marker does not match previous newline style
      {"text: LF data, CRLF after the marker", text, 2, false, "1\ta\n\\.\r\n",
       "1\ta\ta\n\\.\r\n"},  // does not match previous newline style
      {"text: the marker in the header line", text, 2, true, "id\tstatus\\.\n1\ta\n",
       "id\tstatus\\.\n1\ta\n"},  // no rows
      {"text: the marker after a header", text, 2, true, "id\tstatus\n1\ta\\.\n2\tb\n",
       "id\tstatus\n1\ta\ta\\.\n2\tb\n"},  // row 1
      // Text: line ends of the first line's kind only; CR alone is one.
      {"text: CR line ends", text, 2, false, "1\ta\r2\tb\r\\.\r", "1\ta\ta\r2\tb\tb\r\\.\r"},
      {"text: CR line ends, the last row without one", text, 2, false, "1\ta\r2\tb",
       "1\ta\ta\r2\tb\tb"},
      {"text: a CR line end after LF ones", text, 2, false, "1\ta\n2\tb\r3\tc\n",
       "1\ta\ta\n2\tb\r3\tc\n"},  // literal carriage return found in data
      // Text: a backslash just before the end of the data is dropped by the server; copied, it
      // would escape the delimiter after it.
      {"text: a backslash last, no line end", text, 2, false, "1\ta\n2\tabc\\",
       "1\ta\ta\n2\tabc\tabc"},  // rows 1, (2, 'abc')
      {"text: an escaped backslash last, no line end", text, 2, false, "1\tab\\\\",
       "1\tab\\\\\tab\\\\"},  // row (1, 'ab\')
      {"text: an LF line end after CR ones", text, 2, false, "1\ta\r2\tb\n",
       "1\ta\ta\r2\tb\n"},  // literal newline found in data
      // CSV: \. ends the data only alone at a line's start, followed by the line end.
      {"csv: \\. after data is a value", csv, 2, false, "1,a\\.\n", "1,a\\.,a\\.\n"},
      {"csv: \\. starting a row of data", csv, 2, false, "1,a\n\\.,b\n", "1,a,a\n\\.,b,b\n"},
      {"csv: \\. with more on the line is data", csv, 1, false, "a\n\\.x\n", "a,a\n\\.x,\\.x\n"},
      {"csv: the marker alone, rows after it ignored", csv, 2, false, "1,a\n\\.\n2,b,c\n",
       "1,a,a\n\\.\n2,b,c\n"},  // row 1
      {"csv: \\. alone last, no line end, is a value", csv, 1, false, "a\n\\.",
       "a,a\n\\.,\\."},  // rows 'a' and '\.'
      {"csv: a quoted \\. line is data", csv, 2, false, "1,\"a\n\\.\n\"\n",
       "1,\"a\n\\.\n\",\"a\n\\.\n\"\n"},
      {"csv: CRLF data and marker", csv, 2, false, "1,a\r\n\\.\r\n2,b\r\n",
       "1,a,a\r\n\\.\r\n2,b\r\n"},  // row 1
      {"csv: CRLF data, \\. then LF is a value on a line that fails", csv, 1, false, "a\r\n\\.\n",
       "a,a\r\n\\.\n"},  // unquoted newline found in data
      {"csv: LF data, CRLF after the marker", csv, 2, false, "1,a\n\\.\r\n",
       "1,a,a\n\\.\r\n"},  // does not match previous newline style
      {"csv: CR line ends and marker", csv, 2, false, "1,a\r2,b\r\\.\r",
       "1,a,a\r2,b,b\r\\.\r"},  // rows 1, 2
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    CopyPlan p = status_to_state(c.format, c.columns);
    p.header = c.header;
    bool ok = false;
    EXPECT_EQ(run_whole(p, c.in, &ok), c.expected) << c.what;
    EXPECT_TRUE(ok) << c.what;
    expect_every_split(p, c.in, c.expected);
  }
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

// COPY without a list into (id, status, name) + state, the table being (id, status, state,
// name): the old app's rows get state from status; a first row of every column is taken as
// Postgres takes it, each output column from its own field, and then every row must be so.
CopyPlan old_width_or_full(CopyPlan::Format format) {
  CopyPlan p = duplicate_second_of_three(format);
  p.full_width_columns = 4;
  p.full_width_source_per_output_column = {0, 1, 3, 2};
  return p;
}

TEST(CopyRowTransformerTest, AFirstRowOfTheTablesFullWidthIsTakenAsWritten) {
  struct Case {
    const char* what;
    CopyPlan::Format format;
    const char* in;
    const char* expected;  // nullptr: refused
  };
  const Case cases[] = {
      {"old width", CopyPlan::Format::text, "1\ta\tann\n2\tb\tbob\n",
       "1\ta\tann\ta\n2\tb\tbob\tb\n"},
      {"full width", CopyPlan::Format::text, "1\ta\tA\tann\n2\t\\N\t\\N\tbob\n",
       "1\ta\tann\tA\n2\t\\N\tbob\t\\N\n"},
      {"full width, CSV", CopyPlan::Format::csv, "1,\"a,x\",A,ann\n", "1,\"a,x\",ann,A\n"},
      {"full width, then the old width", CopyPlan::Format::text, "1\ta\tA\tann\n2\tb\tbob\n",
       nullptr},
      {"old width, then the full width", CopyPlan::Format::text, "1\ta\tann\n2\tb\tB\tbob\n",
       nullptr},
      {"neither", CopyPlan::Format::text, "1\ta\tA\tann\tx\n", nullptr},
  };
  for (const auto& c : cases) {
    bool ok = false;
    const std::string out = run_whole(old_width_or_full(c.format), c.in, &ok);
    EXPECT_EQ(ok, c.expected != nullptr) << c.what;
    if (c.expected != nullptr) {
      EXPECT_EQ(out, c.expected) << c.what;
      expect_every_split(old_width_or_full(c.format), c.in, c.expected);
    }
  }
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

// A full-width tuple has each column's own bytes: the old width's conversion does not apply.
TEST(CopyRowTransformerTest, BinaryTuplesOfTheTablesFullWidthAreTakenAsWritten) {
  CopyPlan p = old_width_or_full(CopyPlan::Format::binary);
  p.conversion_per_output_column = {FieldConversion::verbatim, FieldConversion::verbatim,
                                    FieldConversion::verbatim, FieldConversion::to_int8};
  const std::string id1 = field(std::string("\0\0\0\1", 4));
  const std::string in =
      kHeader + be16(4) + id1 + field("a") + field("A") + field("ann") + kTrailer;
  const std::string expected =
      kHeader + be16(4) + id1 + field("a") + field("ann") + field("A") + kTrailer;
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

// Which type pairs a binary field crosses, as format_type spells the types: only those whose
// bytes alone make the cast's value.
TEST(BinaryFieldConversionTest, OnlyExactConversionsAreOffered) {
  using C = FieldConversion;
  const struct {
    const char* from;
    const char* to;
    std::optional<C> expected;
  } cases[] = {
      {"integer", "integer", C::verbatim},
      {"integer", "bigint", C::to_int8},
      {"smallint", "integer", C::to_int4},
      {"bigint", "integer", C::to_int4},  // range-checked per value
      {"integer", "smallint", C::to_int2},
      {"real", "double precision", C::float4_to_float8},
      {"json", "jsonb", C::json_to_jsonb},
      {"integer", "numeric", C::integer_to_numeric},
      {"bigint", "numeric(12,2)", C::integer_to_numeric},  // the server applies the scale
      {"text", "character varying(20)", C::verbatim},      // the server checks the length
      {"character varying", "text", C::verbatim},
      {"character varying(5)", "character varying(10)", C::verbatim},
      // Not exact on the bytes alone: rounding, a time zone, normalized text, trailing spaces.
      {"double precision", "real", std::nullopt},
      {"numeric", "integer", std::nullopt},
      {"integer", "real", std::nullopt},
      {"timestamp without time zone", "timestamp with time zone", std::nullopt},
      {"jsonb", "json", std::nullopt},
      {"character(5)", "text", std::nullopt},
      {"text", "smallint", std::nullopt},
      {"integer", "text", std::nullopt},
      {"", "bigint", std::nullopt},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(binary_field_conversion(c.from, c.to), c.expected) << c.from << " -> " << c.to;
  }
}

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>((v >> 16) & 0xFF),
          static_cast<char>((v >> 8) & 0xFF), static_cast<char>(v & 0xFF)};
}

std::string be64(std::uint64_t v) {
  return be32(static_cast<std::uint32_t>(v >> 32)) + be32(static_cast<std::uint32_t>(v));
}

// id (int4), n: written to n (int4, as sent) and to n_big through the plan's conversion.
CopyPlan widen_second_of_two(FieldConversion conversion) {
  CopyPlan p;
  p.format = CopyPlan::Format::binary;
  p.input_columns = 2;
  p.source_index_per_output_column = {0, 1, 1};
  p.conversion_per_output_column = {FieldConversion::verbatim, FieldConversion::verbatim,
                                    conversion};
  p.output_columns = {"id", "n", "n_big"};
  return p;
}

TEST(CopyRowTransformerTest, BinaryFieldsAreConvertedToTheOtherColumnsType) {
  const std::string id = field(be32(1));
  const struct {
    FieldConversion conversion;
    std::string sent;       // n's bytes
    std::string converted;  // n_big's bytes
  } cases[] = {
      {FieldConversion::to_int8, be32(7), be64(7)},
      {FieldConversion::to_int8, be32(0xFFFFFFFEu), be64(0xFFFFFFFFFFFFFFFEull)},  // -2
      {FieldConversion::to_int8, be16(-300), be64(static_cast<std::uint64_t>(-300))},
      {FieldConversion::to_int4, be64(2147483647), be32(2147483647)},
      {FieldConversion::to_int4, be64(static_cast<std::uint64_t>(-2147483648LL)),
       be32(0x80000000u)},
      {FieldConversion::to_int2, be32(static_cast<std::uint32_t>(-32768)), be16(-32768)},
      // 0.1f widened: the double nearest the float, not the double nearest 0.1.
      {FieldConversion::float4_to_float8, be32(0x3DCCCCCDu), be64(0x3FB99999A0000000ull)},
      {FieldConversion::float4_to_float8, be32(0xFF800000u), be64(0xFFF0000000000000ull)},
      {FieldConversion::json_to_jsonb, "{\"a\": [1, 2]}", std::string("\1{\"a\": [1, 2]}")},
      {FieldConversion::verbatim, "anything", "anything"},
      // numeric: digit count, weight, sign, scale, base-10000 digits (trailing zeros implied).
      {FieldConversion::integer_to_numeric, be32(0), be16(0) + be16(0) + be16(0) + be16(0)},
      {FieldConversion::integer_to_numeric, be32(12345678),
       be16(2) + be16(1) + be16(0) + be16(0) + be16(1234) + be16(5678)},
      {FieldConversion::integer_to_numeric, be32(10000),
       be16(1) + be16(1) + be16(0) + be16(0) + be16(1)},
      {FieldConversion::integer_to_numeric, be16(-5),
       be16(1) + be16(0) + be16(0x4000) + be16(0) + be16(5)},
      {FieldConversion::integer_to_numeric, be64(0x8000000000000000ull),  // -9223372036854775808
       be16(5) + be16(4) + be16(0x4000) + be16(0) + be16(922) + be16(3372) + be16(368) +
           be16(5477) + be16(5808)},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(static_cast<int>(c.conversion));
    const CopyPlan p = widen_second_of_two(c.conversion);
    const std::string in = kHeader + be16(2) + id + field(c.sent) + be16(2) + id + kNull + kTrailer;
    const std::string expected = kHeader + be16(3) + id + field(c.sent) + field(c.converted) +
                                 be16(3) + id + kNull + kNull + kTrailer;
    expect_every_split(p, in, expected);
  }
}

TEST(CopyRowTransformerTest, ABinaryFieldThatDoesNotFitFailsTheCopyNamingRowAndColumn) {
  const std::string id = field(be32(1));
  const struct {
    FieldConversion conversion;
    std::string sent;
    const char* error;
  } cases[] = {
      {FieldConversion::to_int4, be64(2147483648LL),
       "row 2, column n_big: integer out of range (value 2147483648)"},
      {FieldConversion::to_int2, be32(static_cast<std::uint32_t>(-32769)),
       "row 2, column n_big: smallint out of range (value -32769)"},
      {FieldConversion::to_int8, "abc", "an integer field is 2, 4 or 8 bytes, not 3"},
      {FieldConversion::float4_to_float8, be64(1), "a real field is 4 bytes, not 8"},
      {FieldConversion::integer_to_numeric, "x", "an integer field is 2, 4 or 8 bytes, not 1"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.error);
    CopyRowTransformer t(widen_second_of_two(c.conversion));
    std::string out;
    const std::string first = kHeader + be16(2) + id + kNull;  // a NULL converts to NULL
    EXPECT_FALSE(t.feed(first + be16(2) + id + field(c.sent) + kTrailer, out));
    EXPECT_NE(t.error().find(c.error), std::string::npos) << t.error();
    EXPECT_FALSE(t.feed(kTrailer, out)) << "stays failed";
  }
}

}  // namespace
}  // namespace switchyard::rewrite
