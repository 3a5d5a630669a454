#pragma once

// The reloader's build step without a database: what the reloader and config-watch tests load.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "proxy/reloader.hpp"
#include "proxy/snapshot_builder.hpp"

namespace switchyard::proxy::testing {

inline Reloader::BuildResult build_offline(config::Config config, std::uint64_t generation) {
  auto built = build_snapshot(std::move(config), generation,
                              BuildOptions{.use_catalog = false,
                                           .unreachable_hint = {},
                                           .previous = nullptr,
                                           .unreachable = nullptr});
  if (auto* errors = std::get_if<std::vector<std::string>>(&built)) {
    return *errors;
  }
  return std::get<std::shared_ptr<const Snapshot>>(built);
}

}  // namespace switchyard::proxy::testing
