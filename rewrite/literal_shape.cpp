#include "rewrite/literal_shape.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>

#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite {
namespace {

using detail::block_comment_end;
using detail::quoted_end;

// Placeholders. Integers: 2147470000 + i, an int4 like every integer this replaces; numerics:
// 2147460000.5 + i, a numeric. Strings: 'swlit' + i, untyped like the strings they replace.
// A text that already holds either spelling gets no shape, so every occurrence in a rewrite of
// the key is a placeholder.
constexpr std::string_view kNumberMark = "21474";
constexpr std::string_view kStringMark = "swlit";
constexpr std::size_t kMaxLiterals = 10000;

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
constexpr bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c) || c == '$'; }

// Per byte, for the scan's common cases: a byte that is copied as it is whatever follows
// (blanks, most operators and punctuation), and a byte that continues a name.
struct ByteClasses {
  std::array<bool, 256> passes_through{};
  std::array<bool, 256> continues_name{};
};
constexpr ByteClasses kBytes = [] {
  ByteClasses b;
  for (int i = 0; i < 256; ++i) {
    const char c = static_cast<char>(i);
    b.continues_name[i] = is_ident_char(c);
    b.passes_through[i] =
        !is_ident_char(c) && c != '-' && c != '/' && c != '"' && c != '\'' && c != '.';
  }
  return b;
}();

// Where `c` is at `from` or later, or text.size() when nowhere.
std::size_t find_from(std::string_view text, char c, std::size_t from) {
  const std::size_t at = text.find(c, from);
  return at == std::string_view::npos ? text.size() : at;
}

// A placeholder's index, always four digits (kMaxLiterals keeps it below 10000).
void append_index(std::string& out, std::size_t i) {
  const char digits[4] = {static_cast<char>('0' + i / 1000 % 10),
                          static_cast<char>('0' + i / 100 % 10),
                          static_cast<char>('0' + i / 10 % 10), static_cast<char>('0' + i % 10)};
  out.append(digits, 4);
}

