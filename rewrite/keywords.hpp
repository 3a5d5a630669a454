#pragma once

// PostgreSQL's keywords, as libpg_query's scanner classifies them. The Debian package exports no
// keyword list, but its Token enum names every keyword's token ("SELECT", "ABORT_P"): the
// scanner, run once over those names, tells which are keywords and of which kind.

#include <string_view>

namespace switchyard::rewrite::detail {

/// What the scanner makes of a keyword: its token (PgQuery__Token) and keyword kind
/// (PgQuery__KeywordKind).
struct Keyword {
  int token = 0;
  int kind = 0;
};

/// The keyword `word` spells, in any ASCII case, or null when it is an identifier. Also null for
/// every word when the table could not be built: callers must then ask the scanner.
const Keyword* find_keyword(std::string_view word);

/// False when the table could not be built (the scanner failed on the names).
bool keywords_known();

}  // namespace switchyard::rewrite::detail
