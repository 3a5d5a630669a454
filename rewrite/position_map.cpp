#include "rewrite/position_map.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

#include "rewrite/literal_shape.hpp"

namespace switchyard::rewrite {

namespace {

bool starts_character(char c, CharacterCount count) {
  return count != CharacterCount::utf8 || (static_cast<unsigned char>(c) & 0xC0) != 0x80;
}

std::uint32_t characters(std::string_view text, CharacterCount count) {
  return static_cast<std::uint32_t>(
      std::count_if(text.begin(), text.end(), [&](char c) { return starts_character(c, count); }));
}

bool ascii(std::string_view text) {
  return std::none_of(text.begin(), text.end(),
                      [](char c) { return (static_cast<unsigned char>(c) & 0x80) != 0; });
}

// The byte offset in `text` of character `index` (its end for the one past the last); nullopt
// past that.
std::optional<std::size_t> byte_of(std::string_view text, std::uint32_t index,
                                   CharacterCount count) {
  std::uint32_t seen = 0;
  for (std::size_t byte = 0; byte < text.size(); ++byte) {
    if (starts_character(text[byte], count) && seen++ == index) {
      return byte;
    }
  }
  return seen == index ? std::optional<std::size_t>(text.size()) : std::nullopt;
}

}  // namespace

CharacterCount character_count(std::string_view client_encoding, std::string_view server_encoding) {
  // Postgres reports encodings by their canonical names (pg_enc2name_tbl).
  static constexpr std::array<std::string_view, 25> kSingleByte = {
      "SQL_ASCII", "LATIN1",     "LATIN2",     "LATIN3",    "LATIN4",  "LATIN5",  "LATIN6",
      "LATIN7",    "LATIN8",     "LATIN9",     "LATIN10",   "WIN1250", "WIN1251", "WIN1252",
      "WIN1253",   "WIN1254",    "WIN1255",    "WIN1256",   "WIN1257", "WIN1258", "WIN866",
      "WIN874",    "ISO_8859_5", "ISO_8859_6", "ISO_8859_7"};
  static constexpr std::array<std::string_view, 3> kMoreSingleByte = {"ISO_8859_8", "KOI8R",
                                                                      "KOI8U"};
  auto of = [&](std::string_view name) {
    if (name == "UTF8") {
      return CharacterCount::utf8;
    }
    const bool single =
        std::find(kSingleByte.begin(), kSingleByte.end(), name) != kSingleByte.end() ||
        std::find(kMoreSingleByte.begin(), kMoreSingleByte.end(), name) != kMoreSingleByte.end();
    return single ? CharacterCount::bytes : CharacterCount::ascii_only;
  };
  if (server_encoding == "SQL_ASCII") {
    return CharacterCount::bytes;
  }
  return of(client_encoding == "SQL_ASCII" ? server_encoding : client_encoding);
}

std::optional<std::uint32_t> original_position(const PositionMap& map, std::string_view rewritten,
                                               std::uint32_t position, CharacterCount count) {
  if (map.spans.empty() || position == 0) {
    return std::nullopt;
  }
  if (count == CharacterCount::ascii_only) {
    if (map.original_length != map.original_bytes || !ascii(rewritten)) {
      return std::nullopt;
    }
    count = CharacterCount::bytes;
  }
  const auto at = byte_of(rewritten, position - 1, count);
  if (!at) {
    return std::nullopt;
  }
  auto next = std::upper_bound(
      map.spans.begin(), map.spans.end(), *at,
      [](std::size_t p, const PositionMap::Span& s) { return p < s.rewritten_begin; });
  if (next == map.spans.begin()) {
    return std::nullopt;
  }
  const PositionMap::Span& span = *std::prev(next);
  const bool bytes = count == CharacterCount::bytes;
  std::uint32_t original = bytes ? span.original_byte : span.original_begin;
  if (span.verbatim) {
    original +=
        characters(rewritten.substr(span.rewritten_begin, *at - span.rewritten_begin), count);
  }
  // The end of the text is a position too (Postgres points there at an unexpected end).
  if (original > (bytes ? map.original_bytes : map.original_length)) {
    return std::nullopt;
  }
  return original + 1;
}

std::optional<std::uint32_t> shaped_original_position(const PositionMap& key_map,
                                                      std::string_view rewritten_key,
                                                      std::string_view original,
                                                      std::uint32_t position,
                                                      CharacterCount count) {
  const auto shape = literal_shape(original);
  const auto filled = LiteralTemplate::parse(rewritten_key);
  const auto key = shape ? LiteralTemplate::parse(shape->key) : std::nullopt;
  if (!shape || !filled || !key || position == 0) {
    return std::nullopt;
  }
  if (count == CharacterCount::ascii_only) {
    if (!ascii(original) || !ascii(rewritten_key)) {
      return std::nullopt;
    }
    count = CharacterCount::bytes;
  }
  auto chars = [&](std::string_view s) { return characters(s, count); };
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
  const auto in_key = original_position(key_map, rewritten_key, *key_rewrite_char + 1, count);
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

void to_characters(PositionMap& map, std::string_view original) {
  std::vector<PositionMap::Span*> spans;
  spans.reserve(map.spans.size());
  for (PositionMap::Span& s : map.spans) {
    spans.push_back(&s);
  }
  std::stable_sort(spans.begin(), spans.end(),
                   [](const PositionMap::Span* a, const PositionMap::Span* b) {
                     return a->original_byte < b->original_byte;
                   });
  std::size_t byte = 0;
  std::uint32_t count = 0;
  for (PositionMap::Span* s : spans) {
    const std::size_t target = std::min<std::size_t>(s->original_byte, original.size());
    count += characters(original.substr(byte, target - byte), CharacterCount::utf8);
    byte = target;
    s->original_begin = count;
  }
  map.original_length = characters(original, CharacterCount::utf8);
  map.original_bytes = static_cast<std::uint32_t>(original.size());
}

}  // namespace switchyard::rewrite
