#include "rewrite/plain_scan.hpp"

#include <cstring>

#include "rewrite/keywords.hpp"
#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite::detail {
namespace {

bool plain_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool plain_ident_char(char c) { return plain_ident_start(c) || is_digit(c) || c == '$'; }
bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
// The characters PostgreSQL's scanner reads as one operator when they touch.
bool is_op_char(char c) { return c != '\0' && std::strchr("~!@#^&|`?+-*/%<>=", c) != nullptr; }
// One-character operators the scanner returns as the character itself.
bool is_self_op(char c) { return c != '\0' && std::strchr("+-*/%^<>=", c) != nullptr; }

class Reader {
 public:
  explicit Reader(std::string_view sql) : sql_(sql) {}

  std::optional<std::vector<Token>> run() {
    for (char c : sql_) {
      if (static_cast<unsigned char>(c) >= 0x80 || c == '\0' || c == '\\') {
        return std::nullopt;  // encodings, NULs and escapes are the scanner's business
      }
    }
    std::vector<Token> out;
    out.reserve(sql_.size() / 4 + 4);
    while (true) {
      if (!skip_blanks_and_comments()) {
        return std::nullopt;
      }
      if (i_ >= sql_.size()) {
        return out;
      }
      if (!next_token(out)) {
        return std::nullopt;
      }
    }
  }

 private:
  char at(std::size_t k) const { return k < sql_.size() ? sql_[k] : '\0'; }

  // False on a comment that does not end.
  bool skip_blanks_and_comments() {
    while (i_ < sql_.size()) {
      const char c = sql_[i_];
      if (is_blank(c)) {
        ++i_;
      } else if (c == '-' && at(i_ + 1) == '-') {
        while (i_ < sql_.size() && sql_[i_] != '\n' && sql_[i_] != '\r') {
          ++i_;
        }
      } else if (c == '/' && at(i_ + 1) == '*') {
        const std::size_t end = block_comment_end(sql_, i_);
        if (end == std::string_view::npos) {
          return false;
        }
        i_ = end;
      } else {
        break;
      }
    }
    return true;
  }

  void push(std::vector<Token>& out, std::size_t end, int kind,
            int keyword = PG_QUERY__KEYWORD_KIND__NO_KEYWORD) {
    out.push_back(Token{static_cast<int>(i_), static_cast<int>(end), kind, keyword});
    i_ = end;
  }

  bool next_token(std::vector<Token>& out) {
    const char c = sql_[i_];
    const char next = at(i_ + 1);
    if (plain_ident_start(c)) {
      std::size_t end = i_ + 1;
      while (plain_ident_char(at(end))) {
        ++end;
      }
      // E'..', B'..', X'..', N'..', U&'..', U&".." are other tokens; a name touching a quoted
      // run is too rare to be worth telling apart.
      if (at(end) == '\'' || at(end) == '"' || at(end) == '&') {
        return false;
      }
      const Keyword* kw = find_keyword(sql_.substr(i_, end - i_));
      if (kw != nullptr) {
        push(out, end, kw->token, kw->kind);
      } else {
        push(out, end, PG_QUERY__TOKEN__IDENT);
      }
      return true;
    }
    if (c == '"') {
      const std::size_t end = quoted_end(sql_, i_, '"', false);
      if (end == std::string_view::npos || end == i_ + 2) {
        return false;  // unterminated, or the empty name the scanner rejects
      }
      push(out, end, PG_QUERY__TOKEN__IDENT);
      return true;
    }
    if (c == '\'') {
      const std::size_t end = quoted_end(sql_, i_, '\'', false);
      if (end == std::string_view::npos || !alone_string(end)) {
        return false;
      }
      push(out, end, PG_QUERY__TOKEN__SCONST);
      return true;
    }
    if (is_digit(c)) {
      std::size_t end = i_;
      while (is_digit(at(end))) {
        ++end;
      }
      const char after = at(end);
      if (after == '.' || plain_ident_char(after)) {
        return false;  // a numeric, an exponent, or junk the scanner rejects
      }
      push(
          out, end,
          fits_int4(sql_.substr(i_, end - i_)) ? PG_QUERY__TOKEN__ICONST : PG_QUERY__TOKEN__FCONST);
      return true;
    }
    if (c == '$') {
      std::size_t end = i_ + 1;
      while (is_digit(at(end))) {
        ++end;
      }
      if (end == i_ + 1 || plain_ident_char(at(end))) {
        return false;  // a dollar quote, or junk after a parameter
      }
      push(out, end, PG_QUERY__TOKEN__PARAM);
      return true;
    }
    if (c == '.') {
      if (is_digit(next) || next == '.') {
        return false;
      }
      push(out, i_ + 1, '.');
      return true;
    }
    if (c == ':') {
      if (next != ':' || at(i_ + 2) == ':' || at(i_ + 2) == '=') {
        return false;
      }
      push(out, i_ + 2, PG_QUERY__TOKEN__TYPECAST);
      return true;
    }
    if (std::strchr("()[],;", c) != nullptr) {
      push(out, i_ + 1, c);
      return true;
    }
    if (!is_op_char(c)) {
      return false;
    }
    if (!is_op_char(next)) {
      if (!is_self_op(c)) {
        return false;
      }
      push(out, i_ + 1, c);
      return true;
    }
    if (is_op_char(at(i_ + 2))) {
      return false;
    }
    const std::string_view two = sql_.substr(i_, 2);
    if (two == "<>" || two == "!=") {
      push(out, i_ + 2, PG_QUERY__TOKEN__NOT_EQUALS);
    } else if (two == "<=") {
      push(out, i_ + 2, PG_QUERY__TOKEN__LESS_EQUALS);
    } else if (two == ">=") {
      push(out, i_ + 2, PG_QUERY__TOKEN__GREATER_EQUALS);
    } else if (two == "=>") {
      push(out, i_ + 2, PG_QUERY__TOKEN__EQUALS_GREATER);
    } else {
      return false;  // "--" and "/*" never get here: they start comments
    }
    return true;
  }

  // A string the scanner would join with a next one ('a'<newline>'b' is 'ab') is left to it;
  // two strings in a row are an error otherwise, so nothing plain is lost.
  bool alone_string(std::size_t end) const {
    Reader rest(sql_);
    rest.i_ = end;
    return !rest.skip_blanks_and_comments() || rest.at(rest.i_) != '\'';
  }

  static bool fits_int4(std::string_view digits) {
    while (digits.size() > 1 && digits.front() == '0') {
      digits.remove_prefix(1);
    }
    return digits.size() < 10 || (digits.size() == 10 && digits <= "2147483647");
  }

  std::string_view sql_;
  std::size_t i_ = 0;
};

}  // namespace

std::optional<std::vector<Token>> scan_plain(std::string_view sql) {
  if (!keywords_known()) {
    return std::nullopt;
  }
  return Reader(sql).run();
}

}  // namespace switchyard::rewrite::detail
