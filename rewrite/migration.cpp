#include "rewrite/migration.hpp"

#include <string_view>

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

}  // namespace

bool Migration::same_values() const {
  return !types_differ() || (family(old_type) != 0 && family(old_type) == family(new_type));
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
