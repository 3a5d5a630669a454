#include "rewrite/copy_transform.hpp"

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

bool CopyRowTransformer::emit_row(std::string_view row, std::string& out) {
  std::string_view line_end = "\n";
  if (!row.empty() && row.back() == '\r') {
    row.remove_suffix(1);
    line_end = "\r\n";
  }
  if (!header_done_ && plan_.header) {
    header_done_ = true;
    out.append(row);
    out.append(line_end);
    return true;
  }
  header_done_ = true;
  if (row == "\\.") {
    // End-of-data marker: the server stops reading here; whatever follows is passed as is.
    ended_ = true;
    out.append(row);
    out.append(line_end);
    return true;
  }
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
  std::size_t row_start = 0;
  std::size_t i = scanned_;
  for (; i < pending_.size(); ++i) {
    const char c = pending_[i];
    if (after_escape_) {
      after_escape_ = false;
      continue;
    }
    if (plan_.format == CopyPlan::Format::text) {
      if (c == '\\') {
        after_escape_ = true;
        continue;
      }
    } else if (in_quotes_) {
      if (c == plan_.escape && plan_.escape != plan_.quote) {
        // Only "escape quote" and "escape escape" are escapes; peek needs the next byte.
        if (i + 1 >= pending_.size()) {
          break;  // wait for more data before deciding
        }
        if (pending_[i + 1] == plan_.quote || pending_[i + 1] == plan_.escape) {
          after_escape_ = true;
        }
        continue;
      }
      if (c == plan_.quote) {
        in_quotes_ = false;
      }
      continue;
    } else if (c == plan_.quote) {
      in_quotes_ = true;
      continue;
    }
    if (c == '\n') {
      const std::string_view row(pending_.data() + row_start, i - row_start);
      if (!emit_row(row, out)) {
        return false;
      }
      row_start = i + 1;
      if (ended_) {
        out.append(pending_.substr(row_start));
        pending_.clear();
        scanned_ = 0;
        return true;
      }
    }
  }
  pending_.erase(0, row_start);
  scanned_ = i - row_start;
  return pending_within_bound();
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
  if (ended_ || pending_.empty()) {
    return true;
  }
  if (in_quotes_) {
    error_ = "COPY data ends inside a quoted field";
    return false;
  }
  std::string tail;
  if (!emit_row(pending_, tail)) {
    return false;
  }
  // The client sent no line end after its last row; neither do we.
  if (!tail.empty() && tail.back() == '\n') {
    tail.pop_back();
    if (!tail.empty() && tail.back() == '\r') {
      tail.pop_back();
    }
  }
  out += tail;
  pending_.clear();
  scanned_ = 0;
  return true;
}

}  // namespace switchyard::rewrite
