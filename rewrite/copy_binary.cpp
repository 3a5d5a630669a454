// COPY's binary format (Postgres docs, "Binary Format"): a header (the 11-byte signature, a
// 32-bit flags word, a 32-bit extension length and the extension), then tuples (a 16-bit field
// count, then per field a 32-bit length, -1 for NULL, and that many bytes), then the trailer,
// a field count of -1. All integers are big-endian. The header and the trailer pass untouched;
// each tuple is written again with the plan's fields, each with its length word, converted to
// its column's type where the plan says so.

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "rewrite/copy_transform.hpp"

namespace switchyard::rewrite {

namespace {

constexpr std::string_view kSignature{"PGCOPY\n\377\r\n\0", 11};
constexpr std::size_t kHeaderFixed = 11 + 4 + 4;
// Flags bit 16 says each tuple carries an OID (servers before 12); bits 17-31 are "critical":
// a reader that does not know them must not go on.
constexpr std::uint32_t kUnknownFlags = 0xFFFF0000u;

std::uint32_t be32(std::string_view s, std::size_t at) {
  return (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at])) << 24) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 1])) << 16) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 2])) << 8) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 3]));
}

std::int16_t be16(std::string_view s, std::size_t at) {
  return static_cast<std::int16_t>(
      (static_cast<std::uint16_t>(static_cast<unsigned char>(s[at])) << 8) |
      static_cast<std::uint16_t>(static_cast<unsigned char>(s[at + 1])));
}

struct TupleField {
  std::size_t begin;  // at its length word
  std::size_t end;
};

}  // namespace

bool CopyRowTransformer::feed_binary(std::string_view chunk, std::string& out) {
  if (ended_) {
    out.append(chunk);  // after the trailer: the server decides what that is
    return true;
  }
  pending_.append(chunk);
  const std::string_view in(pending_);
  std::size_t pos = 0;
  if (!header_done_) {
    const std::size_t have = std::min(in.size(), kSignature.size());
    if (in.substr(0, have) != kSignature.substr(0, have)) {
      error_ = "COPY data in binary format does not start with the PGCOPY signature";
      return false;
    }
    if (in.size() < kHeaderFixed) {
      return true;
    }
    if ((be32(in, 11) & kUnknownFlags) != 0) {
      error_ = "COPY data in binary format with OIDs or unknown critical flags";
      return false;
    }
    const std::size_t header = kHeaderFixed + be32(in, 15);
    if (in.size() < header) {
      return true;
    }
    out.append(in.substr(0, header));
    pos = header;
    header_done_ = true;
  }
  std::vector<TupleField> fields;
  while (in.size() - pos >= 2) {
    const std::int16_t count = be16(in, pos);
    if (count == -1) {
      out.append(in.substr(pos));
      ended_ = true;
      pos = in.size();
      break;
    }
    if (count >= 0) {
      choose_width(static_cast<std::size_t>(count));
    }
    if (count < 0 || static_cast<std::size_t>(count) != plan_.input_columns) {
      error_ = "COPY data tuple has " + std::to_string(count) + " fields, expected " +
               std::to_string(plan_.input_columns);
      return false;
    }
    fields.clear();
    std::size_t p = pos + 2;
    bool whole = true;
    for (std::int16_t i = 0; i < count; ++i) {
      if (in.size() - p < 4) {
        whole = false;
        break;
      }
      const auto length = static_cast<std::int32_t>(be32(in, p));
      if (length < -1) {
        error_ = "COPY data field has a negative length";
        return false;
      }
      const std::size_t bytes = length < 0 ? 0 : static_cast<std::size_t>(length);
      if (in.size() - p - 4 < bytes) {
        whole = false;
        break;
      }
      fields.push_back(TupleField{p, p + 4 + bytes});
      p += 4 + bytes;
    }
    if (!whole) {
      break;  // the rest of this tuple comes in a later chunk
    }
    ++tuples_;
    const auto n = static_cast<std::uint16_t>(plan_.source_index_per_output_column.size());
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xFF);
    const std::vector<FieldConversion>& conversions = plan_.conversion_per_output_column;
    for (std::size_t k = 0; k < plan_.source_index_per_output_column.size(); ++k) {
      const TupleField f =
          fields[static_cast<std::size_t>(plan_.source_index_per_output_column[k])];
      const bool null = f.end - f.begin == 4 && be32(in, f.begin) == 0xFFFFFFFFu;
      if (conversions.empty() || conversions[k] == FieldConversion::verbatim || null) {
        out.append(in.substr(f.begin, f.end - f.begin));
      } else if (std::string why; !append_converted_field(
                     conversions[k], in.substr(f.begin + 4, f.end - f.begin - 4), out, why)) {
        error_ =
            "COPY data row " + std::to_string(tuples_) + ", column " +
            (k < plan_.output_columns.size() ? plan_.output_columns[k] : std::to_string(k + 1)) +
            ": " + why;
        return false;
      }
    }
    pos = p;
  }
  pending_.erase(0, pos);
  return pending_within_bound();
}

bool CopyRowTransformer::finish_binary() {
  if (ended_ || pending_.empty()) {
    return true;
  }
  error_ = header_done_ ? "COPY data in binary format ends inside a tuple"
                        : "COPY data in binary format ends inside its header";
  return false;
}

}  // namespace switchyard::rewrite
