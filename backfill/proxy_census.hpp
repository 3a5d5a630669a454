#pragma once

// What the proxy itself counts of the sessions on an old generation (its [admin] /config):
// exact where the config file's mtime is only a guess at when the flags changed (a file copied
// with its mtime kept, `cp -p`, rsync -t, tar, looks saved long ago).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "config/config.hpp"

namespace switchyard::backfill {

/// `sessions_on_old_generation` of a /config reply (status line, headers and JSON body), or
/// nullopt when the reply is not a 200 holding it.
std::optional<std::uint64_t> sessions_on_old_generation(std::string_view reply);

/// Why the proxy's /config `reply` shows it running other flags for `migration` than the file,
/// or that its last reload failed (then it runs an older file, whose transforms may differ).
/// nullopt when they agree, or the reply does not say.
std::optional<std::string> runs_other_config(std::string_view reply,
                                             const config::Migration& migration);

struct ProxyAnswer {
  std::uint64_t sessions_on_old_generation = 0;
  std::string reply;  ///< the whole /config reply
};

/// Asks the admin endpoint at `admin` (a wildcard host is asked on 127.0.0.1) for
/// /config, within `timeout` in all: the count and the reply, or why there is none.
std::variant<ProxyAnswer, std::string> ask_sessions_on_old_generation(
    const config::Endpoint& admin, std::chrono::milliseconds timeout);

}  // namespace switchyard::backfill
