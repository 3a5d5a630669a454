#pragma once

#include <iosfwd>
#include <string>

#include "proxy/cli.hpp"

namespace switchyard::proxy {

/// `switchyard rewrite`: the dry run an on-call engineer uses before flipping a flag. Prints
/// the rewritten SQL and the migrations applied, or why the statement is refused.
/// Exit 0 when the SQL is forwarded (changed or not), 1 when it would be rejected or the
/// config is bad, 3 when it is unsupported but passed through.
int run_rewrite_command(const CommandLine& cmd, std::istream& in, std::ostream& out,
                        std::ostream& err);

}  // namespace switchyard::proxy
