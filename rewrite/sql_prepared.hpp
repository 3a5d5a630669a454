#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::rewrite {

/// Statements prepared and run in SQL rather than through the protocol: `PREPARE name [(types)]
/// AS statement` and `EXECUTE name [(arguments)]` (also under EXPLAIN and CREATE TABLE AS).
/// A statement prepared this way keeps the rewrite of the flags it was prepared under, so the
/// proxy must know when one is run after the flags changed.
struct SqlPrepared {
  std::vector<std::string> prepared;  ///< names the text's PREPAREs define
  /// Each of those PREPARE statements alone (without the `;` after it), viewing the text given.
  std::vector<std::string_view> prepare_statements;
  std::vector<std::string> executed;  ///< names the text's EXECUTEs run
};

/// nullopt when the text neither prepares nor executes anything. No parse unless a keyword
/// appears; one statement is judged by its first word (EXPLAIN and CREATE are looked into).
std::optional<SqlPrepared> sql_prepared(std::string_view sql);

/// Statements that prepare `name` again as `prepare_statement` (one PREPARE of that name, as
/// rewritten now), to go in front of a client's text: DEALLOCATE, then the PREPARE, each
/// answered by its own CommandComplete. A line break ends each, so a comment that ends the
/// PREPARE does not swallow what follows.
std::string sql_prepare_again(std::string_view name, std::string_view prepare_statement);

/// Where statements put in front of a client's text go: after its leading blanks and comments,
/// so that a tracing tag stays first (DESIGN §3); 0 when a comment there does not end.
std::size_t front_of_statements(std::string_view text);

}  // namespace switchyard::rewrite
