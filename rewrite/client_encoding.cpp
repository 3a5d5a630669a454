#include "rewrite/client_encoding.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "rewrite/pg_query_handles.hpp"
#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite {

namespace {

bool high_byte(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

// Postgres compares encoding names lower-cased, with everything but letters and digits left
// out (pg_char_to_encoding's clean_encoding_name): "Shift_JIS" is "shiftjis".
std::string clean_name(std::string_view name) {
  std::string clean;
  for (char c : name) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')) {
      clean.push_back(c);
    } else if (c >= 'A' && c <= 'Z') {
      clean.push_back(static_cast<char>(c | 0x20));
    }
  }
  return clean;
}

// The names and aliases of the client-only encodings that embed ASCII bytes in characters
// (src/common/encnames.c).
constexpr std::array<std::string_view, 19> kEmbedsAscii = {
    "sjis",    "shiftjis", "shiftjis2004", "mskanji",    "win932", "windows932", "cp932",
    "big5",    "win950",   "windows950",   "gbk",        "win936", "windows936", "cp936",
    "gb18030", "uhc",      "win949",       "windows949", "johab"};

constexpr std::array<std::string_view, 3> kReadingWords = {"conforming", "encoding", "set_config"};

constexpr std::array<std::string_view, 2> kUtf8 = {"utf8", "unicode"};

std::string refuse_encoding(const TextReading& reading, std::string_view why) {
  return "client_encoding is " + reading.encoding_name + ", " + std::string(why) +
         ": use client_encoding UTF8";
}

// Whether every backslash of `sql` is inside an E'' string as the rewrite's scanner reads it
// (standard_conforming_strings on). Then no plain string holds one, and only a plain string
// reads otherwise with it off: the server's scan is the same. A backslash in a comment, a name
// or a dollar quote counts as outside (comments are not tokens); so does any in a text the
// scanner rejects (no tokens).
bool backslashes_only_in_escape_strings(std::string_view sql) {
  const std::vector<detail::Token> tokens = detail::scan_tokens(std::string(sql));
  std::ptrdiff_t inside = 0;
  for (const detail::Token& t : tokens) {
    const std::string_view token =
        sql.substr(static_cast<std::size_t>(t.start), static_cast<std::size_t>(t.end - t.start));
    if (t.kind == PG_QUERY__TOKEN__SCONST && token.size() >= 2 && (token[0] | 0x20) == 'e' &&
        token[1] == '\'') {
      inside += std::count(token.begin(), token.end(), '\\');
    }
  }
  return inside == std::count(sql.begin(), sql.end(), '\\');
}

bool spliced_text_non_ascii(const Migration& m) {
  return has_non_ascii_name(m) || high_byte(m.to_new) || high_byte(m.to_old) ||
         high_byte(m.old_type) || high_byte(m.new_type) || high_byte(m.old_collation) ||
         high_byte(m.new_collation);
}

// Whether a statement of `sql` sets either setting: SET (SESSION|LOCAL) of it or NAMES, RESET
// of it or ALL, DISCARD ALL, a set_config(...) call anywhere (but of another setting named in a
// plain string), an UPDATE of pg_settings, or a DO block (whose body may do any of these). A text
// the scanner rejects counts: the server may read it otherwise.
bool sets_reading(std::string_view sql) {
  const std::vector<detail::Token> tokens = detail::scan_tokens(std::string(sql));
  if (tokens.empty()) {
    return true;
  }
  auto is = [&](std::size_t i, std::string_view word) {
    if (i >= tokens.size() || tokens[i].kind == PG_QUERY__TOKEN__SCONST) {
      return false;
    }
    std::string_view token = sql.substr(static_cast<std::size_t>(tokens[i].start),
                                        static_cast<std::size_t>(tokens[i].end - tokens[i].start));
    if (token.size() >= 2 && token.front() == '"' && token.back() == '"') {
      token = token.substr(1, token.size() - 2);
    }
    return detail::iequals(token, word);
  };
  auto names_setting = [&](std::size_t i) {
    return is(i, "client_encoding") || is(i, "standard_conforming_strings");
  };
  // set_config('app.tenant', ...): a plain string naming another setting (row-level security's
  // way of passing a tenant, in every transaction of some apps) changes neither.
  auto sets_other_setting = [&](std::size_t i) {
    if (i + 1 >= tokens.size() || tokens[i].kind != PG_QUERY__TOKEN__SCONST || !is(i + 1, ",")) {
      return false;
    }
    const std::string_view token =
        sql.substr(static_cast<std::size_t>(tokens[i].start),
                   static_cast<std::size_t>(tokens[i].end - tokens[i].start));
    if (token.size() < 2 || token.front() != '\'' || token.back() != '\'') {
      return false;  // E'', U&'', a dollar quote: read as a change
    }
    const std::string_view name = token.substr(1, token.size() - 2);
    return !detail::iequals(name, "client_encoding") &&
           !detail::iequals(name, "standard_conforming_strings") &&
           name.find_first_of("'\\") == std::string_view::npos;
  };
  // UPDATE pg_settings SET setting = ... is a SET too.
  bool updates = false;
  bool names_pg_settings = false;
  bool statement_start = true;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    updates = updates || is(i, "update");
    names_pg_settings = names_pg_settings || is(i, "pg_settings");
    if (updates && names_pg_settings) {
      return true;
    }
    if (is(i, ";")) {
      statement_start = true;
      continue;
    }
    if (statement_start) {
      statement_start = false;
      const std::size_t n = i + 1 + ((is(i + 1, "session") || is(i + 1, "local")) ? 1 : 0);
      if ((is(i, "set") && (names_setting(n) || is(n, "names"))) ||
          (is(i, "reset") && (names_setting(i + 1) || is(i + 1, "all"))) ||
          (is(i, "discard") && is(i + 1, "all")) || is(i, "do")) {
        return true;
      }
    }
    if (is(i, "set_config") && is(i + 1, "(") && !sets_other_setting(i + 2)) {
      return true;
    }
  }
  return false;
}

}  // namespace

