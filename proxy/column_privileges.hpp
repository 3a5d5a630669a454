#pragma once

#include <optional>

#include "backfill/pg_connection.hpp"
#include "config/config.hpp"
#include "proxy/proxy_state.hpp"

namespace switchyard::proxy {

/// Roles granted a privilege on the old column alone (pg_attribute.attacl) that neither the new
/// column's nor the table's privileges give them: once their statements are rewritten to name
/// the new column, Postgres refuses them ("permission denied for table"), and nothing says
/// why. The warning names each role, its privileges and the GRANT that fixes it. Null when
/// there is none, or the look-up fails (the load does not depend on it).
std::optional<ConfigWarning> column_privileges_warning(const config::Migration& m,
                                                       backfill::PgConnection& connection);

}  // namespace switchyard::proxy
