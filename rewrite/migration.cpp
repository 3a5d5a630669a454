#include "rewrite/migration.hpp"

#include <charconv>
#include <optional>
#include <string_view>
#include <utility>

namespace switchyard::rewrite {
namespace {

// The families within which a column's type can change without a transform and every
// operator still gives O's answers on O's values. character(n) is not among the text types:
// it compares ignoring trailing blanks.
int family(std::string_view type) {
  if (type == "smallint" || type == "integer" || type == "bigint") {
    return 1;
  }
  if (type == "text" || type == "character varying" || type.starts_with("character varying(")) {
    return 2;
  }
  return 0;
}

struct LengthCoercion {
  std::string_view function;  // also the type without its length
  int typmod_offset;          // the character types count a 4-byte header in their typmod
};

// The length-limited types by format_type()'s spelling, up to the length's parenthesis.
struct LengthLimited {
  std::string_view prefix;
  LengthCoercion coercion;
};
constexpr LengthLimited kLengthLimited[] = {
    {"character varying(", {"pg_catalog.varchar", 4}},
    {"character(", {"pg_catalog.bpchar", 4}},
    {"bit varying(", {"pg_catalog.varbit", 0}},
    {"bit(", {R"(pg_catalog."bit")", 0}},
};

// The coercion and typmod of `type` when it is length-limited (an array of it is not: its
// elements would need the check one by one).
std::optional<std::pair<LengthCoercion, int>> length_coercion(std::string_view type) {
  for (const LengthLimited& l : kLengthLimited) {
    if (!type.starts_with(l.prefix) || !type.ends_with(")")) {
      continue;
    }
    const std::string_view digits = type.substr(l.prefix.size(), type.size() - l.prefix.size() - 1);
    int n = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec == std::errc() && end == digits.data() + digits.size()) {
      return std::pair{l.coercion, n + l.coercion.typmod_offset};
    }
  }
  return std::nullopt;
}

}  // namespace

std::string assigned_as(const std::string& value, const std::string& type, bool untyped) {
  const auto length = length_coercion(type);
  if (!length.has_value()) {
    return untyped ? value + "::" + type : "CAST(" + value + " AS " + type + ")";
  }
  // The last argument false is the assignment's check: a longer value is an error unless the
  // excess is blanks, as storing it in the column would be.
  const std::string base(length->first.function);
  return base + "(" + (untyped ? value + "::" + base : "CAST(" + value + " AS " + base + ")") +
         ", " + std::to_string(length->second) + ", false)";
}

bool limits_length(const std::string& type) { return length_coercion(type).has_value(); }

bool Migration::same_values() const {
  return !types_differ() || (family(old_type) != 0 && family(old_type) == family(new_type));
}

bool Migration::old_type_narrower() const {
  auto rank = [](std::string_view type) {
    return type == "smallint" ? 1 : type == "integer" ? 2 : type == "bigint" ? 3 : 0;
  };
  return types_differ() &&
         (limits_length(old_type) || (rank(old_type) != 0 && rank(old_type) < rank(new_type)));
}

bool Migration::casts_every_read() const {
  return !old_type.empty() && (!to_old.empty() || !same_values());
}

bool Migration::collates_reads() const {
  // A cast keeps its operand's collation, so N's own is what a read gives; to_old over a column
  // without one gives the type's default. An explicit COLLATE is the one way to say which.
  static constexpr std::string_view kDefault = R"(pg_catalog."default")";
  const std::string_view served =
      new_collation.empty() ? kDefault : std::string_view(new_collation);
  return !old_collation.empty() && old_collation != served;
}

std::string Migration::as_old_type(std::string expr) const {
  if (types_differ() || casts_every_read()) {
    expr = "CAST(" + expr + " AS " + old_type + ")";
  }
  return collates_reads() ? "(" + expr + " COLLATE " + old_collation + ")" : expr;
}

}  // namespace switchyard::rewrite
