#include "rewrite/position_map.hpp"

#include <algorithm>
#include <cstddef>

namespace switchyard::rewrite {

std::optional<std::uint32_t> original_position(const PositionMap& map, std::uint32_t position) {
  if (map.spans.empty() || position == 0) {
    return std::nullopt;
  }
  const std::uint32_t at = position - 1;
  auto next = std::upper_bound(
      map.spans.begin(), map.spans.end(), at,
      [](std::uint32_t p, const PositionMap::Span& s) { return p < s.rewritten_begin; });
  if (next == map.spans.begin()) {
    return std::nullopt;
  }
  const PositionMap::Span& span = *std::prev(next);
  const std::uint32_t original =
      span.original_begin + (span.verbatim ? at - span.rewritten_begin : 0);
  // The end of the text is a position too (Postgres points there at an unexpected end).
  if (original > map.original_length) {
    return std::nullopt;
  }
  return original + 1;
}

namespace {

// Character offsets of the byte offsets `sorted` (ascending) in `text`, in place.
template <typename Get>
void count_characters(std::string_view text, std::vector<PositionMap::Span>& spans, Get get) {
  std::vector<std::uint32_t*> offsets;
  offsets.reserve(spans.size());
  for (PositionMap::Span& s : spans) {
    offsets.push_back(&get(s));
  }
  std::stable_sort(offsets.begin(), offsets.end(),
                   [](const std::uint32_t* a, const std::uint32_t* b) { return *a < *b; });
  std::size_t byte = 0;
  std::uint32_t characters = 0;
  for (std::uint32_t* offset : offsets) {
    const std::size_t target = std::min<std::size_t>(*offset, text.size());
    for (; byte < target; ++byte) {
      characters += (static_cast<unsigned char>(text[byte]) & 0xC0) != 0x80 ? 1 : 0;
    }
    *offset = characters;
  }
}

}  // namespace

void to_characters(PositionMap& map, std::string_view original, std::string_view rewritten) {
  count_characters(rewritten, map.spans,
                   [](PositionMap::Span& s) -> std::uint32_t& { return s.rewritten_begin; });
  count_characters(original, map.spans,
                   [](PositionMap::Span& s) -> std::uint32_t& { return s.original_begin; });
  map.original_length =
      static_cast<std::uint32_t>(std::count_if(original.begin(), original.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
      }));
}

}  // namespace switchyard::rewrite
