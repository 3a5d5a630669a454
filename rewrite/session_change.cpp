#include "rewrite/session_change.hpp"

#include <array>

#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite {

bool may_change_session(std::string_view sql) {
  if (const auto verb = detail::sole_statement_verb(sql)) {
    // The four verbs differ in length: one comparison at most, none for SELECT, UPDATE, ...
    switch (verb->size()) {
      case 3:
        return detail::iequals(*verb, "set");
      case 5:
        return detail::iequals(*verb, "reset");
      case 7:
        return detail::iequals(*verb, "discard");
      case 10:
        return detail::iequals(*verb, "deallocate");
      default:
        return false;
    }
  }
  // Several statements, or an unusual start: any of them may be one. Each change names one of
  // these (SET [LOCAL] search_path, RESET, DISCARD, DEALLOCATE).
  constexpr std::array<std::string_view, 4> kWords{"_path", "reset", "discard", "deallocate"};
  for (std::string_view word : kWords) {
    if (detail::icontains(sql, word)) {
      return true;
    }
  }
  return false;
}

}  // namespace switchyard::rewrite
