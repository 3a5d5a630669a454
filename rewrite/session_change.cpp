#include "rewrite/session_change.hpp"

#include <array>

#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite {

bool may_change_session(std::string_view sql) {
  if (const auto verb = detail::sole_statement_verb(sql)) {
    constexpr std::array<std::string_view, 4> kVerbs{"set", "reset", "discard", "deallocate"};
    for (std::string_view word : kVerbs) {
      if (detail::iequals(*verb, word)) {
        return true;
      }
    }
    return false;
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
