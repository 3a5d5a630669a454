#include "proxy/search_path_value.hpp"

#include <cctype>

namespace switchyard::proxy {

std::vector<std::string> split_search_path(std::string_view raw) {
  std::vector<std::string> path;
  std::string item;
  bool quoted = false;
  bool was_quoted = false;
  auto flush = [&] {
    if (!item.empty() || was_quoted) {
      path.push_back(item);
    }
    item.clear();
    was_quoted = false;
  };
  for (char c : raw) {
    if (c == '"') {
      quoted = !quoted;
      was_quoted = true;
    } else if (c == ',' && !quoted) {
      flush();
    } else if (c == ' ' && !quoted) {
      continue;
    } else {
      item.push_back(quoted ? c : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  flush();
  return path;
}

}  // namespace switchyard::proxy
