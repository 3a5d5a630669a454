#pragma once

// What a reload changes, in words fit for a log line. Secrets are reported as changed
// without their values.

#include <string>
#include <vector>

#include "config/config.hpp"

namespace switchyard::config {

/// One line per difference between two configs, in file order, e.g.
/// `upstream.tls: "prefer" -> "require"`, `migration "users-status": writes "old" -> "both"`,
/// `migration "orders" added`, `upstream.password changed`. Empty when nothing changed
/// (`source` and migration line numbers are ignored). Migrations are matched by name.
std::vector<std::string> describe_changes(const Config& before, const Config& after);

}  // namespace switchyard::config
