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

bool Migration::casts_every_read() const {
  if (old_type.empty()) {
    return false;
  }
  if (!to_old.empty()) {
    return true;
  }
  return types_differ() && (family(old_type) == 0 || family(old_type) != family(new_type));
}

}  // namespace switchyard::rewrite
