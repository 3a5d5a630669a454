#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "rewrite/pg_query_handles.hpp"

namespace switchyard::rewrite::detail {

/// A byte range of the original text.
struct Span {
  int begin = 0;
  int end = 0;
};

/// The tokens of one SQL text, with the look-ups the rules need to find where a construct that
/// the parse tree only gives a start for ends.
class TokenList {
 public:
  explicit TokenList(const std::string& sql) : sql_(sql) {}

  /// Frees the tokens (a bulk INSERT's take several times its text); a later look-up scans
  /// the text again.
  void drop() {
    std::vector<Token>().swap(tokens_);
    scanned_ = false;
  }

  int size() const { return static_cast<int>(tokens().size()); }
  const Token& at(int i) const { return tokens()[static_cast<std::size_t>(i)]; }
  std::string_view text(int i) const;

  /// Index of the token starting exactly at `offset`, or -1.
  int index_at(int offset) const;
  /// Index of the first token starting at or after `offset` (size() if none).
  int index_from(int offset) const;

  bool is_char(int i, char c) const;
  /// True if token i is the keyword `kw` (lowercase), not a quoted identifier.
  bool is_keyword(int i, std::string_view kw) const;
  bool is_word(int i) const;

  /// From token i, the end index (inclusive) of a dotted name `a.b.c` / `a.*`.
  int dotted_name_end(int i) const;

  /// The matching closing parenthesis or bracket of the opener at i, or -1.
  int matching_close(int i) const;

  /// Splits a comma-separated list starting at token `first`, at nesting depth 0, until a closing
  /// parenthesis at depth 0, a ';', a token at or past `limit_offset`, or (at depth 0) one of the
  /// reserved keywords in `stops`. `*stop_index` receives the index where it stopped.
  std::vector<Span> split_list(int first, int limit_offset,
                               std::initializer_list<std::string_view> stops,
                               int* stop_index = nullptr) const;

  /// split_list for a SET list, where CASE ... END nests too, so that a MERGE's SET list does not
  /// end at a CASE's WHEN. Only there: a SET list has no column labels, and elsewhere `AS case`
  /// or `AS end` may name a column.
  std::vector<Span> split_set_list(int first, int limit_offset,
                                   std::initializer_list<std::string_view> stops) const;

  /// Spans of the items inside the parenthesised list whose '(' is token `open`, or empty if the
  /// list is not well formed. `*close_index` receives the ')' index.
  std::vector<Span> paren_items(int open, int* close_index = nullptr) const;

  /// Index of the last token before `offset` (-1 if none).
  int index_before(int offset) const;

  /// Index of the nearest token at or before index `i` that is the keyword `kw`, or -1.
  int keyword_at_or_before(int i, std::string_view kw) const;

 private:
  std::vector<Span> split(int first, int limit_offset,
                          std::initializer_list<std::string_view> stops, int* stop_index,
                          bool case_nests) const;

  // Scanned on first use: a statement that names a mapped table but none of its migrated
  // columns is left unchanged without needing a token's end.
  const std::vector<Token>& tokens() const {
    if (!scanned_) {
      tokens_ = scan_tokens(sql_);
      scanned_ = true;
    }
    return tokens_;
  }

  const std::string& sql_;
  mutable std::vector<Token> tokens_;
  mutable bool scanned_ = false;
};

/// Keywords that end a select target list.
inline const std::initializer_list<std::string_view> kTargetListStops = {
    "from",   "into",  "where", "group", "having",    "window", "order",     "limit",
    "offset", "fetch", "for",   "union", "intersect", "except", "returning", "on"};

}  // namespace switchyard::rewrite::detail
