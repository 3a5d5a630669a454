#include "rewrite/new_descendant.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite {

bool may_touch_new_descendant(std::string_view sql, std::string_view table) {
  static constexpr std::array<std::string_view, 12> kLeavesRows = {
      "create",  "alter",  "drop",    "grant",   "revoke", "comment",
      "analyze", "vacuum", "reindex", "cluster", "lock",   "truncate"};
  if (const auto verb = detail::sole_statement_verb(sql)) {
    if (std::any_of(kLeavesRows.begin(), kLeavesRows.end(),
                    [&](std::string_view v) { return detail::iequals(*verb, v); })) {
      return false;
    }
  }
  // A word of the text, not a part of one: a quoted or qualified name still matches, and a
  // false match (the name inside a string) only refuses a text that could have gone through.
  auto word = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$';
  };
  for (std::size_t at = 0; at + table.size() <= sql.size(); ++at) {
    if (detail::iequals(sql.substr(at, table.size()), table) && (at == 0 || !word(sql[at - 1])) &&
        (at + table.size() == sql.size() || !word(sql[at + table.size()]))) {
      return true;
    }
  }
  return false;
}

std::string new_descendant_refusal(const NewDescendant& table) {
  if (table.renamed) {
    return "migration \"" + table.migration + "\": " + table.name +
           " is the migration's table, renamed or moved in this transaction, and the migration "
           "follows it there once the transaction ends: write it after COMMIT";
  }
  return "migration \"" + table.migration + "\": " + table.name +
         " became a partition or inheritance child of the migration's table in this "
         "transaction, and the migration covers it once the transaction ends: write it through "
         "the parent table, or after COMMIT";
}

}  // namespace switchyard::rewrite
