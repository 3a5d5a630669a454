#include "rewrite/literal_shape.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <utility>

#include "rewrite/candidate_starts.hpp"
#include "rewrite/literal_tokens.hpp"
#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite {
namespace {

using detail::block_comment_end;
using detail::is_digit;
using detail::is_ident_char;
using detail::is_ident_start;
using detail::kNumberMark;
using detail::kStringMark;
using detail::quoted_end;

// Placeholders. Integers: 2147470000 + i, an int4 like every integer this replaces; numerics:
// 2147460000.5 + i, a numeric. Strings: 'swlit' + i, untyped like the strings they replace.
// A text that already holds either mark gets no shape, so every occurrence in a rewrite of
// the key is a placeholder.
constexpr std::size_t kMaxLiterals = 10000;

// Per byte, what the scan does with it in the common cases: copy it as it is whatever follows
// (blanks, most operators and punctuation), start a name whatever follows (not the E, B, X, N,
// U of E'', B'', X'', N'', U&''), or look closer.
enum ByteClass : std::uint8_t { kPasses, kStartsName, kOther };
struct ByteClasses {
  std::array<ByteClass, 256> kind{};
  std::array<bool, 256> continues_name{};
};
constexpr ByteClasses kBytes = [] {
  ByteClasses b;
  for (int i = 0; i < 256; ++i) {
    const char c = static_cast<char>(i);
    b.continues_name[i] = is_ident_char(c);
    if (!is_ident_char(c) && c != '-' && c != '/' && c != '"' && c != '\'' && c != '.') {
      b.kind[i] = kPasses;
    } else if (is_ident_start(c) &&
               std::string_view("EeBbXxNnUu").find(c) == std::string_view::npos) {
      b.kind[i] = kStartsName;
    } else {
      b.kind[i] = kOther;
    }
  }
  return b;
}();

// The end of the name whose rest starts at `p`. Four bytes a step: names run several bytes,
// too few for SSE2 to pay (it took more instructions on pgbench's texts).
const char* name_end(const char* p, const char* stop) {
  while (stop - p >= 4) {
    if (!kBytes.continues_name[static_cast<unsigned char>(p[0])]) {
      return p;
    }
    if (!kBytes.continues_name[static_cast<unsigned char>(p[1])]) {
      return p + 1;
    }
    if (!kBytes.continues_name[static_cast<unsigned char>(p[2])]) {
      return p + 2;
    }
    if (!kBytes.continues_name[static_cast<unsigned char>(p[3])]) {
      return p + 3;
    }
    p += 4;
  }
  while (p < stop && kBytes.continues_name[static_cast<unsigned char>(*p)]) {
    ++p;
  }
  return p;
}

// Whether `sql` holds either mark (kNumberMark, kStringMark): one pass for both.
bool holds_a_mark(std::string_view sql) {
  static_assert(kNumberMark.size() == 5 && kStringMark.size() == 5);
  constexpr std::array<std::pair<char, char>, 2> kEnds = {
      {{kNumberMark.front(), kNumberMark.back()}, {kStringMark.front(), kStringMark.back()}}};
  return detail::any_candidate_start(sql, kNumberMark.size() - 1, kEnds, 0, [&](std::size_t i) {
    const std::string_view here = sql.substr(i, kNumberMark.size());
    return here == kNumberMark || here == kStringMark;
  });
}

// Where `c` is at `from` or later, or text.size() when nowhere.
std::size_t find_from(std::string_view text, char c, std::size_t from) {
  const std::size_t at = text.find(c, from);
  return at == std::string_view::npos ? text.size() : at;
}

// A placeholder as written, the index's four digits (kMaxLiterals keeps it below 10000) at
// kIndexAt, padded to 16 bytes so that it is stored in one go.
struct PlaceholderText {
  char bytes[16];
  std::size_t size;
};
constexpr std::size_t kIndexAt = 6;
constexpr PlaceholderText kIntPlaceholder{"2147470000", 10};        // an int4
constexpr PlaceholderText kNumericPlaceholder{"2147460000.5", 12};  // a numeric
constexpr PlaceholderText kStringPlaceholder{"'swlit0000'", 11};    // an untyped string
// As LiteralTemplate::parse reads them back: a mark, then the kind ('7' an int4, '6' a numeric)
// or the string mark after its quote, then the index.
static_assert(std::string_view(kIntPlaceholder.bytes).starts_with(kNumberMark) &&
              kIntPlaceholder.bytes[kNumberMark.size()] == '7' &&
              std::string_view(kNumericPlaceholder.bytes).starts_with(kNumberMark) &&
              kNumericPlaceholder.bytes[kNumberMark.size()] == '6' &&
              std::string_view(kStringPlaceholder.bytes).substr(1).starts_with(kStringMark) &&
              kIndexAt == kNumberMark.size() + 1 && kIndexAt == 1 + kStringMark.size());

// Writes a shape's key through a pointer into room made ahead: a placeholder costs a few
// stores, not two calls into the library's string code. The key holds what was written when
// the writer goes, whatever the scan decided.
class KeyWriter {
 public:
  KeyWriter(std::string& key, std::size_t expected) : key_(key) { key_.resize(expected); }
  KeyWriter(const KeyWriter&) = delete;
  KeyWriter& operator=(const KeyWriter&) = delete;
  ~KeyWriter() { key_.resize(size_); }

