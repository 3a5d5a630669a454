#include "rewrite/sql_text.hpp"

#include <algorithm>

#include "rewrite/pg_query_handles.hpp"

namespace switchyard::rewrite::detail {

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
    // Keywords other than unreserved ones are not valid bare in every position we write to.
    const std::vector<Token> tokens = scan_tokens(std::string(name));
    safe = tokens.size() == 1 &&
           (tokens[0].keyword_kind == PG_QUERY__KEYWORD_KIND__NO_KEYWORD ||
            tokens[0].keyword_kind == PG_QUERY__KEYWORD_KIND__UNRESERVED_KEYWORD);
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

bool icontains(std::string_view hay, std::string_view lowercase_word) {
  auto same = [](char a, char b) {
    return (a >= 'A' && a <= 'Z' ? static_cast<char>(a - 'A' + 'a') : a) == b;
  };
  return std::search(hay.begin(), hay.end(), lowercase_word.begin(), lowercase_word.end(), same) !=
         hay.end();
}

}  // namespace switchyard::rewrite::detail
