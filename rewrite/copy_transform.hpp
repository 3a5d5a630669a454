#pragma once

#include <string>
#include <string_view>

#include "rewrite/copy_plan.hpp"

namespace switchyard::rewrite {

/// Turns the client's COPY data rows into rows for the rewritten column list (see CopyPlan).
///
/// Pure and incremental: CopyData chunks may split rows (and CSV quoted fields, which may hold
/// newlines, and binary tuples) anywhere; a partial row is kept until its end arrives. Fields are
/// copied verbatim, or in binary converted as the plan says.
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
  bool emit_row(std::string_view row, std::string& out);
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
  bool ended_ = false;
  bool width_chosen_ = false;
  std::size_t tuples_ = 0;  // binary: the tuples seen, to name a failing one as the server does
  std::string error_;
};

}  // namespace switchyard::rewrite
