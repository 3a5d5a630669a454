#include "rewrite/text_edits.hpp"

#include <algorithm>

namespace switchyard::rewrite::detail {

bool TextEdits::replace(int begin, int end, std::string text) {
  // An edit strictly inside [begin, end), or a replacement with the same range, is superseded. An
  // insertion exactly at begin or end stays outside (it belongs to the neighbour).
  auto covered = [&](const Edit& e) {
    if (e.begin == e.end) {
      return e.begin > begin && e.begin < end;
    }
    return e.begin >= begin && e.end <= end && begin != end;
  };
  for (const Edit& e : edits_) {
    if (covered(e)) {
      continue;
    }
    const bool disjoint = e.end <= begin || e.begin >= end;
    if (!disjoint) {
      return false;
    }
  }
  std::erase_if(edits_, covered);
  auto pos = std::find_if(edits_.begin(), edits_.end(), [&](const Edit& e) {
    return e.begin > begin || (e.begin == begin && e.end > e.begin && end == begin);
  });
  edits_.insert(pos, Edit{begin, end, std::move(text)});
  return true;
}

namespace {

bool word_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_' ||
         u == '$' || u >= 0x80;
}

// An edit replaces whole tokens, and SQL lets a token touch a word where no space is needed
// (`select*from t`): where an edit's text and its neighbour would run together into one word
// (`selectt.id`), a space keeps them two tokens.
void append_apart(std::string& out, std::string_view piece) {
  if (!out.empty() && !piece.empty() && word_byte(out.back()) && word_byte(piece.front())) {
    out += ' ';
  }
  out.append(piece);
}

}  // namespace

std::string TextEdits::render(int begin, int end, bool boundary_inserts) const {
  std::string out;
  int at = begin;
  for (const Edit& e : edits_) {
    if (e.begin < begin || e.end > end ||
        (!boundary_inserts && e.begin == e.end && (e.begin == begin || e.begin == end))) {
      continue;
    }
    append_apart(out, original_.substr(at, e.begin - at));
    append_apart(out, e.text);
    at = e.end;
  }
  append_apart(out, original_.substr(at, end - at));
  return out;
}

}  // namespace switchyard::rewrite::detail
