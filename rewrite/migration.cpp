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

}  // namespace switchyard::rewrite
