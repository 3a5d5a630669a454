#include "backfill/commands.hpp"

#include <iostream>

namespace switchyard::backfill {

int run_command(const std::vector<std::string>& args) {
  std::cerr << "switchyard: '" << (args.empty() ? "" : args[0]) << "' is not available yet\n";
  return 2;
}

}  // namespace switchyard::backfill
