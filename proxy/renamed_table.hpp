#pragma once

#include <optional>
#include <string>
#include <variant>

#include "backfill/pg_connection.hpp"
#include "config/config.hpp"
#include "proxy/proxy_state.hpp"

namespace switchyard::proxy {

/// The relation `before`'s rules applied `m` to, when the config's table is gone while that
/// relation (the same OID) lives on under another name: ALTER TABLE ... RENAME TO / SET SCHEMA
/// or ALTER SCHEMA ... RENAME, on any connection. `m` then names the relation's new name
/// (as the config would write it) and the warning tells the operator to update the config;
/// nothing changes otherwise. The error is the catalog's, if the look-up failed.
std::variant<std::optional<ConfigWarning>, std::string> follow_renamed_table(
    config::Migration& m, const DatabaseRewrite* before, backfill::PgConnection& connection);

}  // namespace switchyard::proxy
