#pragma once

// The three operator commands, once the config is loaded and (for backfill and verify) the
// migration's table is described. Each returns the process exit status.

#include "backfill/options.hpp"
#include "backfill/pg_connection.hpp"
#include "backfill/sql.hpp"
#include "config/config.hpp"

namespace switchyard::backfill {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitInterrupted = 130;

/// `switchyard backfill`: DESIGN step 3.
int run_backfill(const Options& options, const config::Config& config,
                 const config::Migration& migration, PgConnection& connection,
                 const TableSpec& spec);

/// `switchyard verify`: DESIGN step 4.
int run_verify(const Options& options, const config::Config& config,
               const config::Migration& migration, PgConnection& connection, const TableSpec& spec);

/// `switchyard status`.
int run_status(const Options& options, const config::Config& config);

}  // namespace switchyard::backfill
