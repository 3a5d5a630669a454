#pragma once

// A migration covers its table's partitions and inheritance children by their own names. A
// second migration declared on one of them over the same column gives that table two rules:
// a row is written and read through whichever name the statement uses (the root's transforms
// through the root, the other's through the descendant), so its two columns disagree and the
// same row reads differently by name. Like two migrations on one column of one table, it is
// refused; only the catalog knows the tree, so it is checked when the config is built.

#include <string>
#include <vector>

#include "config/config.hpp"
#include "proxy/catalog_client.hpp"

namespace switchyard::proxy {

/// An error of the migration declared on the descendant: its entry is the one to remove.
struct NestedMigrationError {
  const config::Migration* nested;
  std::string message;
};

/// One error per migration declared on a descendant of another one's table (of `migrations`,
/// all of one database) where the two share a column, old or new. Pure.
std::vector<NestedMigrationError> nested_migration_errors(
    const std::vector<const config::Migration*>& migrations,
    const std::vector<Descendant>& descendants);

}  // namespace switchyard::proxy
