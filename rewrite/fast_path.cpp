#include <algorithm>
#include <cstring>

#include "rewrite/rewriter.hpp"

namespace switchyard::rewrite {
namespace {

char lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// `needle` is already lowercase. A quoted mixed-case table name is matched case-insensitively
// too: a false positive only costs a parse. Candidates are found with memchr (vectorised in libc)
// for the first letter in either case, so the common "not there" answer costs a few passes over
// the text at memory speed instead of a branch per byte.
bool contains_ci(std::string_view hay, std::string_view needle) {
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
    while (j < needle.size() && lower_ascii(hay[i + j]) == needle[j]) {
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

}  // namespace

bool Rewriter::may_touch(std::string_view sql) const {
  return std::any_of(needles_.begin(), needles_.end(),
                     [sql](const std::string& n) { return contains_ci(sql, n); });
}

}  // namespace switchyard::rewrite
