#pragma once

// The tokens of plain SQL text without libpg_query's scanner. A rewrite needs the tokens of
// almost every statement it changes (where a list item or a name ends), and the scanner's
// protobuf round trip made them a third of a cache miss. Plain text (what ORMs and pgbench send)
// is read here; anything this reader does not vouch for token by token goes to the scanner.

#include <optional>
#include <string_view>
#include <vector>

#include "rewrite/pg_query_handles.hpp"

namespace switchyard::rewrite::detail {

/// The tokens of `sql` (comments dropped), exactly as scan_tokens_with_libpg_query gives them,
/// when every byte is ASCII and the text holds only blanks, comments, words, double-quoted
/// names, integers, $n parameters, '...' strings without backslashes, the punctuation
/// `( ) [ ] , ; .`, `::`, and operators of one character or `<> != <= >= =>`. Nullopt for
/// anything else: the caller asks the scanner.
std::optional<std::vector<Token>> scan_plain(std::string_view sql);

}  // namespace switchyard::rewrite::detail