  void copy(const char* from, std::size_t n) {
    make_room(n);
    std::memcpy(key_.data() + size_, from, n);
    size_ += n;
  }
  void placeholder(const PlaceholderText& text, const char (&index)[4]) {
    make_room(sizeof text.bytes);
    char* at = key_.data() + size_;
    std::memcpy(at, text.bytes, sizeof text.bytes);
    std::memcpy(at + kIndexAt, index, sizeof index);
    size_ += text.size;
  }
  bool empty() const { return size_ == 0; }
  char back() const { return key_[size_ - 1]; }

 private:
  void make_room(std::size_t n) {
    if (key_.size() - size_ < n) {
      key_.resize(std::max(key_.size() * 2, size_ + n));
    }
  }

  std::string& key_;
  std::size_t size_ = 0;
};

// Fills `shape` with the shape of `sql`; false when it has none (see literal_shape).
bool take_shape(std::string_view sql, LiteralShape& shape) {
  if (holds_a_mark(sql)) {
    return false;
  }
  // Room for the text and a few placeholders longer than their literals.
  KeyWriter key(shape.key, sql.size() + 64);
  // The text between literals is copied in runs, not token by token.
  std::size_t copied = 0;
  auto copy_up_to = [&](std::size_t at) {
    key.copy(sql.data() + copied, at - copied);
    copied = at;
  };
  // The index of the next placeholder, in decimal as it is written.
  char index[4] = {'0', '0', '0', '0'};
  // Replaces sql[at, end) with a placeholder; false past kMaxLiterals.
  auto placeholder = [&](std::size_t at, std::size_t end, const PlaceholderText& text) {
    if (shape.literals.size() >= kMaxLiterals) {
      return false;
    }
    copy_up_to(at);
    key.placeholder(text, index);
    for (int k = 3; k >= 0 && ++index[k] > '9'; --k) {
      index[k] = '0';
    }
    shape.literals.push_back(sql.substr(at, end - at));
    copied = end;
    return true;
  };
  auto string_placeholder = [&](std::size_t at, std::size_t end) {
    return placeholder(at, end, kStringPlaceholder);
  };
  const char* const text = sql.data();
  const char* const stop = text + sql.size();
  const char* p = text;
  while (p < stop) {
    const ByteClass kind = kBytes.kind[static_cast<unsigned char>(*p)];
    if (kind == kPasses) {
      ++p;
      continue;
    }
    if (kind == kStartsName) {
      p = name_end(p + 1, stop);
      continue;
    }
    const auto i = static_cast<std::size_t>(p - text);
    const char c = *p;
    const char next = i + 1 < sql.size() ? sql[i + 1] : '\0';
    std::size_t end = i + 1;
    if (c == '-' && next == '-') {
      end = sql.find('\n', i);
      end = end == std::string_view::npos ? sql.size() : end;
    } else if (c == '/' && next == '*') {
      end = block_comment_end(sql, i);
    } else if (c == '"') {
      end = quoted_end(sql, i, '"', false);
    } else if (c == '\'') {
      end = detail::plain_string_end(sql, i);
      if (end == std::string_view::npos || !string_placeholder(i, end)) {
        return false;
      }
      p = text + end;
      continue;
    } else if (c == '$') {
      if (!is_digit(next)) {
        return false;  // a dollar quote
      }
      while (end < sql.size() && is_digit(sql[end])) {
        ++end;
      }
    } else if (is_ident_start(c)) {
      if (next == '\'' && (c == 'E' || c == 'e')) {
        end = detail::escape_string_end(sql, i);
        copy_up_to(i);
        // Right after a quote the E kept two strings apart (`N'a'E'b'`): without it the
        // placeholder's quote would join the string before; right after a word or a
        // parameter (`$2e'x'`) fill_literals would not put the E back.
        if (end == std::string_view::npos ||
            (!key.empty() && (key.back() == '\'' || is_ident_char(key.back())))) {
          return false;
        }
        if (!string_placeholder(i, end)) {
          return false;
        }
        p = text + end;
        continue;
      }
      if (next == '\'' && (c == 'B' || c == 'b' || c == 'X' || c == 'x' || c == 'N' || c == 'n')) {
        // Bit strings and national strings have types of their own: kept as written.
        end = quoted_end(sql, i + 1, '\'', false);
      } else if (next == '&' && (c == 'U' || c == 'u')) {
        return false;
      } else {
        end = static_cast<std::size_t>(name_end(text + end, stop) - text);
      }
    } else if (is_digit(c) || (c == '.' && is_digit(next))) {
      const detail::NumberToken number = detail::number_token(sql, i);
      end = number.end;
      // `1.2.3`, `12abc`, `1e`: lexed in ways not worth following.
      if (end < sql.size() && (is_ident_char(sql[end]) || sql[end] == '.')) {
        return false;
      }
      // Right after a name or a dot (`x.1`, `"a"1`) this is not a constant of its own.
      if (i > 0 && (is_ident_char(sql[i - 1]) || sql[i - 1] == '.' || sql[i - 1] == '"')) {
        return false;
      }
      if (number.numeric) {
        if (!placeholder(i, end, kNumericPlaceholder)) {
          return false;
        }
      } else if (number.fits_int4) {
        if (!placeholder(i, end, kIntPlaceholder)) {
          return false;
        }
      }
      // else an int8 or a numeric by its size: kept as written
      p = text + end;
      continue;
    }
    if (end == std::string_view::npos) {
      return false;  // an unterminated quote or comment: the parser will say so
    }
    p = text + end;
  }
  if (shape.literals.empty()) {
    return false;
  }
  copy_up_to(sql.size());
  return true;
}

}  // namespace

