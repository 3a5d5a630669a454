#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "rewrite/copy_field_conversion.hpp"

namespace switchyard::rewrite {

/// How the proxy must transform the data rows of a rewritten `COPY ... FROM STDIN`.
///
/// The rewritten statement's column list has `source_index_per_output_column.size()` columns;
/// output field i is the client's field `source_index_per_output_column[i]`.
/// Text and CSV fields are copied as they are: the server reads the same text into each column,
/// as it types a literal repeated for both. Binary fields are the bytes of their column's type, so
/// a field written to a column of another type is converted (binary_field_conversion); a plan
/// exists only when every such conversion is exact.
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
  /// COPY without a column list: a first row of this many fields (every column of the table,
  /// N included, as Postgres takes it) is from an app that knows N, so its rows fill each output
  /// column from the field of that column, verbatim; 0 when no such width differs from
  /// input_columns.
  std::size_t full_width_columns = 0;
  std::vector<int> full_width_source_per_output_column;
  /// Binary only: per output column; empty when every field is copied verbatim.
  std::vector<FieldConversion> conversion_per_output_column;
  /// The rewritten column list: for the error of a conversion that fails, and dry runs.
  std::vector<std::string> output_columns;
};

}  // namespace switchyard::rewrite
