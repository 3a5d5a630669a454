#include "rewrite/sql_text.hpp"

#include <algorithm>
#include <cstring>

#include "rewrite/keywords.hpp"
#include "rewrite/pg_query_handles.hpp"

namespace switchyard::rewrite::detail {
namespace {

char lower_char(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Keywords other than unreserved ones are not valid bare in every position we write to.
bool keyword_needs_quotes(std::string_view lowercase_name) {
  if (keywords_known()) {
    const Keyword* kw = find_keyword(lowercase_name);
    return kw != nullptr && kw->kind != PG_QUERY__KEYWORD_KIND__UNRESERVED_KEYWORD;
  }
  const std::vector<Token> tokens = scan_tokens_with_libpg_query(std::string(lowercase_name));
  return tokens.size() != 1 ||
         (tokens[0].keyword_kind != PG_QUERY__KEYWORD_KIND__NO_KEYWORD &&
          tokens[0].keyword_kind != PG_QUERY__KEYWORD_KIND__UNRESERVED_KEYWORD);
}

}  // namespace

std::size_t quoted_end(std::string_view sql, std::size_t open, char quote, bool backslash) {
  for (std::size_t i = open + 1; i < sql.size(); ++i) {
    if (backslash && sql[i] == '\\') {
      ++i;
    } else if (sql[i] == quote) {
      if (i + 1 < sql.size() && sql[i + 1] == quote) {
        ++i;
      } else {
        return i + 1;
      }
    }
  }
  return std::string_view::npos;
}

std::size_t block_comment_end(std::string_view sql, std::size_t open) {
  int depth = 0;
  for (std::size_t i = open; i + 1 < sql.size(); ++i) {
    if (sql[i] == '/' && sql[i + 1] == '*') {
      ++depth;
      ++i;
    } else if (sql[i] == '*' && sql[i + 1] == '/') {
      ++i;
      if (--depth == 0) {
        return i + 1;
      }
    }
  }
  return std::string_view::npos;
}

std::optional<std::string_view> sole_statement_verb(std::string_view sql) {
  auto is_blank = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
  };
  const std::size_t semicolon = sql.find(';');
  if (semicolon != std::string_view::npos &&
      !std::all_of(sql.begin() + static_cast<std::ptrdiff_t>(semicolon) + 1, sql.end(), is_blank)) {
    return std::nullopt;
  }
  std::size_t i = 0;
  while (i < sql.size()) {
    if (is_blank(sql[i])) {
      ++i;
    } else if (sql.substr(i, 2) == "--") {
      i = sql.find_first_of("\r\n", i);  // PostgreSQL ends a line comment at either
    } else if (sql.substr(i, 2) == "/*") {
      i = block_comment_end(sql, i);
    } else {
      break;
    }
  }
  std::size_t end = i;
  while (end < sql.size() && (sql[end] | 0x20) >= 'a' && (sql[end] | 0x20) <= 'z') {
    ++end;
  }
  if (end == i) {
    return std::nullopt;
  }
  return sql.substr(i, end - i);
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') {
      x = static_cast<char>(x - 'A' + 'a');
    }
    if (y >= 'A' && y <= 'Z') {
      y = static_cast<char>(y - 'A' + 'a');
    }
    if (x != y) {
      return false;
    }
  }
  return true;
}

std::string quote_ident(std::string_view name) {
  bool safe = !name.empty() && ((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_');
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '$')) {
      safe = false;
    }
  }
  if (safe) {
    safe = !keyword_needs_quotes(name);
  }
  if (safe) {
    return std::string(name);
  }
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') {
      out += '"';
    }
    out += c;
  }
  out += '"';
  return out;
}

std::string apply_template(std::string_view tmpl, std::string_view value) {
  if (tmpl.empty()) {
    return std::string(value);
  }
  static constexpr std::string_view kPlaceholder = "{value}";
  std::string out;
  std::size_t pos = 0;
  while (true) {
    const std::size_t hit = tmpl.find(kPlaceholder, pos);
    if (hit == std::string_view::npos) {
      out.append(tmpl.substr(pos));
      break;
    }
    out.append(tmpl.substr(pos, hit - pos));
    out += '(';
    out.append(value);
    out += ')';
    pos = hit + kPlaceholder.size();
  }
  return out;
}

// Candidates are found with memchr (vectorised in libc)
// for the first letter in either case, so the common "not there" answer costs a few passes over
// the text at memory speed instead of a branch per byte.
bool icontains(std::string_view hay, std::string_view needle) {
  if (needle.empty() || hay.size() < needle.size()) {
    return false;
  }
  const char first = needle.front();
  const char first_upper = (first >= 'a' && first <= 'z') ? static_cast<char>(first - 32) : first;
  const char* const begin = hay.data();
  const std::size_t starts = hay.size() - needle.size() + 1;  // positions a match can start at
  auto find = [&](char c, std::size_t from) -> std::size_t {
    const void* at = std::memchr(begin + from, c, starts - from);
    return at == nullptr ? starts : static_cast<std::size_t>(static_cast<const char*>(at) - begin);
  };
  std::size_t lower_at = find(first, 0);
  std::size_t upper_at = first_upper == first ? starts : find(first_upper, 0);
  while (lower_at < starts || upper_at < starts) {
    const std::size_t i = std::min(lower_at, upper_at);
    std::size_t j = 1;
    while (j < needle.size() && lower_char(hay[i + j]) == needle[j]) {
      ++j;
    }
    if (j == needle.size()) {
      return true;
    }
    if (i == lower_at) {
      lower_at = find(first, i + 1);
    } else {
      upper_at = find(first_upper, i + 1);
    }
  }
  return false;
}

}  // namespace switchyard::rewrite::detail
