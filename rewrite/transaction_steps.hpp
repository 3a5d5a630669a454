#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "rewrite/search_path_setting.hpp"

namespace switchyard::rewrite {

/// One step of a text that takes, releases or rolls back to a savepoint, or ends its
/// transaction (and with AND CHAIN begins the next at once), in the order the server runs them:
/// ROLLBACK TO SAVEPOINT brings the search_path back to what it was when the savepoint was
/// taken, so which SETs came before it in the text matters; after AND CHAIN no ReadyForQuery
/// says the transaction ended; and a COMMIT or ROLLBACK with statements after it in the text is
/// not the last answer before its ReadyForQuery.
struct TransactionStep {
  enum class Kind {
    path,
    define,
    release,
    rollback_to,
    commit_chain,
    rollback_chain,
    commit,
    rollback
  };
  Kind kind = Kind::path;
  /// The savepoint, as Postgres stores its name (folded unless quoted); empty for the others.
  std::string name;
  /// For `path`: the search_path change of its statement (each change is a step: a SET before
  /// a SET LOCAL holds once the transaction ends, which their net change would lose).
  SearchPathChange path;
  /// Which statement of the text makes the step, counted from 0: the server answers each
  /// statement it runs with one CommandComplete, in order.
  std::size_t statement = 0;
};

/// A COMMIT/END or ROLLBACK/ABORT without AND CHAIN: its ReadyForQuery tells the transaction
/// ended, so it is followed as a step only where its answer is read (follow_as_answered).
constexpr bool ends_plainly(TransactionStep::Kind kind) {
  return kind == TransactionStep::Kind::commit || kind == TransactionStep::Kind::rollback;
}

/// The steps of `sql` when it holds a SAVEPOINT, RELEASE [SAVEPOINT], ROLLBACK TO [SAVEPOINT],
/// COMMIT/ROLLBACK AND CHAIN, or a COMMIT/END or ROLLBACK/ABORT with another statement after
/// it; empty otherwise, and then search_path_change() tells the text's net change. Parses only
/// a text in which one of those words appears.
std::vector<TransactionStep> transaction_steps(std::string_view sql);

}  // namespace switchyard::rewrite
