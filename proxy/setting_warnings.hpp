#pragma once

// Conversions between the two columns whose result depends on the settings of the session that
// runs them (TimeZone, DateStyle, IntervalStyle, extra_float_digits). Writes through the proxy
// run them in each app's session, backfill and verify in their own: sessions set otherwise
// store other values, and reads served from the new column answer otherwise than before. The
// search_path too: the names in a transform are resolved in each app's session.

#include <string>
#include <vector>

#include "backfill/pg_connection.hpp"
#include "config/config.hpp"
#include "proxy/proxy_state.hpp"
#include "rewrite/migration.hpp"

namespace switchyard::proxy {

/// One warning per direction (to_new, to_old) whose conversion depends on a session setting,
/// naming the setting and a transform that does not depend on it. Pure: from the config's
/// transforms and the column types `rule` has from the catalog.
std::vector<ConfigWarning> session_setting_warnings(const config::Migration& m,
                                                    const rewrite::Migration& rule);

/// A function or type a transform uses, as the proxy's own session resolved it.
struct TransformName {
  std::string kind;    ///< "function" or "type"
  std::string schema;  ///< where it was found
  std::string name;
  int schemas = 1;  ///< how many schemas hold one of that name
};

/// Warnings about the names in `m`'s transforms that an app session's search_path may resolve
/// otherwise: written without their schema, and found outside pg_catalog and the migration's
/// table's schema, or in more than one schema. Pure.
std::vector<ConfigWarning> transform_name_warnings(const config::Migration& m,
                                                   const std::string& table_schema,
                                                   const std::vector<TransformName>& names);

/// The functions and types `rule`'s transforms use, resolved in the proxy's own session: the
/// dependencies of a temporary view over them, created and rolled back. Empty when the view
/// cannot be made (the transforms are checked elsewhere).
std::vector<TransformName> find_transform_names(const rewrite::Migration& rule,
                                                backfill::PgConnection& connection);

}  // namespace switchyard::proxy
