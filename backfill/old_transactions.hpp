#pragma once

// A session of the proxy keeps the flags it began its transaction with until that transaction
// ends (DESIGN §4). One that began under writes = "old" and writes the old column after a
// backfill passed its row leaves the new column behind: verify finds it, nothing prevents it.
// The backfill cannot see the proxy's sessions, but it can see their transactions.

#include <chrono>
#include <string>
#include <variant>
#include <vector>

#include "backfill/pg_connection.hpp"

namespace switchyard::backfill {

struct OldTransaction {
  std::string pid;
  std::string application_name;
  std::string age_seconds;
};

/// Client transactions of the current database begun before `since` (the config file's last
/// save), other than Switchyard's own connections (application_name "switchyard..."), oldest
/// first, at most 10; or the error.
std::variant<std::vector<OldTransaction>, std::string> transactions_begun_before(
    PgConnection& connection, std::chrono::system_clock::time_point since);

/// "pid 4711 (application_name \"app\", 95 s)", comma-separated.
std::string describe(const std::vector<OldTransaction>& transactions);

}  // namespace switchyard::backfill
