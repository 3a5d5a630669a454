#include "rewrite/copy_field_conversion.hpp"

#include <bit>
#include <limits>

namespace switchyard::rewrite {

namespace {

// Bytes per integer type, 0 for any other type.
std::size_t integer_width(std::string_view type) {
  if (type == "smallint") {
    return 2;
  }
  if (type == "integer") {
    return 4;
  }
  if (type == "bigint") {
    return 8;
  }
  return 0;
}

// text, varchar and varchar(n) all send the string's bytes; a length limit is the server's to
// check, on receive exactly as on an assignment cast (an error, unless only spaces are cut).
// char(n) is not among them: its cast to text drops trailing spaces the bytes would keep.
bool is_text_like(std::string_view type) {
  return type == "text" || type == "character varying" ||
         (type.starts_with("character varying(") && type.ends_with(")"));
}

void append_length(std::uint32_t n, std::string& out) {
  out += static_cast<char>(n >> 24);
  out += static_cast<char>((n >> 16) & 0xFF);
  out += static_cast<char>((n >> 8) & 0xFF);
  out += static_cast<char>(n & 0xFF);
}

void append_big_endian(std::uint64_t v, std::size_t bytes, std::string& out) {
  append_length(static_cast<std::uint32_t>(bytes), out);
  for (std::size_t i = bytes; i-- > 0;) {
    out += static_cast<char>((v >> (8 * i)) & 0xFF);
  }
}

std::uint64_t read_big_endian(std::string_view value) {
  std::uint64_t v = 0;
  for (const char c : value) {
    v = (v << 8) | static_cast<unsigned char>(c);
  }
  return v;
}

// A smallint, integer or bigint field's value, sign-extended from the field's width.
std::optional<std::int64_t> read_integer(std::string_view value, std::string& error) {
  const std::size_t from_bytes = value.size();
  if (from_bytes != 2 && from_bytes != 4 && from_bytes != 8) {
    error = "an integer field is 2, 4 or 8 bytes, not " + std::to_string(from_bytes);
    return std::nullopt;
  }
  const unsigned shift = static_cast<unsigned>(64 - 8 * from_bytes);
  return static_cast<std::int64_t>(read_big_endian(value) << shift) >> shift;
}

bool append_integer(std::size_t to_bytes, std::string_view value, std::string& out,
                    std::string& error) {
  const std::optional<std::int64_t> v = read_integer(value, error);
  if (!v) {
    return false;
  }
  const std::int64_t max = to_bytes == 2   ? std::numeric_limits<std::int16_t>::max()
                           : to_bytes == 4 ? std::numeric_limits<std::int32_t>::max()
                                           : std::numeric_limits<std::int64_t>::max();
  if (*v > max || *v < -max - 1) {
    // Postgres' own words for the failed cast.
    error = std::string(to_bytes == 2 ? "smallint" : "integer") + " out of range (value " +
            std::to_string(*v) + ")";
    return false;
  }
  append_big_endian(static_cast<std::uint64_t>(*v), to_bytes, out);
  return true;
}

// numeric's send form: digit count, weight (of the first digit, in base-10000 places), sign,
// display scale, then the base-10000 digits, most significant first, each an int16.
bool append_numeric(std::string_view value, std::string& out, std::string& error) {
  const std::optional<std::int64_t> v = read_integer(value, error);
  if (!v) {
    return false;
  }
  // The magnitude, without overflow for the most negative bigint.
  std::uint64_t magnitude =
      *v < 0 ? ~static_cast<std::uint64_t>(*v) + 1 : static_cast<std::uint64_t>(*v);
  std::uint16_t digits[5] = {};  // 2^63 has 19 decimal digits: five base-10000 digits
  std::size_t count = 0;
  for (; magnitude != 0; magnitude /= 10000) {
    digits[count++] = static_cast<std::uint16_t>(magnitude % 10000);
  }
  const std::size_t weight = count == 0 ? 0 : count - 1;
  std::size_t first_kept = 0;  // trailing zero digits are implied by the weight
  while (first_kept < count && digits[first_kept] == 0) {
    ++first_kept;
  }
  const std::size_t kept = count - first_kept;
  append_length(static_cast<std::uint32_t>(8 + 2 * kept), out);
  const auto word = [&out](std::uint16_t w) {
    out += static_cast<char>(w >> 8);
    out += static_cast<char>(w & 0xFF);
  };
  word(static_cast<std::uint16_t>(kept));
  word(static_cast<std::uint16_t>(weight));
  word(*v < 0 ? 0x4000 : 0x0000);
  word(0);
  for (std::size_t i = count; i-- > first_kept;) {
    word(digits[i]);
  }
  return true;
}

}  // namespace

std::optional<FieldConversion> binary_field_conversion(std::string_view from_type,
                                                       std::string_view to_type) {
  if (from_type.empty() || to_type.empty()) {
    return std::nullopt;
  }
  if (from_type == to_type || (is_text_like(from_type) && is_text_like(to_type))) {
    return FieldConversion::verbatim;
  }
  if (integer_width(from_type) != 0) {
    if (to_type == "numeric" || (to_type.starts_with("numeric(") && to_type.ends_with(")"))) {
      return FieldConversion::integer_to_numeric;
    }
    switch (integer_width(to_type)) {
      case 2:
        return FieldConversion::to_int2;
      case 4:
        return FieldConversion::to_int4;
      case 8:
        return FieldConversion::to_int8;
      default:
        return std::nullopt;
    }
  }
  if (from_type == "real" && to_type == "double precision") {
    return FieldConversion::float4_to_float8;
  }
  if (from_type == "json" && to_type == "jsonb") {
    return FieldConversion::json_to_jsonb;
  }
  return std::nullopt;
}

std::string_view describe(FieldConversion conversion) {
  switch (conversion) {
    case FieldConversion::verbatim:
      return "";
    case FieldConversion::to_int2:
      return "to smallint";
    case FieldConversion::to_int4:
      return "to integer";
    case FieldConversion::to_int8:
      return "to bigint";
    case FieldConversion::float4_to_float8:
      return "real to double precision";
    case FieldConversion::integer_to_numeric:
      return "to numeric";
    case FieldConversion::json_to_jsonb:
      return "json to jsonb";
  }
  return "";
}

bool append_converted_field(FieldConversion conversion, std::string_view value, std::string& out,
                            std::string& error) {
  switch (conversion) {
    case FieldConversion::verbatim:
      append_length(static_cast<std::uint32_t>(value.size()), out);
      out.append(value);
      return true;
    case FieldConversion::to_int2:
      return append_integer(2, value, out, error);
    case FieldConversion::to_int4:
      return append_integer(4, value, out, error);
    case FieldConversion::to_int8:
      return append_integer(8, value, out, error);
    case FieldConversion::float4_to_float8: {
      if (value.size() != 4) {
        error = "a real field is 4 bytes, not " + std::to_string(value.size());
        return false;
      }
      const auto single = std::bit_cast<float>(static_cast<std::uint32_t>(read_big_endian(value)));
      append_big_endian(std::bit_cast<std::uint64_t>(static_cast<double>(single)), 8, out);
      return true;
    }
    case FieldConversion::integer_to_numeric:
      return append_numeric(value, out, error);
    case FieldConversion::json_to_jsonb:
      append_length(static_cast<std::uint32_t>(value.size() + 1), out);
      out += '\1';
      out.append(value);
      return true;
  }
  error = "unknown field conversion";
  return false;
}

}  // namespace switchyard::rewrite
