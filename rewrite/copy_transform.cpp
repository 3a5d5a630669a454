#include "rewrite/copy_transform.hpp"

#include <optional>
#include <vector>

namespace switchyard::rewrite {

namespace {

struct Field {
  std::size_t begin;
  std::size_t end;
};

// Splits one row (without its line end) into fields, honouring the format's quoting so that a
// delimiter inside a quoted CSV field or after a text-format backslash does not split.
std::vector<Field> split_fields(std::string_view row, const CopyPlan& plan) {
  std::vector<Field> fields;
  std::size_t start = 0;
  bool quoted = false;
  for (std::size_t i = 0; i < row.size(); ++i) {
    const char c = row[i];
    if (plan.format == CopyPlan::Format::text) {
      if (c == '\\' && i + 1 == row.size()) {
        // A backslash just before the end of the data (no line end after the last row): the
        // server drops it. Copied, it would escape the delimiter put after the field.
        fields.push_back(Field{start, i});
        return fields;
      }
      if (c == '\\') {
        ++i;
        continue;
      }
    } else if (quoted) {
      if (c == plan.escape && plan.escape != plan.quote && i + 1 < row.size() &&
          (row[i + 1] == plan.quote || row[i + 1] == plan.escape)) {
        ++i;
        continue;
      }
      if (c == plan.quote) {
        quoted = false;
      }
      continue;
    } else if (c == plan.quote) {
      quoted = true;
      continue;
    }
    if (c == plan.delimiter) {
      fields.push_back(Field{start, i});
      start = i + 1;
    }
  }
  fields.push_back(Field{start, row.size()});
  return fields;
}

}  // namespace

CopyRowTransformer::CopyRowTransformer(CopyPlan plan) : plan_(std::move(plan)) {}

void CopyRowTransformer::choose_width(std::size_t fields) {
  if (width_chosen_) {
    return;
  }
  width_chosen_ = true;
  if (plan_.full_width_columns != 0 && fields == plan_.full_width_columns) {
    // Each column has a field of its own type: nothing is written to another column.
    plan_.input_columns = plan_.full_width_columns;
    plan_.source_index_per_output_column = plan_.full_width_source_per_output_column;
    plan_.conversion_per_output_column.clear();
  }
}

bool CopyRowTransformer::emit_row(std::string_view row, std::string_view line_end,
                                  std::string& out) {
  if (!header_done_ && plan_.header) {
    header_done_ = true;
    out.append(row);
    out.append(line_end);
    return true;
  }
  header_done_ = true;
  const std::vector<Field> fields = split_fields(row, plan_);
  choose_width(fields.size());
  if (fields.size() != plan_.input_columns) {
    error_ = "COPY data row has " + std::to_string(fields.size()) + " fields, expected " +
             std::to_string(plan_.input_columns);
    return false;
  }
  bool first = true;
  for (const int src : plan_.source_index_per_output_column) {
    if (!first) {
      out += plan_.delimiter;
    }
    first = false;
    const Field f = fields[static_cast<std::size_t>(src)];
    out.append(row.substr(f.begin, f.end - f.begin));
  }
  out.append(line_end);
  return true;
}

void CopyRowTransformer::pass_rest(std::size_t from, std::string& out) {
  ended_ = true;
  out.append(std::string_view(pending_).substr(from));
  pending_.clear();
  scanned_ = 0;
}

std::optional<char> CopyRowTransformer::peek(std::size_t at, bool at_eof) const {
  if (at < pending_.size()) {
    return pending_[at];
  }
  return at_eof ? std::optional<char>('\0') : std::nullopt;
}

// CopyReadLineText's test of the bytes after "\.": the line end the data uses must follow.
// Where text fails ("end-of-copy marker corrupt"), CSV takes the backslash as data, as "\." may
// be a CSV value; a line end of another kind than the first line's fails both.
CopyRowTransformer::Marker CopyRowTransformer::end_marker_at(std::size_t at, bool at_eof) const {
  const Marker other = plan_.format == CopyPlan::Format::csv ? Marker::data : Marker::fails;
  std::size_t next = at + 2;
  if (line_end_ == LineEnd::crlf) {
    const std::optional<char> cr = peek(next++, at_eof);
    if (!cr) {
      return Marker::need_more;
    }
    if (*cr != '\r') {
      return other;
    }
  }
  const std::optional<char> c = peek(next, at_eof);
  if (!c) {
    return Marker::need_more;
  }
  if (*c != '\r' && *c != '\n') {
    return other;
  }
  const bool matches =
      line_end_ == LineEnd::unknown || (line_end_ == LineEnd::cr ? *c == '\r' : *c == '\n');
  return matches ? Marker::ends : Marker::fails;
}

bool CopyRowTransformer::scan(std::string& out, bool at_eof) {
  const bool text = plan_.format == CopyPlan::Format::text;
  std::size_t row_start = 0;
  std::size_t i = scanned_;
  for (; i < pending_.size(); ++i) {
    const char c = pending_[i];
    if (after_escape_) {
      after_escape_ = false;
      continue;
    }
    if (c == '\\' && (text || i == row_start)) {
      const std::optional<char> next = peek(i + 1, at_eof);
      if (!next) {
        break;  // wait for more data before deciding
      }
      if (*next == '.') {
        const Marker marker = end_marker_at(i, at_eof);
        if (marker == Marker::need_more) {
          break;
        }
        if (marker == Marker::ends) {
          // The server takes the row's data before the marker, as a line of its own.
          if (i > row_start &&
              !emit_row(std::string_view(pending_).substr(row_start, i - row_start), "", out)) {
            return false;
          }
          pass_rest(i, out);
          return true;
        }
        if (marker == Marker::fails) {
          pass_rest(row_start, out);
          return true;
        }
        // Marker::data, CSV only: the backslash is an ordinary character.
      } else if (text) {
        // Anything after a backslash is the escape's, a line end or a delimiter too.
        after_escape_ = true;
        continue;
      }
    }
    if (!text) {
      if (in_quotes_) {
        if (c == plan_.escape && plan_.escape != plan_.quote) {
          // Only "escape quote" and "escape escape" are escapes; peek needs the next byte.
          const std::optional<char> next = peek(i + 1, at_eof);
          if (!next) {
            break;
          }
          if (*next == plan_.quote || *next == plan_.escape) {
            after_escape_ = true;
          }
          continue;
        }
        if (c == plan_.quote) {
          in_quotes_ = false;
        }
        continue;
      }
      if (c == plan_.quote) {
        in_quotes_ = true;
        continue;
      }
    }
    if (c != '\r' && c != '\n') {
      continue;
    }
    // A line end: the first line's kind is the data's; another kind fails the server's read.
    std::size_t length = 1;
    LineEnd kind = c == '\n' ? LineEnd::lf : LineEnd::cr;
    if (c == '\r' && line_end_ != LineEnd::cr && line_end_ != LineEnd::lf) {
      const std::optional<char> next = peek(i + 1, at_eof);
      if (!next) {
        break;
      }
      if (*next == '\n') {
        kind = LineEnd::crlf;
        length = 2;
      }
    }
    if (line_end_ != LineEnd::unknown && kind != line_end_) {
      pass_rest(row_start, out);
      return true;
    }
    line_end_ = kind;
    const std::string_view line(pending_);
    if (!emit_row(line.substr(row_start, i - row_start), line.substr(i, length), out)) {
      return false;
    }
    i += length - 1;
    row_start = i + 1;
  }
  pending_.erase(0, row_start);
  scanned_ = i - row_start;
  return true;
}

bool CopyRowTransformer::feed(std::string_view chunk, std::string& out) {
  if (!error_.empty()) {
    return false;
  }
  if (plan_.format == CopyPlan::Format::binary) {
    return feed_binary(chunk, out);
  }
  if (ended_) {
    out.append(chunk);
    return true;
  }
  pending_.append(chunk);
  return scan(out, false) && pending_within_bound();
}

bool CopyRowTransformer::pending_within_bound() {
  if (pending_.size() <= plan_.max_row_bytes) {
    return true;
  }
  error_ = "COPY data row longer than " + std::to_string(plan_.max_row_bytes) + " bytes";
  pending_.clear();
  return false;
}

bool CopyRowTransformer::finish(std::string& out) {
  if (!error_.empty()) {
    return false;
  }
  if (plan_.format == CopyPlan::Format::binary) {
    return finish_binary();
  }
  if (!ended_ && !scan(out, true)) {
    return false;
  }
  if (ended_ || pending_.empty()) {
    return true;
  }
  if (in_quotes_) {
    error_ = "COPY data ends inside a quoted field";
    return false;
  }
  // The client sent no line end after its last row; neither do we.
  if (!emit_row(pending_, "", out)) {
    return false;
  }
  pending_.clear();
  scanned_ = 0;
  return true;
}

}  // namespace switchyard::rewrite
