// TextEdits: a table of edit sequences (the edge cases of overlap, supersession and insertion
// order) and a randomized comparison against the straightforward scan-everything version it
// replaced, which is kept here as the reference of its semantics.

#include "rewrite/text_edits.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::rewrite::detail {
namespace {

// Every edit looked at by every call: quadratic, obviously right.
class ReferenceEdits {
 public:
  explicit ReferenceEdits(std::string_view original) : original_(original) {}

  bool replace(int begin, int end, std::string text) {
    auto covered = [&](const Edit& e) {
      if (e.begin == e.end) {
        return e.begin > begin && e.begin < end;
      }
      return e.begin >= begin && e.end <= end && begin != end;
    };
    for (const Edit& e : edits_) {
      if (!covered(e) && !(e.end <= begin || e.begin >= end)) {
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

  std::string render(int begin, int end, bool boundary_inserts) const {
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

 private:
  struct Edit {
    int begin;
    int end;
    std::string text;
  };
  std::string_view original_;
  std::vector<Edit> edits_;
};

struct Step {
  int begin;
  int end;
  const char* text;
  bool accepted;
};

struct TextEditsCase {
  const char* name;
  std::vector<Step> steps;
  std::string whole;   // render(0, size, true)
  std::string middle;  // render(2, 6, false)
};

TEST(TextEditsTest, OverlapSupersessionAndInsertionOrder) {
  // original "0123456789"
  // original "0123456789"; edit texts are punctuation so that no space joins them, but the last.
  const TextEditsCase cases[] = {
      {"no edits", {}, "0123456789", "2345"},
      {"one replacement", {{2, 4, "[]", true}}, "01[]456789", "[]45"},
      {"insertions at one offset keep their order",
       {{3, 3, "<", true}, {3, 3, ">", true}},
       "012<>3456789",
       "2<>345"},
      {"an insertion before a replacement at the same offset",
       {{3, 5, "#", true}, {3, 3, "<", true}},
       "012<#56789",
       "2<#5"},
      {"a replacement after insertions at its begin",
       {{3, 3, "<", true}, {3, 5, "#", true}},
       "012<#56789",
       "2<#5"},
      {"an insertion at a range's end stays outside",
       {{5, 5, ">", true}, {3, 5, "#", true}},
       "012#>56789",
       "2#>5"},
      {"insertions at the render's bounds need boundary_inserts",
       {{2, 2, "<", true}, {6, 6, ">", true}},
       "01<2345>6789",
       "2345"},
      {"a partial overlap on the left is refused",
       {{2, 5, "(", true}, {4, 7, ")", false}},
       "01(56789",
       "(5"},
      {"a partial overlap on the right is refused",
       {{4, 7, ")", true}, {2, 5, "(", false}},
       "0123)789",
       "2345"},
      {"an insertion strictly inside a replacement is refused",
       {{2, 5, "(", true}, {3, 3, "?", false}},
       "01(56789",
       "(5"},
      {"a replacement supersedes the edits it covers",
       {{3, 3, "?", true}, {4, 5, "!", true}, {2, 6, "=", true}},
       "01=6789",
       "="},
      {"the same range again replaces it",
       {{2, 4, "@", true}, {2, 4, "%", true}},
       "01%456789",
       "%45"},
      {"a covering edit keeps the insertions at its bounds",
       {{2, 2, "<", true}, {6, 6, ">", true}, {3, 4, "~", true}, {2, 6, "=", true}},
       "01<=>6789",
       "="},
      {"an edit straddling the render's end is left out", {{5, 8, "*", true}}, "01234*89", "2345"},
      {"a word next to a word gets a space", {{2, 4, "ab", true}}, "01 ab 456789", "ab 45"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string original = "0123456789";
    TextEdits edits(original);
    for (const Step& s : c.steps) {
      EXPECT_EQ(edits.replace(s.begin, s.end, s.text), s.accepted) << s.begin << "," << s.end;
    }
    EXPECT_EQ(edits.render(0, 10, true), c.whole);
    EXPECT_EQ(edits.render(2, 6), c.middle);
  }
}

TEST(TextEditsTest, AgreesWithTheReferenceOnRandomEdits) {
  std::mt19937 rng(20261203);
  const std::string original = "select a,b from t where c = 1 and d in (2, 3)";
  const int size = static_cast<int>(original.size());
  const char* texts[] = {"x", "(y)", " ", "zz", "", "$1"};
  for (int round = 0; round < 2000; ++round) {
    TextEdits edits(original);
    ReferenceEdits reference(original);
    const int steps = 1 + static_cast<int>(rng() % 12);
    for (int i = 0; i < steps; ++i) {
      const int begin = static_cast<int>(rng() % (size + 1));
      const int length = rng() % 3 == 0 ? 0 : static_cast<int>(rng() % 8);
      const int end = std::min(size, begin + length);
      const std::string text = texts[rng() % std::size(texts)] + std::to_string(i);
      ASSERT_EQ(edits.replace(begin, end, text), reference.replace(begin, end, text))
          << "round " << round << " step " << i << " [" << begin << "," << end << ")";
      const int from = static_cast<int>(rng() % (size + 1));
      const int to = from + static_cast<int>(rng() % (size + 1 - from));
      const bool boundary = rng() % 2 == 0;
      ASSERT_EQ(edits.render(from, to, boundary), reference.render(from, to, boundary))
          << "round " << round << " step " << i << " render [" << from << "," << to << ")";
    }
    ASSERT_EQ(edits.render(0, size, true), reference.render(0, size, true));
    // The text with its position map is the same text, and the map's spans are in order.
    PositionMap map;
    ASSERT_EQ(edits.render_all(map), reference.render(0, size, true));
    for (std::size_t k = 1; k < map.spans.size(); ++k) {
      ASSERT_LT(map.spans[k - 1].rewritten_begin, map.spans[k].rewritten_begin) << k;
    }
  }
}

}  // namespace
}  // namespace switchyard::rewrite::detail
