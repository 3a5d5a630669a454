#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "rewrite/sql_text.hpp"

// The literals a text's literal shape takes out, lexed in one place: take_literal_shape scans
// a text with these, and a ShapeRecipe reads a later text's literals with the same ones, so
// both agree on where a literal ends and what kind it is.
namespace switchyard::rewrite::detail {

// A placeholder's first five bytes: an integer or numeric placeholder's, a string placeholder's
// after its quote. A text that holds either gets no shape.
inline constexpr std::string_view kNumberMark = "21474";
inline constexpr std::string_view kStringMark = "swlit";

constexpr bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
constexpr bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c) || c == '$'; }

struct NumberToken {
  std::size_t end = 0;
  bool numeric = false;    // a fraction or an exponent: a numeric
  bool fits_int4 = false;  // an integer no larger than an int4 holds
};

/// The number starting at `at` (a digit, or a dot before a digit): digits, then a fraction,
/// then an exponent when digits follow its sign.
inline NumberToken number_token(std::string_view sql, std::size_t at) {
  NumberToken token;
  // The integer part's value, read as it is scanned; it stops growing past what any int4
  // holds, which is all that is asked of it.
  std::uint64_t value = 0;
  std::size_t end = at;
  while (end < sql.size() && is_digit(sql[end])) {
    if (value <= 2147483647u) {
      value = value * 10 + static_cast<unsigned>(sql[end] - '0');
    }
    ++end;
  }
  if (end < sql.size() && sql[end] == '.') {
    token.numeric = true;
    ++end;
    while (end < sql.size() && is_digit(sql[end])) {
      ++end;
    }
  }
  if (end < sql.size() && (sql[end] == 'e' || sql[end] == 'E')) {
    std::size_t exp = end + 1;
    if (exp < sql.size() && (sql[exp] == '+' || sql[exp] == '-')) {
      ++exp;
    }
    if (exp < sql.size() && is_digit(sql[exp])) {
      token.numeric = true;
      end = exp;
      while (end < sql.size() && is_digit(sql[end])) {
        ++end;
      }
    }
  }
  token.end = end;
  token.fits_int4 = !token.numeric && value <= 2147483647u;
  return token;
}

/// The end of the plain string opening at `at` (a quote); npos when it does not end or holds
/// a backslash: with standard_conforming_strings off a backslash escapes, and the session's
/// setting is not known where shapes are taken.
inline std::size_t plain_string_end(std::string_view sql, std::size_t at) {
  const std::size_t end = quoted_end(sql, at, '\'', false);
  if (end == std::string_view::npos ||
      sql.substr(at, end - at).find('\\') != std::string_view::npos) {
    return std::string_view::npos;
  }
  return end;
}

/// The end of the E'' string whose E is at `at`; npos when it does not end.
inline std::size_t escape_string_end(std::string_view sql, std::size_t at) {
  return quoted_end(sql, at + 1, '\'', true);
}

}  // namespace switchyard::rewrite::detail