ClientEncoding classify_encoding(std::string_view name, std::string_view server_encoding) {
  const std::string clean = clean_name(name);
  if (clean == "sqlascii") {
    // The server converts nothing: it reads the bytes as its own encoding (LATIN1's 'é' is not
    // the UTF-8 bytes a rewrite splices in).
    return classify_encoding(server_encoding);
  }
  if (std::find(kUtf8.begin(), kUtf8.end(), clean) != kUtf8.end()) {
    return ClientEncoding::utf8;
  }
  if (std::find(kEmbedsAscii.begin(), kEmbedsAscii.end(), clean) != kEmbedsAscii.end()) {
    return ClientEncoding::embeds_ascii;
  }
  return ClientEncoding::ascii_safe;
}

bool has_non_ascii_name(const Migration& m) {
  return high_byte(m.schema) || high_byte(m.table) || high_byte(m.old_column) ||
         high_byte(m.new_column);
}

std::optional<std::string> unreadable_text(const TextReading& reading, std::string_view sql,
                                           bool may_touch, bool non_ascii_names) {
  if (reading.usual()) {
    return std::nullopt;
  }
  const bool non_ascii = high_byte(sql);
  if (non_ascii && non_ascii_names && reading.encoding != ClientEncoding::utf8) {
    // Checked whether or not the name match found a table: it looks for UTF-8 bytes.
    return refuse_encoding(reading,
                           "and a migration's table or column name is not ASCII, so the rewrite "
                           "cannot tell whether a text with non-ASCII characters names it");
  }
  if (!may_touch) {
    return std::nullopt;
  }
  const bool backslash = sql.find('\\') != std::string_view::npos;
  if (reading.settings_in_flight &&
      (non_ascii || (backslash && !backslashes_only_in_escape_strings(sql)))) {
    return "the text follows a change of standard_conforming_strings or client_encoding (SET, SET "
           "NAMES, set_config, RESET) that the server has not answered yet, and has a backslash "
           "or a non-ASCII character, which the rewrite cannot read before it knows the new "
           "setting: send it after the change's answer (its ReadyForQuery)";
  }
  if (non_ascii && reading.encoding == ClientEncoding::embeds_ascii) {
    return refuse_encoding(reading,
                           "where a character's second byte can be an ASCII byte such as a "
                           "backslash or `|`, so the rewrite (which reads UTF-8) cannot read a "
                           "text with non-ASCII characters as the server does");
  }
  if (!reading.standard_strings && backslash && !backslashes_only_in_escape_strings(sql)) {
    // `'it\'s'` is one string to the server and to the rewrite a string and the start of
    // another: the rewrite could fail to parse it (and pass it on unrewritten) or read a
    // string's content as SQL.
    return std::string(
        "standard_conforming_strings is off in this session and the text has a backslash outside "
        "an E'...' string, which the rewrite cannot read as the server does: set "
        "standard_conforming_strings = on (the default), or write backslashes in E'...' strings "
        "only");
  }
  return std::nullopt;
}

