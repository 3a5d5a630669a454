#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rewrite/position_map.hpp"

namespace switchyard::rewrite::detail {

/// Appends `piece` to `out`, with a space between them where they would run into one word.
void append_apart(std::string& out, std::string_view piece);

/// Edits of one original text, as byte ranges of that text, applied at the end.
///
/// Edits never partially overlap: an edit that covers earlier ones replaces them (its text was
/// built with render(), which already includes them). Insertions at one offset keep their order.
class TextEdits {
 public:
  explicit TextEdits(std::string_view original) : original_(original) {}

  /// Replaces [begin, end) by `text`. False if it partially overlaps an existing edit.
  bool replace(int begin, int end, std::string text);
  bool insert(int at, std::string text) { return replace(at, at, std::move(text)); }

  /// The original [begin, end) with every edit inside it applied. Insertions exactly at `begin`
  /// or `end` are included only with `boundary_inserts` (they usually belong to a neighbour).
  /// A rule renders a piece to copy it into an edit's text: the next edit made remembers where
  /// the copy came from, so an error's position inside it is told at the piece.
  std::string render(int begin, int end, bool boundary_inserts = false) const;

  /// The pieces rendered since the last edit, for an edit made after others that are not
  /// copies of them (a value moved into text put in front, once its place is edited).
  std::vector<std::pair<int, int>> take_rendered() { return std::exchange(rendered_, {}); }
  void add_rendered(const std::vector<std::pair<int, int>>& pieces) {
    rendered_.insert(rendered_.end(), pieces.begin(), pieces.end());
  }

  /// The whole text with every edit applied, and in `map` (byte offsets) where each stretch of
  /// it comes from.
  std::string render_all(PositionMap& map) const;

  bool empty() const { return edits_.empty(); }

 private:
  // A piece of the original copied into an edit's text.
  struct Copy {
    int at;  // in the edit's text
    int begin;
    int end;
  };
  struct Edit {
    int begin;
    int end;
    std::string text;
    std::vector<Copy> copies;
  };
  std::string_view original_;
  std::vector<Edit> edits_;  // sorted by begin, then insertion order
  // Pieces rendered since the last edit: the next one's text may hold them.
  mutable std::vector<std::pair<int, int>> rendered_;
};

}  // namespace switchyard::rewrite::detail
