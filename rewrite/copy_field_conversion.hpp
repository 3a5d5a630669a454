#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace switchyard::rewrite {

/// How a binary COPY field sent for one column becomes the bytes of the other column's type.
///
/// A binary field is its type's `send` form, so a field written to the other column of a type
/// change must be re-encoded, as the assignment cast the INSERT rule relies on would convert the
/// value. Only conversions that are exact on the bytes alone are offered: no time zone, no
/// rounding, no catalog.
enum class FieldConversion : std::uint8_t {
  verbatim,  // one type, or text types whose bytes are the same (the server checks a length)
  to_int2,   // from any integer width; out of range fails the COPY, as the cast would
  to_int4,
  to_int8,
  float4_to_float8,
  integer_to_numeric,  // the server applies numeric(p,s) on receive, as the cast does
  json_to_jsonb,       // jsonb's form is a version byte and the text
};

/// The conversion from a field of `from_type` to one of `to_type` (as `format_type` spells them),
/// or nothing when the bytes alone cannot make it exactly (the COPY is refused).
std::optional<FieldConversion> binary_field_conversion(std::string_view from_type,
                                                       std::string_view to_type);

/// How a conversion reads in a dry run's description: "to bigint", "json to jsonb"; "" for
/// verbatim.
std::string_view describe(FieldConversion conversion);

/// Appends `value` (a non-NULL field's bytes, without its length word) converted, with its length
/// word. False, with `error` saying why, when the value does not fit the target type or is not a
/// value of the source type.
bool append_converted_field(FieldConversion conversion, std::string_view value, std::string& out,
                            std::string& error);

}  // namespace switchyard::rewrite
