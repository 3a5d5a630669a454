#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "rewrite/copy_plan.hpp"

namespace switchyard::rewrite {

/// Turns the client's COPY data rows into rows for the rewritten column list (see CopyPlan).
///
/// Pure and incremental: CopyData chunks may split rows (and CSV quoted fields, which may hold
/// newlines, and binary tuples) anywhere; a partial row is kept until its end arrives. Fields are
/// copied verbatim, or in binary converted as the plan says.
///
/// Text and CSV lines end, and data ends at `\.`, where Postgres 15's COPY FROM ends them
/// (copyfromparse.c): the line end the first line has is the only one taken; in text `\.` ends
/// the data anywhere it is not escaped, a row's data before it included; in CSV only at a line's
/// start. Where the server would fail reading a line (a corrupt marker, another line end), the
/// rest is passed untouched so that the server fails with its own error.
class CopyRowTransformer {
 public:
  explicit CopyRowTransformer(CopyPlan plan);

  /// Appends the transformed complete rows found so far to `out`. False on malformed input (a row
  /// with the wrong number of fields); error() says why and the transformer stays failed.
  bool feed(std::string_view chunk, std::string& out);

  /// Called at CopyDone: flushes a last row that had no newline. False on malformed input.
  bool finish(std::string& out);

  const std::string& error() const { return error_; }

 private:
  /// How the server reads the line ends of the data: decided by the first line's.
  enum class LineEnd : std::uint8_t { unknown, lf, crlf, cr };
  /// What the server makes of a `\.` it reads as a possible end-of-data marker.
  enum class Marker : std::uint8_t { need_more, data, ends, fails };

  /// Scans pending_ from scanned_, emitting each complete row; `at_eof` once CopyDone came.
  bool scan(std::string& out, bool at_eof);
  /// The byte at `at` as the server sees it: '\0' past the end of the data (it pads its buffer
  /// so), nothing while more data may come.
  std::optional<char> peek(std::size_t at, bool at_eof) const;
  Marker end_marker_at(std::size_t at, bool at_eof) const;
  /// Appends `row` transformed (or the header as it is), then `line_end`.
  bool emit_row(std::string_view row, std::string_view line_end, std::string& out);
  /// From here on the server reads no more rows, or fails on this line: pending_ from `from` and
  /// every later chunk pass untouched.
  void pass_rest(std::size_t from, std::string& out);
  /// The first data row's width decides between the old app's and the full table's.
  void choose_width(std::size_t fields);
  /// False (with error_ set) when the incomplete row kept in pending_ is past the plan's bound.
  bool pending_within_bound();
  // copy_binary.cpp
  bool feed_binary(std::string_view chunk, std::string& out);
  bool finish_binary();

  CopyPlan plan_;
  std::string pending_;
  // Scan state carried across chunks so each byte is examined once.
  std::size_t scanned_ = 0;
  bool in_quotes_ = false;
  bool after_escape_ = false;
  bool header_done_ = false;
  LineEnd line_end_ = LineEnd::unknown;
  bool ended_ = false;
  bool width_chosen_ = false;
  std::size_t tuples_ = 0;  // binary: the tuples seen, to name a failing one as the server does
  std::string error_;
};

}  // namespace switchyard::rewrite