// Fills `shape` with the shape of `sql`; false when it has none (see literal_shape).
bool take_shape(std::string_view sql, LiteralShape& shape) {
  if (sql.find(kNumberMark) != std::string_view::npos ||
      sql.find(kStringMark) != std::string_view::npos) {
    return false;
  }
  shape.key.reserve(sql.size() + 16);
  // The text between literals is copied in runs, not token by token.
  std::size_t copied = 0;
  auto copy_up_to = [&](std::size_t at) {
    shape.key.append(sql.data() + copied, at - copied);
    copied = at;
  };
  auto string_placeholder = [&](std::size_t at, std::size_t end) {
    copy_up_to(at);
    shape.key += '\'';
    shape.key += kStringMark;
    append_index(shape.key, shape.literals.size());
    shape.key += '\'';
    shape.literals.push_back(sql.substr(at, end - at));
    copied = end;
  };
  std::size_t i = 0;
  while (i < sql.size()) {
    if (shape.literals.size() >= kMaxLiterals) {
      return false;
    }
    const char c = sql[i];
    if (kBytes.passes_through[static_cast<unsigned char>(c)]) {
      ++i;
      continue;
    }
    const char next = i + 1 < sql.size() ? sql[i + 1] : '\0';
    std::size_t end = i + 1;
    if (c == '-' && next == '-') {
      end = sql.find('\n', i);
      end = end == std::string_view::npos ? sql.size() : end;
    } else if (c == '/' && next == '*') {
      end = block_comment_end(sql, i);
    } else if (c == '"') {
      end = quoted_end(sql, i, '"', false);
    } else if (c == '\'') {
      end = quoted_end(sql, i, '\'', false);
      // With standard_conforming_strings off a backslash escapes; the session's setting is not
      // known here, so such a string is not vouched for.
      if (end == std::string_view::npos ||
          sql.substr(i, end - i).find('\\') != std::string_view::npos) {
        return false;
      }
      string_placeholder(i, end);
      i = end;
      continue;
    } else if (c == '$') {
      if (!is_digit(next)) {
        return false;  // a dollar quote
      }
      while (end < sql.size() && is_digit(sql[end])) {
        ++end;
      }
    } else if (is_ident_start(c)) {
      if (next == '\'' && (c == 'E' || c == 'e')) {
        end = quoted_end(sql, i + 1, '\'', true);
        copy_up_to(i);
        // Right after a quote the E kept two strings apart (`N'a'E'b'`): without it the
        // placeholder's quote would join the string before; right after a word or a
        // parameter (`$2e'x'`) fill_literals would not put the E back.
        if (end == std::string_view::npos ||
            (!shape.key.empty() && (shape.key.back() == '\'' || is_ident_char(shape.key.back())))) {
          return false;
        }
        string_placeholder(i, end);
        i = end;
        continue;
      }
      if (next == '\'' && (c == 'B' || c == 'b' || c == 'X' || c == 'x' || c == 'N' || c == 'n')) {
        // Bit strings and national strings have types of their own: kept as written.
        end = quoted_end(sql, i + 1, '\'', false);
      } else if (next == '&' && (c == 'U' || c == 'u')) {
        return false;
      } else {
        while (end < sql.size() && kBytes.continues_name[static_cast<unsigned char>(sql[end])]) {
          ++end;
        }
      }
    } else if (is_digit(c) || (c == '.' && is_digit(next))) {
      bool numeric = false;
      end = i;
      while (end < sql.size() && is_digit(sql[end])) {
        ++end;
      }
      if (end < sql.size() && sql[end] == '.') {
        numeric = true;
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
          numeric = true;
          end = exp;
          while (end < sql.size() && is_digit(sql[end])) {
            ++end;
          }
        }
      }
      // `1.2.3`, `12abc`, `1e`: lexed in ways not worth following.
      if (end < sql.size() && (is_ident_char(sql[end]) || sql[end] == '.')) {
        return false;
      }
      // Right after a name or a dot (`x.1`, `"a"1`) this is not a constant of its own.
      if (i > 0 && (is_ident_char(sql[i - 1]) || sql[i - 1] == '.' || sql[i - 1] == '"')) {
        return false;
      }
      std::string_view token = sql.substr(i, end - i);
      if (numeric) {
        copy_up_to(i);
        shape.key += kNumberMark;
        shape.key += "6";
        append_index(shape.key, shape.literals.size());
        shape.key += ".5";
        shape.literals.push_back(token);
        copied = end;
      } else {
        std::uint64_t value = 0;
        auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
        if (ec != std::errc() || value > 2147483647u) {
          i = end;  // an int8 or a numeric by its size: kept as written
          continue;
        }
        copy_up_to(i);
        shape.key += kNumberMark;
        shape.key += "7";
        append_index(shape.key, shape.literals.size());
        shape.literals.push_back(token);
        copied = end;
      }
      i = end;
      continue;
    }
    if (end == std::string_view::npos) {
      return false;  // an unterminated quote or comment: the parser will say so
    }
    i = end;
  }
  if (shape.literals.empty()) {
    return false;
  }
  copy_up_to(sql.size());
  return true;
}

}  // namespace

std::optional<LiteralShape> literal_shape(std::string_view sql) {
  // Filled where it is returned: moving a shape (its literals held inline) makes GCC 12 warn
  // wrongly about Boost's small_vector move (-Wstringop-overread).
  std::optional<LiteralShape> shape(std::in_place);
  if (!take_shape(sql, *shape)) {
    shape.reset();
  }
  return shape;
}

