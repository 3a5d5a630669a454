#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rewrite/literal_shape.hpp"

namespace switchyard::rewrite {

/// What a text's literal shape was made from: the text between its literals, and each
/// literal's kind and first character. A later text with the same text between literals of the
/// same kinds has the same shape, and finding that out costs a comparison of the text between
/// them, not the byte-by-byte scan of take_literal_shape. Clients send the same few statements
/// over and over with other constants, so a session keeps the recipes of the shapes it reused.
class ShapeRecipe {
 public:
  /// Texts longer than this get no recipe: a session holds a few, each with its text.
  static constexpr std::size_t kMaxText = 1024;

  /// The recipe of `sql`, whose shape is `shape` (as take_literal_shape made it, its literals
  /// viewing `sql`); nullopt when `sql` is longer than kMaxText.
  static std::optional<ShapeRecipe> of(std::string_view sql, const LiteralShape& shape);

  /// Whether `sql` has this recipe's shape. If so, fills `shape` as take_literal_shape(sql,
  /// shape) would; if not, `shape` holds nothing of use.
  bool match(std::string_view sql, LiteralShape& shape) const;

 private:
  // How a literal starts, which take_literal_shape's scan of the text before it may depend on
  // (a name would run on into a digit or an E, not into a quote or a dot).
  enum class Kind : std::uint8_t {
    integer,
    numeric_from_digit,
    numeric_from_dot,
    string,
    escape_string
  };
  struct Literal {
    std::uint32_t begin = 0;  // in text_
    std::uint32_t end = 0;
    Kind kind = Kind::integer;
  };

  // Where the literal of `kind` at `at` ends, read as take_literal_shape reads it; npos when
  // what is there is not such a literal.
  static std::size_t literal_end(std::string_view sql, std::size_t at, Kind kind);

  std::string text_;  // the text the recipe was made from
  std::string key_;
  std::vector<Literal> literals_;
};

/// The recipes of the last few shapes a session reused. Nothing is held until the first.
class RecentRecipes {
 public:
  static constexpr std::size_t kKept = 4;

  /// Whether one of the recipes matches `sql`; if so `shape` is filled as by
  /// take_literal_shape, if not it holds nothing of use.
  bool match(std::string_view sql, LiteralShape& shape) const;
  /// Keeps the recipe of `sql` and its shape, in place of the oldest when kKept are kept.
  void remember(std::string_view sql, const LiteralShape& shape);

 private:
  std::vector<ShapeRecipe> recipes_;
  std::size_t oldest_ = 0;
};

}  // namespace switchyard::rewrite
