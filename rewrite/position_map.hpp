#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace switchyard::rewrite {

/// Where each stretch of a rewritten text comes from in the text the client sent, so that an
/// error's position (ErrorResponse field 'P') into the rewritten text can be told in the
/// client's. Offsets count bytes, and once to_characters() ran the original's also characters
/// as UTF-8 counts them: at the error the rewritten text is at hand, the client's is not.
struct PositionMap {
  struct Span {
    std::uint32_t rewritten_begin = 0;  // runs up to the next span's begin
    std::uint32_t original_begin = 0;
    std::uint32_t original_byte = 0;
    /// Copied from the original: each character stands for its own. Otherwise the rewrite's
    /// own text, which stands for the start of what it replaced (or its point of insertion).
    bool verbatim = false;
    bool operator==(const Span&) const = default;
  };
  std::vector<Span> spans;  // sorted by rewritten_begin, the first at 0
  std::uint32_t original_length = 0;
  std::uint32_t original_bytes = 0;
  bool operator==(const PositionMap&) const = default;
};

/// How the server counts the characters of a session's text for an error's position: it counts
/// them in its own encoding, after converting the client's text, so as the client's encoding
/// counts them; a SQL_ASCII database counts bytes, a SQL_ASCII client is not converted.
/// `ascii_only`: an encoding the proxy does not count (EUC_*, MULE_INTERNAL, the client-only
/// ones), where only a text of ASCII bytes is told.
enum class CharacterCount { utf8, bytes, ascii_only };
CharacterCount character_count(std::string_view client_encoding, std::string_view server_encoding);

/// The position (1-based, as in field 'P') in the original text of `position` in `rewritten`,
/// both counted as `count` says; nullopt when the map cannot tell (empty, past either text's
/// end, or characters the proxy does not count).
std::optional<std::uint32_t> original_position(const PositionMap& map, std::string_view rewritten,
                                               std::uint32_t position,
                                               CharacterCount count = CharacterCount::utf8);

/// For a text filled in from the rewrite of its literal shape's key (`rewritten_key`, whose map
/// is `key_map`): the position in `original` of `position` in the filled text; nullopt when
/// that cannot be told. Errors are rare: it takes the shape of `original` again.
std::optional<std::uint32_t> shaped_original_position(const PositionMap& key_map,
                                                      std::string_view rewritten_key,
                                                      std::string_view original,
                                                      std::uint32_t position,
                                                      CharacterCount count = CharacterCount::utf8);

/// Adds to a map in byte offsets of `original` their characters (UTF-8: bytes that do not
/// continue one).
void to_characters(PositionMap& map, std::string_view original);

}  // namespace switchyard::rewrite
