#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace switchyard::rewrite {

/// Where each stretch of a rewritten text comes from in the text the client sent, so that an
/// error's position (ErrorResponse field 'P') into the rewritten text can be told in the
/// client's. Offsets count characters from 0 once to_characters() ran (bytes before).
struct PositionMap {
  struct Span {
    std::uint32_t rewritten_begin = 0;  // runs up to the next span's begin
    std::uint32_t original_begin = 0;
    /// Copied from the original: each character stands for its own. Otherwise the rewrite's
    /// own text, which stands for the start of what it replaced (or its point of insertion).
    bool verbatim = false;
    bool operator==(const Span&) const = default;
  };
  std::vector<Span> spans;  // sorted by rewritten_begin, the first at 0
  std::uint32_t original_length = 0;
  bool operator==(const PositionMap&) const = default;
};

/// The position (1-based, as in field 'P') in the original text of `position` in the rewritten
/// one; nullopt when the map cannot tell (empty, or past either text's end).
std::optional<std::uint32_t> original_position(const PositionMap& map, std::uint32_t position);

/// For a text filled in from the rewrite of its literal shape's key (`rewritten_key`, whose map
/// is `key_map`): the position in `original` of `position` in the filled text; nullopt when
/// that cannot be told. Errors are rare: it takes the shape of `original` again.
std::optional<std::uint32_t> shaped_original_position(const PositionMap& key_map,
                                                      std::string_view rewritten_key,
                                                      std::string_view original,
                                                      std::uint32_t position);

/// Turns a map in byte offsets of `original` and `rewritten` into one in characters (UTF-8:
/// bytes that do not continue one), as Postgres counts an error's position.
void to_characters(PositionMap& map, std::string_view original, std::string_view rewritten);

}  // namespace switchyard::rewrite
