#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "rewrite/search_path_setting.hpp"

namespace switchyard::rewrite {

/// One step of a text that takes, releases or rolls back to a savepoint, or ends its
/// transaction and begins the next at once (AND CHAIN), in the order the server runs them:
/// ROLLBACK TO SAVEPOINT brings the search_path back to what it was when the savepoint was
/// taken, so which SETs came before it in the text matters; and after AND CHAIN no
/// ReadyForQuery says the transaction ended.
struct TransactionStep {
  enum class Kind { path, define, release, rollback_to, commit_chain, rollback_chain };
  Kind kind = Kind::path;
  /// The savepoint, as Postgres stores its name (folded unless quoted); empty for the others.
  std::string name;
  /// For `path`: the search_path change of the statements since the previous step.
  SearchPathChange path;
  /// Which statement of the text makes the step (for `path`, the last SET in it), counted from
  /// 0: the server answers each statement it runs with one CommandComplete, in order.
  std::size_t statement = 0;
};

/// The steps of `sql` when it holds a SAVEPOINT, RELEASE [SAVEPOINT], ROLLBACK TO [SAVEPOINT],
/// or COMMIT/ROLLBACK AND CHAIN; empty otherwise, and then search_path_change() tells the
/// text's net change. Parses only a text in which one of those words appears.
std::vector<TransactionStep> transaction_steps(std::string_view sql);

}  // namespace switchyard::rewrite
