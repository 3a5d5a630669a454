#include "rewrite/token_list.hpp"

#include <algorithm>

#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite::detail {

std::string_view TokenList::text(int i) const {
  const Token& t = at(i);
  return std::string_view(sql_).substr(static_cast<std::size_t>(t.start),
                                       static_cast<std::size_t>(t.end - t.start));
}

int TokenList::index_from(int offset) const {
  const std::vector<Token>& all = tokens();
  auto it = std::lower_bound(all.begin(), all.end(), offset,
                             [](const Token& t, int off) { return t.start < off; });
  return static_cast<int>(it - all.begin());
}

int TokenList::index_at(int offset) const {
  const int i = index_from(offset);
  return (i < size() && at(i).start == offset) ? i : -1;
}

int TokenList::index_before(int offset) const { return index_from(offset) - 1; }

int TokenList::keyword_at_or_before(int i, std::string_view kw) const {
  while (i >= 0 && !is_keyword(i, kw)) {
    --i;
  }
  return i;
}

bool TokenList::is_char(int i, char c) const {
  return i >= 0 && i < size() && at(i).kind == static_cast<unsigned char>(c);
}

bool TokenList::is_keyword(int i, std::string_view kw) const {
  return i >= 0 && i < size() && at(i).keyword_kind != PG_QUERY__KEYWORD_KIND__NO_KEYWORD &&
         iequals(text(i), kw);
}

bool TokenList::is_word(int i) const {
  return i >= 0 && i < size() &&
         (at(i).kind == PG_QUERY__TOKEN__IDENT ||
          at(i).keyword_kind != PG_QUERY__KEYWORD_KIND__NO_KEYWORD);
}

int TokenList::dotted_name_end(int i) const {
  int end = i;
  while (is_char(end + 1, '.') && (is_word(end + 2) || is_char(end + 2, '*'))) {
    end += 2;
    if (is_char(end, '*')) {
      break;
    }
  }
  return end;
}

int TokenList::matching_close(int i) const {
  int depth = 0;
  for (int k = i; k < size(); ++k) {
    if (is_char(k, '(') || is_char(k, '[')) {
      ++depth;
    } else if (is_char(k, ')') || is_char(k, ']')) {
      if (--depth == 0) {
        return k;
      }
    }
  }
  return -1;
}

std::vector<Span> TokenList::split_list(int first, int limit_offset,
                                        std::initializer_list<std::string_view> stops,
                                        int* stop_index) const {
  return split(first, limit_offset, stops, stop_index, false);
}

std::vector<Span> TokenList::split_set_list(int first, int limit_offset,
                                            std::initializer_list<std::string_view> stops) const {
  return split(first, limit_offset, stops, nullptr, true);
}

std::vector<Span> TokenList::split(int first, int limit_offset,
                                   std::initializer_list<std::string_view> stops, int* stop_index,
                                   bool case_nests) const {
  std::vector<Span> items;
  int depth = 0;
  int case_depth = 0;
  int item_first = first;
  int k = first;
  auto close_item = [&](int last) {
    if (last >= item_first) {
      items.push_back(Span{at(item_first).start, at(last).end});
    }
  };
  for (; k < size() && at(k).start < limit_offset; ++k) {
    if (is_char(k, '(') || is_char(k, '[')) {
      ++depth;
      continue;
    }
    if (is_char(k, ')') || is_char(k, ']')) {
      if (depth == 0) {
        break;
      }
      --depth;
      continue;
    }
    if (depth != 0) {
      continue;
    }
    if (case_nests && is_keyword(k, "case")) {
      ++case_depth;
      continue;
    }
    if (case_depth > 0) {
      if (is_keyword(k, "end")) {
        --case_depth;
      }
      continue;
    }
    if (is_char(k, ';')) {
      break;
    }
    if (is_char(k, ',')) {
      close_item(k - 1);
      item_first = k + 1;
      continue;
    }
    if (at(k).keyword_kind == PG_QUERY__KEYWORD_KIND__RESERVED_KEYWORD) {
      const bool stop = std::any_of(stops.begin(), stops.end(),
                                    [&](std::string_view s) { return is_keyword(k, s); });
      // IS [NOT] DISTINCT FROM and WITHIN GROUP are parts of an expression; after '.' or AS a
      // reserved word is a name (`t.from`, `AS from`).
      const bool inner = (is_keyword(k, "from") && is_keyword(k - 1, "distinct")) ||
                         (is_keyword(k, "group") && is_keyword(k - 1, "within")) ||
                         is_char(k - 1, '.') || is_keyword(k - 1, "as");
      if (stop && !inner) {
        break;
      }
    }
  }
  close_item(k - 1);
  if (stop_index != nullptr) {
    *stop_index = k;
  }
  return items;
}

std::vector<Span> TokenList::paren_items(int open, int* close_index) const {
  if (!is_char(open, '(')) {
    return {};
  }
  int stop = 0;
  std::vector<Span> items = split_list(open + 1, static_cast<int>(sql_.size()), {}, &stop);
  if (!is_char(stop, ')')) {
    return {};
  }
  if (close_index != nullptr) {
    *close_index = stop;
  }
  return items;
}

}  // namespace switchyard::rewrite::detail
