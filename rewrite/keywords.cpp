#include "rewrite/keywords.hpp"

#include <array>
#include <string>
#include <unordered_map>

#include "rewrite/pg_query_handles.hpp"
#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite::detail {
namespace {

constexpr std::size_t kLongestKeyword = 32;  // PostgreSQL's longest is 17 ("current_timestamp")

class KeywordTable {
 public:
  KeywordTable() {
    // Each token name, lowercased without the grammar's "_P" suffix, separated by blanks. Names
    // that are not keywords (IDENT, NOT_LA, MODE_TYPE_NAME) scan as identifiers and drop out.
    std::string text;
    const ProtobufCEnumDescriptor& tokens = pg_query__token__descriptor;
    for (unsigned i = 0; i < tokens.n_values; ++i) {
      std::string word = lower_ascii(tokens.values[i].name);
      if (word.size() > 2 && word.ends_with("_p")) {
        word.resize(word.size() - 2);
      }
      text += word;
      text += ' ';
    }
    const std::vector<Token> scanned = scan_tokens_with_libpg_query(text);
    for (const Token& t : scanned) {
      if (t.keyword_kind == PG_QUERY__KEYWORD_KIND__NO_KEYWORD) {
        continue;
      }
      std::string word =
          text.substr(static_cast<std::size_t>(t.start), static_cast<std::size_t>(t.end - t.start));
      if (word.size() > kLongestKeyword) {
        return;  // not what a keyword looks like: trust none of it
      }
      words_.emplace(std::move(word), Keyword{t.kind, t.keyword_kind});
    }
    // The scanner's own verdict on a few words of each kind, as a check on the whole table.
    const Keyword* select = find("select");
    const Keyword* set = find("set");
    known_ = select != nullptr && select->kind == PG_QUERY__KEYWORD_KIND__RESERVED_KEYWORD &&
             set != nullptr && set->kind == PG_QUERY__KEYWORD_KIND__UNRESERVED_KEYWORD &&
             find("abalance") == nullptr;
  }

  bool known() const { return known_; }

  const Keyword* find(std::string_view word) const {
    if (word.size() > kLongestKeyword) {
      return nullptr;
    }
    std::array<char, kLongestKeyword> lower{};
    for (std::size_t i = 0; i < word.size(); ++i) {
      const char c = word[i];
      lower[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    auto it = words_.find(std::string_view(lower.data(), word.size()));
    return it == words_.end() ? nullptr : &it->second;
  }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  std::unordered_map<std::string, Keyword, Hash, std::equal_to<>> words_;
  bool known_ = false;
};

const KeywordTable& table() {
  static const KeywordTable instance;
  return instance;
}

}  // namespace

const Keyword* find_keyword(std::string_view word) {
  const KeywordTable& t = table();
  return t.known() ? t.find(word) : nullptr;
}

bool keywords_known() { return table().known(); }

}  // namespace switchyard::rewrite::detail
