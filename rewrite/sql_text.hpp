#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace switchyard::rewrite::detail {

/// `name` as an SQL identifier: bare when Postgres would read it back unchanged, else quoted.
std::string quote_ident(std::string_view name);

/// `text` between two `quote`s, each `quote` inside doubled: with '"' an identifier that
/// Postgres reads back as written, with '\'' a string constant (standard_conforming_strings).
std::string quoted(std::string_view text, char quote);

/// Substitutes every `{value}` of `tmpl` by `(value)`. An empty template is the identity and
/// yields `value` itself.
std::string apply_template(std::string_view tmpl, std::string_view value);

/// `value` through a transform as an operand: the template applied and parenthesised, or
/// `value` itself for an empty template.
std::string transformed(std::string_view tmpl, std::string_view value);

/// The end of the quoted run opening at `open` (a quote), a doubled quote standing for itself;
/// with `backslash`, a backslash escapes the next character. npos when it does not end.
std::size_t quoted_end(std::string_view sql, std::size_t open, char quote, bool backslash);

/// The end of the nested /* */ comment opening at `open`; npos when it does not end.
std::size_t block_comment_end(std::string_view sql, std::size_t open);

/// The first word of `sql` after blanks and comments, when the text holds one statement at
/// most (no ';' after that word but blanks at the end); nullopt when it may hold more, or when
/// its first character is not an ASCII letter (only comments, one that does not end, anything
/// unusual).
/// The cheap test of the per-statement checks for SET, DISCARD and DEALLOCATE: a text of one
/// statement is that statement only if it starts with the word.
std::optional<std::string_view> sole_statement_verb(std::string_view sql);

/// sole_statement_verb() of a text, computed once by whoever asks several of the
/// per-statement questions (may_change_session, may_change_columns, may_change_reading) of it.
using SoleVerb = std::optional<std::string_view>;

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// ASCII lowercase copy.
std::string lower_ascii(std::string_view s);

/// A table name as SQL text holds it, lowercased, for finding it there: a double quote in the
/// name can only be written doubled, inside a quoted identifier.
std::string name_as_written(std::string_view name);

/// iequals() of two views of the same size.
bool iequals_same_size(std::string_view a, std::string_view b);
/// True if `a` equals `b` ignoring ASCII case. Inline for its size test, which tells most
/// pairs apart (a verb against each of a list).
inline bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && iequals_same_size(a, b);
}

/// True if `hay` contains `lowercase_word`, ignoring ASCII case in `hay`. The fast path's test
/// (every pass-through statement pays it), so it is built for the common "not there" answer.
bool icontains(std::string_view hay, std::string_view lowercase_word);

/// icontains() where the match is a whole name: no letter, digit, '_' or '$' on either side
/// (`readings` is not found in `readings_mid`). For rare paths: a plain scan.
bool icontains_name(std::string_view hay, std::string_view lowercase_name);
/// Where icontains_name() finds the name first at or after `from`; npos if nowhere.
std::size_t ifind_name(std::string_view hay, std::string_view lowercase_name, std::size_t from);

}  // namespace switchyard::rewrite::detail