bool take_literal_shape(std::string_view sql, LiteralShape& shape) {
  shape.key.clear();
  shape.literals.clear();
  return take_shape(sql, shape);
}

std::optional<LiteralShape> literal_shape(std::string_view sql) {
  // Filled where it is returned: moving a shape (its literals held inline) makes GCC 12 warn
  // wrongly about Boost's small_vector move (-Wstringop-overread).
  std::optional<LiteralShape> shape(std::in_place);
  if (!take_shape(sql, *shape)) {
    shape.reset();
  }
  return shape;
}

std::optional<LiteralTemplate> LiteralTemplate::of(const RewriteResult& tmpl) {
  if ((tmpl.outcome != Outcome::unchanged && tmpl.outcome != Outcome::rewritten) || tmpl.copy ||
      !tmpl.hidden_statements.empty() || !tmpl.missing.empty() || !tmpl.missing_functions.empty() ||
      tmpl.literals_decide) {
    return std::nullopt;
  }
  if (tmpl.outcome == Outcome::unchanged) {
    LiteralTemplate unchanged;
    unchanged.unchanged_ = true;
    return unchanged;
  }
  return parse(tmpl.sql);
}

std::optional<LiteralTemplate> LiteralTemplate::parse(std::string_view sql) {
  LiteralTemplate t;
  t.text_.assign(sql);
  auto index_at = [&](std::size_t at) -> std::optional<std::uint32_t> {
    if (at + 4 > sql.size()) {
      return std::nullopt;
    }
    std::uint32_t value = 0;
    for (std::size_t k = at; k < at + 4; ++k) {
      if (!is_digit(sql[k])) {
        return std::nullopt;
      }
      value = value * 10 + static_cast<std::uint32_t>(sql[k] - '0');
    }
    return value;
  };
  auto add = [&](std::size_t begin, std::size_t end, std::uint32_t literal, bool plain_only) {
    t.placeholders_.push_back(
        {static_cast<std::uint32_t>(begin), static_cast<std::uint32_t>(end), literal, plain_only});
  };
  std::size_t next_quote = 0;  // where the next ' and 2 are, or the end; found with memchr
  std::size_t next_two = 0;
  std::size_t i = 0;
  while (i < sql.size()) {
    const char c = sql[i];
    if (c == '\'' && sql.substr(i + 1, kStringMark.size()) == kStringMark) {
      auto index = index_at(i + 1 + kStringMark.size());
      std::size_t close = i + 1 + kStringMark.size() + 4;
      if (!index || close >= sql.size() || sql[close] != '\'') {
        return std::nullopt;
      }
      const char before = i > 0 ? sql[i - 1] : ' ';
      add(i, close + 1, *index, is_ident_char(before) || before == '\'');
      i = close + 1;
      continue;
    }
    if (c == '2' && sql.substr(i, kNumberMark.size()) == kNumberMark &&
        (i == 0 || !is_ident_char(sql[i - 1]))) {
      std::size_t kind = i + kNumberMark.size();
      auto index = index_at(kind + 1);
      if (kind < sql.size() && index) {
        std::size_t end = kind + 5;
        bool matched = false;
        if (sql[kind] == '7') {
          matched = end >= sql.size() || (!is_ident_char(sql[end]) && sql[end] != '.');
        } else if (sql[kind] == '6' && sql.substr(end, 2) == ".5") {
          end += 2;
          matched = end >= sql.size() || (!is_ident_char(sql[end]) && sql[end] != '.');
        }
        if (matched) {
          add(i, end, *index, false);
          i = end;
          continue;
        }
      }
      // Digits the rewrite added (a transform's constant), not a placeholder.
    }
    // Up to the next character that can start a placeholder.
    if (next_quote <= i) {
      next_quote = find_from(sql, '\'', i + 1);
    }
    if (next_two <= i) {
      next_two = find_from(sql, '2', i + 1);
    }
    i = std::min(next_quote, next_two);
  }
  return t;
}

