#pragma once

#include <string>
#include <vector>

namespace switchyard::backfill {

/// `switchyard backfill|verify|status ...`: args[0] is the command name. Returns the exit code.
int run_command(const std::vector<std::string>& args);

}  // namespace switchyard::backfill
