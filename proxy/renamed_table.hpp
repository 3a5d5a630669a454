#pragma once

#include <optional>
#include <string>
#include <variant>

#include "backfill/pg_connection.hpp"
#include "config/config.hpp"
#include "proxy/proxy_state.hpp"

namespace switchyard::proxy {

/// What a rebuild makes of a migration whose relation `before`'s rules followed by OID.
struct FollowedTable {
  /// Set when the relation lives on under another name: the migration now names it there.
  std::optional<ConfigWarning> warning;
  /// Set as well when another relation (of any kind) holds the config's name meanwhile.
  std::optional<AmbiguousTable> ambiguous;
};

/// The relation `before`'s rules applied `m` to, when it (the same OID) lives on under another
/// name than the config's: ALTER TABLE ... RENAME TO / SET SCHEMA or ALTER SCHEMA ... RENAME,
/// on any connection. `m` then names the relation's new name (as the config would write it)
/// and the warning tells the operator to update the config. When another relation holds the
/// config's name (a swap of names, a view created under the old name), the rules stay on the
/// followed relation and both names are refused (`ambiguous`) rather than move the rules
/// silently. Nothing changes when the relation is gone or still under the config's name, or
/// when the config's `table` differs from `before`'s (an edit maps the new name, as at a start).
/// The error is the catalog's, if the look-up failed.
std::variant<FollowedTable, std::string> follow_renamed_table(config::Migration& m,
                                                              const DatabaseRewrite* before,
                                                              backfill::PgConnection& connection);

}  // namespace switchyard::proxy
