#include "rewrite/text_edits.hpp"

#include <algorithm>

namespace switchyard::rewrite::detail {

bool TextEdits::replace(int begin, int end, std::string text) {
  std::vector<Copy> copies;
  // Only pieces rendered with no edit inside appear in the text as the original has them.
  std::size_t from = 0;
  for (const auto& [b, e] : rendered_) {
    const std::string_view piece = original_.substr(b, e - b);
    const std::size_t found = piece.empty() ? std::string::npos : text.find(piece, from);
    if (found != std::string::npos) {
      copies.push_back(Copy{static_cast<int>(found), b, e});
      from = found + piece.size();
    }
  }
  rendered_.clear();
  // Edits never partially overlap and no insertion lies strictly inside a replacement, so only
  // the edit just before `begin` and those starting in [begin, end) can meet the new one: found by
  // binary search, a statement's many edits cost log(n) each rather than n.
  auto at = std::partition_point(edits_.begin(), edits_.end(),
                                 [&](const Edit& e) { return e.begin < begin; });
  if (at != edits_.begin()) {
    const Edit& before = *std::prev(at);
    if (before.end > begin) {
      return false;
    }
  }
  // An insertion exactly at begin or end stays outside (it belongs to the neighbour) and keeps its
  // place before the new edit.
  while (at != edits_.end() && at->begin == begin && at->end == begin) {
    ++at;
  }
  auto past = at;
  for (; past != edits_.end() && past->begin < end; ++past) {
    if (past->end > end) {
      return false;
    }
  }
  // What lies in [at, past) is strictly inside the range or the same range: superseded.
  if (at == past) {
    edits_.insert(at, Edit{begin, end, std::move(text), std::move(copies)});
  } else {
    *at = Edit{begin, end, std::move(text), std::move(copies)};
    edits_.erase(std::next(at), past);
  }
  return true;
}

namespace {

bool word_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_' ||
         u == '$' || u >= 0x80;
}

}  // namespace

// An edit replaces whole tokens, and SQL lets a token touch a word where no space is needed
// (`select*from t`): where an edit's text and its neighbour would run together into one word
// (`selectt.id`), a space keeps them two tokens.
void append_apart(std::string& out, std::string_view piece) {
  if (!out.empty() && !piece.empty() && word_byte(out.back()) && word_byte(piece.front())) {
    out += ' ';
  }
  out.append(piece);
}

std::string TextEdits::render(int begin, int end, bool boundary_inserts) const {
  if (begin < end) {
    rendered_.emplace_back(begin, end);
  }
  std::string out;
  int at = begin;
  auto e = std::partition_point(edits_.begin(), edits_.end(),
                                [&](const Edit& x) { return x.begin < begin; });
  for (; e != edits_.end() && e->begin <= end; ++e) {
    if (e->end > end ||
        (!boundary_inserts && e->begin == e->end && (e->begin == begin || e->begin == end))) {
      continue;
    }
    append_apart(out, original_.substr(at, e->begin - at));
    append_apart(out, e->text);
    at = e->end;
  }
  append_apart(out, original_.substr(at, end - at));
  return out;
}

std::string TextEdits::render_all(PositionMap& map) const {
  map.spans.clear();
  std::string out;
  // Of two spans that start at one offset (an empty piece before a piece), the later holds.
  auto span = [&](std::size_t start, int original, bool verbatim) {
    if (!map.spans.empty() && map.spans.back().rewritten_begin == start) {
      map.spans.pop_back();
    }
    map.spans.push_back({static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(original),
                         static_cast<std::uint32_t>(original), verbatim});
  };
  // A space append_apart puts between two pieces belongs to the one before.
  int at = 0;
  for (const Edit& e : edits_) {
    const std::string_view kept = original_.substr(at, e.begin - at);
    append_apart(out, kept);
    span(out.size() - kept.size(), at, true);
    append_apart(out, e.text);
    const std::size_t start = out.size() - e.text.size();
    span(start, e.begin, false);
    for (const Copy& c : e.copies) {
      span(start + c.at, c.begin, true);
      span(start + c.at + (c.end - c.begin), e.begin, false);
    }
    at = e.end;
  }
  const std::string_view rest = original_.substr(at);
  append_apart(out, rest);
  span(out.size() - rest.size(), at, true);
  return out;
}

}  // namespace switchyard::rewrite::detail
