#include <algorithm>

#include "rewrite/rewriter.hpp"

namespace switchyard::rewrite {
namespace {

char lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// `needle` is already lowercase. A quoted mixed-case table name is matched case-insensitively
// too: a false positive only costs a parse.
bool contains_ci(std::string_view hay, std::string_view needle) {
  if (needle.empty() || hay.size() < needle.size()) {
    return false;
  }
  const char first = needle.front();
  const char first_upper = (first >= 'a' && first <= 'z') ? static_cast<char>(first - 32) : first;
  const std::size_t last = hay.size() - needle.size();
  for (std::size_t i = 0; i <= last; ++i) {
    const char c = hay[i];
    if (c != first && c != first_upper) {
      continue;
    }
    std::size_t j = 1;
    while (j < needle.size() && lower_ascii(hay[i + j]) == needle[j]) {
      ++j;
    }
    if (j == needle.size()) {
      return true;
    }
  }
  return false;
}

}  // namespace

bool Rewriter::may_touch(std::string_view sql) const {
  return std::any_of(needles_.begin(), needles_.end(),
                     [sql](const std::string& n) { return contains_ci(sql, n); });
}

}  // namespace switchyard::rewrite