std::optional<std::string> unsplicable_rewrite(const TextReading& reading, std::string_view sql,
                                               const RewriteResult& result,
                                               std::span<const Migration> migrations) {
  if (result.copy && result.copy->format != CopyPlan::Format::binary &&
      (reading.settings_in_flight || reading.encoding == ClientEncoding::embeds_ascii ||
       may_change_reading(sql))) {
    // The proxy splits the rows into fields itself, by bytes. A SET before the COPY in its own
    // text has run when the data comes, under the reading the proxy learns only at the end.
    return std::string(
        "the COPY's rows are rewritten on the data stream, which the proxy splits into fields "
        "by their bytes, and client_encoding is one whose characters may hold a delimiter's or "
        "backslash's byte (or a change of it is not answered yet, or made in the COPY's own "
        "text): use client_encoding UTF8, and send a SET of it on its own first");
  }
  if (reading.encoding == ClientEncoding::utf8 && !reading.settings_in_flight) {
    return std::nullopt;
  }
  if (result.unparsed && high_byte(sql)) {
    // An ASCII text reads alike: the server reports its syntax error itself.
    return refuse_encoding(reading,
                           "and the rewrite, which reads UTF-8, cannot parse the text (an "
                           "escaped non-ASCII character such as E'\\é' is not valid UTF-8 to "
                           "it), while the server, which converts it first, may run it");
  }
  if (result.outcome != Outcome::rewritten) {
    return std::nullopt;
  }
  for (const MigrationUse& use : result.uses) {
    auto m = std::find_if(migrations.begin(), migrations.end(),
                          [&](const Migration& x) { return x.name == use.migration; });
    if (m != migrations.end() && spliced_text_non_ascii(*m)) {
      if (reading.settings_in_flight) {
        // The UTF-8 session may be one of another encoding by the time the server reads it.
        return std::string(
            "the text follows a change of client_encoding (SET, SET NAMES, set_config, RESET) "
            "that the server has not answered yet, and the rewrite would insert the migration's "
            "non-ASCII text (its to_new/to_old, a name or type) as UTF-8 bytes, which the new "
            "encoding would read as other characters: send it after the change's answer (its "
            "ReadyForQuery)");
      }
      return refuse_encoding(reading,
                             "and the rewrite would insert the migration's non-ASCII text (its "
                             "to_new/to_old, a name or type) as UTF-8 bytes, which the server "
                             "would read as other characters");
    }
  }
  return std::nullopt;
}

bool may_change_reading(std::string_view sql, detail::SoleVerb verb) {
  if (verb) {
    switch (verb->size()) {
      case 2:
      case 3:
      case 5:
      case 7:
        if (detail::iequals(*verb, "do") || detail::iequals(*verb, "set") ||
            detail::iequals(*verb, "reset") || detail::iequals(*verb, "discard")) {
          return may_change_reading(sql);
        }
        break;
      default:
        break;
    }
    // set_config is a call: a text without '(' (one memchr) cannot make it. An UPDATE of
    // pg_settings is a SET.
    const bool may_update =
        verb->size() >= 4 && (detail::iequals(*verb, "update") || detail::iequals(*verb, "with") ||
                              detail::iequals(*verb, "explain"));
    return ((sql.find('(') != std::string_view::npos && detail::icontains(sql, "set_config")) ||
            (may_update && detail::icontains(sql, "pg_settings"))) &&
           sets_reading(sql);
  }
  return may_change_reading(sql);
}

bool may_change_reading(std::string_view sql) {
  if (sql.empty()) {
    return false;
  }
  // standard_conforming_strings, client_encoding and set_config all end a word in "g": every
  // text is asked, so the look is a memchr per case of it, and the scan below (which tells a
  // SET from a column named content_encoding) runs only for a text that has one of the words.
  auto ends_word_at = [sql](std::size_t g) {
    const std::string_view before = sql.substr(0, g + 1);
    return std::any_of(kReadingWords.begin(), kReadingWords.end(), [&](std::string_view word) {
      return before.size() >= word.size() &&
             detail::iequals(before.substr(before.size() - word.size()), word);
    });
  };
  for (const char g : {'g', 'G'}) {
    for (const char* at = static_cast<const char*>(std::memchr(sql.data(), g, sql.size()));
         at != nullptr;) {
      const auto i = static_cast<std::size_t>(at - sql.data());
      if (ends_word_at(i)) {
        return sets_reading(sql);
      }
      at = static_cast<const char*>(std::memchr(at + 1, g, sql.size() - i - 1));
    }
  }
  // SET NAMES; RESET ALL and DISCARD ALL reset standard_conforming_strings.
  return (detail::icontains(sql, "names") || detail::icontains(sql, "reset") ||
          detail::icontains(sql, "discard") || detail::icontains(sql, "pg_settings")) &&
         sets_reading(sql);
}

}  // namespace switchyard::rewrite