bool LiteralTemplate::fill(std::span<const std::string_view> literals, std::string& out) const {
  // Checked and measured first, so that the text is then written in one pass into room of its
  // exact size, not appended piece by piece.
  std::size_t size = text_.size();
  for (const Placeholder& p : placeholders_) {
    if (p.literal >= literals.size()) {
      return false;
    }
    const std::string_view literal = literals[p.literal];
    // An E'' put by the rewrite against a name or a quote would join it.
    if (p.plain_string_only && literal.front() != '\'') {
      return false;
    }
    size = size - (p.end - p.begin) + literal.size();
  }
  out.resize(size);
  char* to = out.data();
  std::size_t copied = 0;
  for (const Placeholder& p : placeholders_) {
    const std::string_view literal = literals[p.literal];
    std::memcpy(to, text_.data() + copied, p.begin - copied);
    to += p.begin - copied;
    std::memcpy(to, literal.data(), literal.size());
    to += literal.size();
    copied = p.end;
  }
  std::memcpy(to, text_.data() + copied, text_.size() - copied);
  return true;
}

std::optional<std::string> fill_literals(std::string_view tmpl,
                                         std::span<const std::string_view> literals) {
  auto parsed = LiteralTemplate::parse(tmpl);
  std::string out;
  if (!parsed || !parsed->fill(literals, out)) {
    return std::nullopt;
  }
  return out;
}

std::optional<std::string> instantiate_sql(const RewriteResult& tmpl, const LiteralShape& shape) {
  auto parsed = LiteralTemplate::of(tmpl);
  std::string out;
  if (!parsed || (!parsed->unchanged() && !parsed->fill(shape.literals, out))) {
    return std::nullopt;
  }
  return out;
}

std::shared_ptr<const RewriteResult> instantiate(const RewriteResult& tmpl,
                                                 const LiteralShape& shape) {
  auto sql = instantiate_sql(tmpl, shape);
  if (!sql) {
    return nullptr;
  }
  // Member by member so that the template's text is not copied only to be replaced; a member
  // added to RewriteResult and left out here is a -Wmissing-field-initializers warning. The
  // key's position map does not fit the filled text: it has none.
  return std::make_shared<const RewriteResult>(RewriteResult{tmpl.outcome,
                                                             std::move(*sql),
                                                             /*positions=*/{},
                                                             tmpl.reason,
                                                             tmpl.uses,
                                                             tmpl.missing,
                                                             tmpl.missing_functions,
                                                             tmpl.kinds,
                                                             tmpl.ddl_on_mapped_table,
                                                             tmpl.columns_changed,
                                                             tmpl.column_lists_used,
                                                             tmpl.descendants_changed,
                                                             tmpl.new_descendants,
                                                             tmpl.copy,
                                                             tmpl.hidden_statements,
                                                             tmpl.copy_count_statements,
                                                             tmpl.staged_because,
                                                             tmpl.staged_passthrough,
                                                             tmpl.literals_decide,
                                                             tmpl.refused_statement});
}

bool same_result(const RewriteResult& a, const RewriteResult& b) {
  auto same_use = [](const MigrationUse& x, const MigrationUse& y) {
    return x.migration == y.migration && x.reads_of_old == y.reads_of_old &&
           x.writes_of_old == y.writes_of_old && x.reads_of_new == y.reads_of_new &&
           x.writes_of_new == y.writes_of_new && x.rewritten == y.rewritten;
  };
  return a.outcome == b.outcome && a.sql == b.sql && a.reason == b.reason && a.kinds == b.kinds &&
         a.ddl_on_mapped_table == b.ddl_on_mapped_table && a.columns_changed == b.columns_changed &&
         a.column_lists_used == b.column_lists_used &&
         a.descendants_changed == b.descendants_changed && a.new_descendants == b.new_descendants &&
         a.copy.has_value() == b.copy.has_value() && a.hidden_statements == b.hidden_statements &&
         a.copy_count_statements == b.copy_count_statements &&
         a.refused_statement == b.refused_statement && a.missing.size() == b.missing.size() &&
         a.missing_functions.size() == b.missing_functions.size() &&
         std::equal(a.uses.begin(), a.uses.end(), b.uses.begin(), b.uses.end(), same_use);
}

}  // namespace switchyard::rewrite
