#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "rewrite/search_path_setting.hpp"

namespace switchyard::rewrite {

/// One step of a text that takes, releases or rolls back to a savepoint, in the order the
/// server runs them: ROLLBACK TO SAVEPOINT brings the search_path back to what it was when the
/// savepoint was taken, so which SETs came before it in the text matters.
struct SavepointStep {
  enum class Kind { path, define, release, rollback_to };
  Kind kind = Kind::path;
  /// The savepoint, as Postgres stores its name (folded unless quoted); empty for `path`.
  std::string name;
  /// For `path`: the search_path change of the statements since the previous step.
  SearchPathChange path;
};

/// The steps of `sql` when it holds a SAVEPOINT, RELEASE [SAVEPOINT] or ROLLBACK TO
/// [SAVEPOINT]; empty otherwise, and then search_path_change() tells the text's net change.
/// Parses only a text in which one of those words appears.
std::vector<SavepointStep> savepoint_steps(std::string_view sql);

}  // namespace switchyard::rewrite
