#include "rewrite/shape_recipe.hpp"

#include <cstring>
#include <utility>

#include "rewrite/literal_tokens.hpp"

namespace switchyard::rewrite {

using detail::is_digit;

std::optional<ShapeRecipe> ShapeRecipe::of(std::string_view sql, const LiteralShape& shape) {
  if (sql.size() > kMaxText || shape.literals.empty()) {
    return std::nullopt;
  }
  ShapeRecipe recipe;
  recipe.text_.assign(sql);
  recipe.key_ = shape.key;
  recipe.literals_.reserve(shape.literals.size());
  for (std::string_view literal : shape.literals) {
    // The shape's literals view `sql`; anything else is a caller's mistake, refused.
    if (literal.empty() || literal.data() < sql.data() ||
        literal.data() + literal.size() > sql.data() + sql.size()) {
      return std::nullopt;
    }
    const char first = literal.front();
    Kind kind;
    if (first == '\'') {
      kind = Kind::string;
    } else if (first == 'E' || first == 'e') {
      kind = Kind::escape_string;
    } else if (first == '.') {
      kind = Kind::numeric_from_dot;
    } else if (detail::number_token(literal, 0).numeric) {
      kind = Kind::numeric_from_digit;
    } else {
      kind = Kind::integer;
    }
    const auto begin = static_cast<std::uint32_t>(literal.data() - sql.data());
    recipe.literals_.push_back({begin, static_cast<std::uint32_t>(begin + literal.size()), kind});
  }
  return recipe;
}

std::size_t ShapeRecipe::literal_end(std::string_view sql, std::size_t at, Kind kind) {
  constexpr std::size_t npos = std::string_view::npos;
  const char c = sql[at];
  switch (kind) {
    case Kind::integer:
    case Kind::numeric_from_digit: {
      if (!is_digit(c)) {
        return npos;
      }
      const detail::NumberToken number = detail::number_token(sql, at);
      const bool same = kind == Kind::integer ? number.fits_int4 : number.numeric;
      return same ? number.end : npos;
    }
    case Kind::numeric_from_dot:
      if (c != '.' || at + 1 >= sql.size() || !is_digit(sql[at + 1])) {
        return npos;
      }
      return detail::number_token(sql, at).end;
    case Kind::string:
      return c == '\'' ? detail::plain_string_end(sql, at) : npos;
    case Kind::escape_string:
      if ((c != 'E' && c != 'e') || at + 1 >= sql.size() || sql[at + 1] != '\'') {
        return npos;
      }
      return detail::escape_string_end(sql, at);
  }
  return npos;
}

bool ShapeRecipe::match(std::string_view sql, LiteralShape& shape) const {
  shape.literals.clear();
  std::size_t at = 0;    // in sql
  std::size_t from = 0;  // in text_
  for (const Literal& literal : literals_) {
    // The text up to the literal, and at least the literal's first character after it.
    const std::size_t between = literal.begin - from;
    if (sql.size() - at <= between ||
        std::memcmp(sql.data() + at, text_.data() + from, between) != 0) {
      return false;
    }
    at += between;
    const std::size_t end = literal_end(sql, at, literal.kind);
    if (end == std::string_view::npos) {
      return false;
    }
    const std::string_view value = sql.substr(at, end - at);
    // take_literal_shape refuses a text holding a mark (both are five bytes long); one can only
    // be inside a literal here, since the text between them is the recipe's own.
    if (value.size() >= detail::kNumberMark.size() &&
        (value.find(detail::kNumberMark) != std::string_view::npos ||
         value.find(detail::kStringMark) != std::string_view::npos)) {
      return false;
    }
    shape.literals.push_back(value);
    at = end;
    from = literal.end;
  }
  const std::size_t rest = text_.size() - from;
  if (sql.size() - at != rest || std::memcmp(sql.data() + at, text_.data() + from, rest) != 0) {
    return false;
  }
  shape.key.assign(key_);
  return true;
}

bool RecentRecipes::match(std::string_view sql, LiteralShape& shape) const {
  for (const ShapeRecipe& recipe : recipes_) {
    if (recipe.match(sql, shape)) {
      return true;
    }
  }
  return false;
}

void RecentRecipes::remember(std::string_view sql, const LiteralShape& shape) {
  auto recipe = ShapeRecipe::of(sql, shape);
  if (!recipe) {
    return;
  }
  if (recipes_.size() < kKept) {
    recipes_.push_back(std::move(*recipe));
    return;
  }
  recipes_[oldest_] = std::move(*recipe);
  oldest_ = (oldest_ + 1) % kKept;
}

}  // namespace switchyard::rewrite
