#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "rewrite/migration.hpp"
#include "rewrite/result.hpp"
#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite {

/// How a session's client_encoding lets the rewrite, which reads every text as UTF-8 (as
/// libpg_query does), read a text as the server reads it after converting it from that encoding.
enum class ClientEncoding : std::uint8_t {
  /// Read alike.
  utf8,
  /// Every byte of a non-ASCII character is >= 0x80 (LATIN1, WIN1252, EUC_JP, ...): the text's
  /// structure reads alike, but a non-ASCII character's bytes are not UTF-8's.
  ascii_safe,
  /// SJIS, SHIFT_JIS_2004, BIG5, GBK, GB18030, UHC, JOHAB: a character's second byte may be an
  /// ASCII byte (0x5C
  /// is a backslash, 0x7C a `|`), so even the text's structure may read otherwise.
  embeds_ascii,
};

/// The kind of encoding `name` is, as the server reports it (ParameterStatus client_encoding)
/// or as COPY's ENCODING option and SET client_encoding accept it (any case, aliases).
/// `server_encoding`: the database's, which the server reads a SQL_ASCII client's bytes in.
ClientEncoding classify_encoding(std::string_view name, std::string_view server_encoding = "UTF8");

/// What the proxy knows of how the server reads the session's texts.
struct TextReading {
  ClientEncoding encoding = ClientEncoding::utf8;
  bool standard_strings = true;
  /// A text that may change standard_conforming_strings or client_encoding is on its way to
  /// the server and not answered yet: both are unknown.
  bool settings_in_flight = false;
  /// The encoding's name, for the reasons.
  std::string encoding_name = "UTF8";

  bool usual() const {
    return encoding == ClientEncoding::utf8 && standard_strings && !settings_in_flight;
  }
};

/// Why `sql` must be refused before it is rewritten, given how the server reads it, or nothing.
/// `may_touch`: the text may name a mapped table (Rewriter::may_touch). `non_ascii_names`: a
/// migration of the session's database has a table or column name that is not ASCII, which the
/// name match cannot find in a text of another encoding.
std::optional<std::string> unreadable_text(const TextReading& reading, std::string_view sql,
                                           bool may_touch, bool non_ascii_names);

/// Why the rewrite `result` of `sql` must be refused in a session of another encoding than
/// UTF-8, or nothing: the text has non-ASCII bytes and did not parse (the server, converting it
/// first, may run it), or the rewrite inserts a migration's non-ASCII text (a transform, a name)
/// as UTF-8 bytes; or the rows of a COPY would be split by the proxy where a character may hold
/// a delimiter's byte. `migrations`: the session's database's.
std::optional<std::string> unsplicable_rewrite(const TextReading& reading, std::string_view sql,
                                               const RewriteResult& result,
                                               std::span<const Migration> migrations);

/// A migration's table or column name is not ASCII.
bool has_non_ascii_name(const Migration& m);

/// Whether `sql` may change standard_conforming_strings or client_encoding (SET, SET NAMES,
/// set_config, UPDATE pg_settings, RESET, DISCARD). False means certainly not; one pass over
/// the text.
bool may_change_reading(std::string_view sql);
/// The same, with the text's sole_statement_verb() already known: a text of one statement
/// other than SET, RESET, DISCARD or DO changes either only by calling set_config, so the look
/// is a search for '(' and then for that word (pgbench's SELECT: ~30 instructions instead of
/// ~600).
bool may_change_reading(std::string_view sql, detail::SoleVerb verb);

}  // namespace switchyard::rewrite
