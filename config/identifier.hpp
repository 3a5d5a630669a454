#pragma once

// SQL identifiers as written in the config. A name is either plain (lowercase letters,
// digits, '_' and '$', not starting with a digit or '$') or double-quoted with any other
// characters, quotes doubled inside ("Order ""Status"""). Plain names with capitals are
// refused rather than folded: in SQL `Users` means `users`, and a config that says `Users`
// almost certainly meant the quoted name, so we make the author pick.

#include <string>
#include <string_view>
#include <vector>

#include "config/values.hpp"

namespace switchyard::config {

/// Postgres truncates identifiers longer than this (NAMEDATALEN - 1 bytes); a longer name
/// in the config could never match the catalog.
inline constexpr std::size_t kMaxIdentifierBytes = 63;

/// Checks one identifier as written and returns the name Postgres stores for it: plain names
/// unchanged, quoted names without their quotes and with doubled quotes undone.
Parsed<std::string> parse_identifier(std::string_view written);

/// Splits a dotted name ("public.users", "\"My Schema\".users") into its identifiers as
/// written (quotes kept), honouring dots inside quotes. Each part is checked.
Parsed<std::vector<std::string>> split_qualified_name(std::string_view written);

/// The name Postgres stores for an identifier written in the config (see parse_identifier);
/// the text itself when it is not a valid identifier. Use it to compare config names with
/// names from parsed SQL or the catalog.
std::string identifier_name(std::string_view written);

}  // namespace switchyard::config
