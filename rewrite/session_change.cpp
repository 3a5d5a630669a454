#include "rewrite/session_change.hpp"

#include <array>

#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite {

bool may_change_session(std::string_view sql) {
  return may_change_session(sql, detail::sole_statement_verb(sql));
}

bool may_change_session(std::string_view sql, detail::SoleVerb verb) {
  if (verb) {
    // The verbs differ in length or first letter: two comparisons at most, none for SELECT,
    // UPDATE, INSERT, DELETE. COMMIT, END and ABORT only with AND CHAIN, which ends the
    // transaction without a ReadyForQuery saying so: a plain END (each pgbench transaction's)
    // costs one more search.
    const auto chained = [&] { return detail::icontains(sql, "chain"); };
    const char first = static_cast<char>(verb->front() | 0x20);
    switch (verb->size()) {
      case 3:
        return first == 's' ? detail::iequals(*verb, "set")
                            : detail::iequals(*verb, "end") && chained();
      case 5:
        return first == 'r' ? detail::iequals(*verb, "reset")
                            : detail::iequals(*verb, "abort") && chained();
      case 6:
        return first == 'c' && (detail::iequals(*verb, "create") ||
                                (detail::iequals(*verb, "commit") && chained()));
      case 7:
        switch (first) {
          case 'd':
            return detail::iequals(*verb, "discard");
          case 'p':
            return detail::iequals(*verb, "prepare");
          case 'e':
            return detail::iequals(*verb, "execute") || detail::iequals(*verb, "explain");
          case 'r':
            return detail::iequals(*verb, "release");
          default:
            return false;
        }
      case 8:
        return first == 'r' && detail::iequals(*verb, "rollback");
      case 9:
        return first == 's' && detail::iequals(*verb, "savepoint");
      case 10:
        return detail::iequals(*verb, "deallocate");
      default:
        return false;
    }
  }
  // Several statements, or an unusual start: any of them may be one. Each change names one of
  // these (SET [LOCAL] search_path, SET ROLE, SET SESSION AUTHORIZATION, RESET, DISCARD,
  // DEALLOCATE, PREPARE, EXECUTE, the savepoints a ROLLBACK TO returns the path to, and
  // COMMIT/ROLLBACK AND CHAIN).
  constexpr std::array<std::string_view, 12> kWords{
      "_path",   "role",    "authorization", "reset",   "discard",  "deallocate",
      "prepare", "execute", "savepoint",     "release", "rollback", "chain"};
  for (std::string_view word : kWords) {
    if (detail::icontains(sql, word)) {
      return true;
    }
  }
  return false;
}

TransactionEnd transaction_end(std::string_view sql, detail::SoleVerb verb) {
  // Every Parse asks: the verb first, the text searched only for these few.
  if (!verb || verb->size() < 3 || verb->size() > 8) {
    return TransactionEnd::none;
  }
  const bool commit = detail::iequals(*verb, "commit") || detail::iequals(*verb, "end");
  const bool rollback =
      !commit && (detail::iequals(*verb, "rollback") || detail::iequals(*verb, "abort"));
  if (!commit && !rollback) {
    return detail::iequals(*verb, "discard") && detail::icontains(sql, "all")
               ? TransactionEnd::commit
               : TransactionEnd::none;
  }
  if (detail::icontains(sql, "chain") || detail::icontains(sql, "prepared")) {
    return TransactionEnd::none;
  }
  if (commit) {
    return TransactionEnd::commit;
  }
  // ROLLBACK TO [SAVEPOINT] ends no transaction; a "to" elsewhere only costs the point.
  return detail::icontains(sql, "to") ? TransactionEnd::none : TransactionEnd::rollback;
}

}  // namespace switchyard::rewrite
