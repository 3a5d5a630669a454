#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace switchyard::proxy {

/// What the command line set (--log-level, --log-format): it outranks `[log]` at start and at
/// every reload.
struct LogOverrides {
  std::optional<std::string> level;
  std::optional<std::string> format;
};

/// Installs the process logger on stderr: one line per event, `key=value` pairs.
/// format "json" emits one JSON object per line with the pairs as fields.
/// Returns false (and logs nothing) if `level` is not a known level name.
bool setup_logging(std::string_view level, std::string_view format);

/// Applies a reload's changes of `[log] level` and `format` to the running logger, except what
/// `overrides` sets: that stays, with a warning (event=log_setting_kept) naming the key.
void apply_log_changes(const config::LogConfig& before, const config::LogConfig& after,
                       const LogOverrides& overrides);

/// A log value: quoted and escaped when it holds spaces, quotes, '=' or control characters,
/// so `key=value` lines stay machine-splittable.
std::string log_value(std::string_view value);

}  // namespace switchyard::proxy
