#include "rewrite/text_edits.hpp"

#include <algorithm>

namespace switchyard::rewrite::detail {

bool TextEdits::replace(int begin, int end, std::string text) {
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
    edits_.insert(at, Edit{begin, end, std::move(text)});
  } else {
    *at = Edit{begin, end, std::move(text)};
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

}  // namespace switchyard::rewrite::detail
