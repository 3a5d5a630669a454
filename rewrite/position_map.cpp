#include "rewrite/position_map.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "rewrite/literal_shape.hpp"

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

std::optional<std::uint32_t> shaped_original_position(const PositionMap& key_map,
                                                      std::string_view rewritten_key,
                                                      std::string_view original,
                                                      std::uint32_t position) {
  const auto shape = literal_shape(original);
  const auto filled = LiteralTemplate::parse(rewritten_key);
  const auto key = shape ? LiteralTemplate::parse(shape->key) : std::nullopt;
  if (!shape || !filled || !key || position == 0) {
    return std::nullopt;
  }
  auto chars = [](std::string_view s) {
    return static_cast<std::uint32_t>(std::count_if(
        s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
  };
  std::vector<std::uint32_t> literal_start;  // in characters of `original`
  std::vector<std::uint32_t> literal_chars;
  for (std::string_view literal : shape->literals) {
    literal_start.push_back(
        chars(original.substr(0, static_cast<std::size_t>(literal.data() - original.data()))));
    literal_chars.push_back(chars(literal));
  }
  // Where `position` is in the filled text: inside a literal filled in (told exactly), or at a
  // character of the key's rewrite. Placeholders are ASCII: their bytes are characters.
  const std::uint32_t target = position - 1;
  std::uint32_t in_filled = 0;
  std::uint32_t in_key_rewrite = 0;
  std::size_t at = 0;
  std::optional<std::uint32_t> key_rewrite_char;
  for (const LiteralTemplate::Placeholder& p : filled->placeholders()) {
    const std::uint32_t piece = chars(rewritten_key.substr(at, p.begin - at));
    if (target < in_filled + piece) {
      key_rewrite_char = in_key_rewrite + (target - in_filled);
      break;
    }
    in_filled += piece;
    in_key_rewrite += piece;
    if (p.literal >= literal_start.size()) {
      return std::nullopt;
    }
    if (target < in_filled + literal_chars[p.literal]) {
      return literal_start[p.literal] + (target - in_filled) + 1;
    }
    in_filled += literal_chars[p.literal];
    in_key_rewrite += p.end - p.begin;
    at = p.end;
  }
  if (!key_rewrite_char) {
    key_rewrite_char = in_key_rewrite + (target - in_filled);
  }
  const auto in_key = original_position(key_map, *key_rewrite_char + 1);
  if (!in_key) {
    return std::nullopt;
  }
  // From the key to the original: each placeholder before the position stands for a literal
  // of another length; a position inside one is its literal's start.
  const std::int64_t key_char = *in_key - 1;
  std::int64_t shift = 0;
  std::uint32_t key_chars = 0;
  at = 0;
  for (const LiteralTemplate::Placeholder& p : key->placeholders()) {
    key_chars += chars(std::string_view(shape->key).substr(at, p.begin - at));
    if (key_char < key_chars || p.literal >= literal_start.size()) {
      break;
    }
    if (key_char < key_chars + (p.end - p.begin)) {
      return literal_start[p.literal] + 1;
    }
    shift += static_cast<std::int64_t>(literal_chars[p.literal]) - (p.end - p.begin);
    key_chars += p.end - p.begin;
    at = p.end;
  }
  const std::int64_t told = key_char + shift;
  if (told < 0 || told > chars(original)) {
    return std::nullopt;
  }
  return static_cast<std::uint32_t>(told) + 1;
}

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
