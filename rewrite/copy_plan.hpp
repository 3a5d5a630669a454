#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace switchyard::rewrite {

/// How the proxy must transform the data rows of a rewritten `COPY ... FROM STDIN`.
///
/// The rewritten statement's column list has `source_index_per_output_column.size()` columns;
/// output field i is a verbatim copy of the client's field `source_index_per_output_column[i]`.
/// Only identity transforms (renames) are planned this way, so fields are never re-encoded; in
/// binary format only between two columns of one type, so a field's bytes are valid for either.
struct CopyPlan {
  enum class Format { text, csv, binary };
  Format format = Format::text;
  char delimiter = '\t';
  /// CSV only.
  char quote = '"';
  /// CSV only; equals `quote` unless ESCAPE was given.
  char escape = '"';
  /// The first line is a header that the server skips: it is passed through untouched.
  bool header = false;
  /// Fields per client row.
  std::size_t input_columns = 0;
  /// A row (or binary tuple) still incomplete past this many bytes fails the COPY: the proxy
  /// holds a row until its end, and Postgres takes no line or field over 1 GiB either.
  std::size_t max_row_bytes = std::size_t{1} << 30;
  std::vector<int> source_index_per_output_column;
};

}  // namespace switchyard::rewrite