std::optional<std::string> fill_literals(std::string_view tmpl,
                                         std::span<const std::string_view> literals) {
  std::string out;
  out.reserve(tmpl.size() + 64);
  auto index_at = [&](std::size_t at) -> std::optional<std::size_t> {
    if (at + 4 > tmpl.size()) {
      return std::nullopt;
    }
    std::size_t value = 0;
    for (std::size_t k = at; k < at + 4; ++k) {
      if (!is_digit(tmpl[k])) {
        return std::nullopt;
      }
      value = value * 10 + static_cast<std::size_t>(tmpl[k] - '0');
    }
    return value;
  };
  std::size_t next_quote = 0;  // where the next ' and 2 are, or the end; found with memchr
  std::size_t next_two = 0;
  std::size_t i = 0;
  while (i < tmpl.size()) {
    const char c = tmpl[i];
    if (c == '\'' && tmpl.substr(i + 1, kStringMark.size()) == kStringMark) {
      auto index = index_at(i + 1 + kStringMark.size());
      std::size_t close = i + 1 + kStringMark.size() + 4;
      if (!index || close >= tmpl.size() || tmpl[close] != '\'' || *index >= literals.size()) {
        return std::nullopt;
      }
      // An E'' where the rewrite put the placeholder against a name or a quote would join it.
      const char before = i > 0 ? tmpl[i - 1] : ' ';
      if (literals[*index].front() != '\'' && (is_ident_char(before) || before == '\'')) {
        return std::nullopt;
      }
      out += literals[*index];
      i = close + 1;
      continue;
    }
    if (c == '2' && tmpl.substr(i, kNumberMark.size()) == kNumberMark &&
        (i == 0 || !is_ident_char(tmpl[i - 1]))) {
      std::size_t kind = i + kNumberMark.size();
      auto index = index_at(kind + 1);
      if (kind < tmpl.size() && index) {
        std::size_t end = kind + 5;
        bool matched = false;
        if (tmpl[kind] == '7') {
          matched = end >= tmpl.size() || (!is_ident_char(tmpl[end]) && tmpl[end] != '.');
        } else if (tmpl[kind] == '6' && tmpl.substr(end, 2) == ".5") {
          end += 2;
          matched = end >= tmpl.size() || (!is_ident_char(tmpl[end]) && tmpl[end] != '.');
        }
        if (matched) {
          if (*index >= literals.size()) {
            return std::nullopt;
          }
          out += literals[*index];
          i = end;
          continue;
        }
      }
      // Digits the rewrite added (a transform's constant), not a placeholder.
    }
    // Up to the next character that can start a placeholder, copied as one run.
    if (next_quote <= i) {
      next_quote = find_from(tmpl, '\'', i + 1);
    }
    if (next_two <= i) {
      next_two = find_from(tmpl, '2', i + 1);
    }
    const std::size_t run = std::min(next_quote, next_two);
    out.append(tmpl.data() + i, run - i);
    i = run;
  }
  return out;
}

std::optional<std::string> instantiate_sql(const RewriteResult& tmpl, const LiteralShape& shape) {
  if ((tmpl.outcome != Outcome::unchanged && tmpl.outcome != Outcome::rewritten) || tmpl.copy ||
      !tmpl.missing.empty()) {
    return std::nullopt;
  }
  if (tmpl.outcome == Outcome::unchanged) {
    return std::string();
  }
  return fill_literals(tmpl.sql, shape.literals);
}

std::shared_ptr<const RewriteResult> instantiate(const RewriteResult& tmpl,
                                                 const LiteralShape& shape) {
  auto sql = instantiate_sql(tmpl, shape);
  if (!sql) {
    return nullptr;
  }
  // Member by member so that the template's text is not copied only to be replaced; a member
  // added to RewriteResult and left out here is a -Wmissing-field-initializers warning.
  return std::make_shared<const RewriteResult>(
      RewriteResult{tmpl.outcome, std::move(*sql), tmpl.reason, tmpl.uses, tmpl.missing, tmpl.kinds,
                    tmpl.ddl_on_mapped_table, tmpl.copy});
}

bool same_result(const RewriteResult& a, const RewriteResult& b) {
  auto same_use = [](const MigrationUse& x, const MigrationUse& y) {
    return x.migration == y.migration && x.reads_of_old == y.reads_of_old &&
           x.writes_of_old == y.writes_of_old && x.reads_of_new == y.reads_of_new &&
           x.writes_of_new == y.writes_of_new && x.rewritten == y.rewritten;
  };
  return a.outcome == b.outcome && a.sql == b.sql && a.reason == b.reason && a.kinds == b.kinds &&
         a.ddl_on_mapped_table == b.ddl_on_mapped_table &&
         a.copy.has_value() == b.copy.has_value() && a.missing.size() == b.missing.size() &&
         std::equal(a.uses.begin(), a.uses.end(), b.uses.begin(), b.uses.end(), same_use);
}

}  // namespace switchyard::rewrite
