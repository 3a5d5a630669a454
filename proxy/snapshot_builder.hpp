#pragma once

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "config/config.hpp"
#include "proxy/proxy_state.hpp"

namespace switchyard::proxy {

/// Turns a validated config into a runnable snapshot: loads TLS material now, so a reload with
/// a bad certificate fails before it takes effect. Errors are messages for the operator.
std::variant<std::shared_ptr<const Snapshot>, std::vector<std::string>> build_snapshot(
    config::Config config, std::uint64_t generation);

}  // namespace switchyard::proxy
