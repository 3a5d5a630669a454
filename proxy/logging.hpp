#pragma once

#include <string>
#include <string_view>

namespace switchyard::proxy {

/// Installs the process logger on stderr: one line per event, `key=value` pairs.
/// format "json" emits one JSON object per line with the pairs as fields.
/// Returns false (and logs nothing) if `level` is not a known level name.
bool setup_logging(std::string_view level, std::string_view format);

/// A log value: quoted and escaped when it holds spaces, quotes, '=' or control characters,
/// so `key=value` lines stay machine-splittable.
std::string log_value(std::string_view value);

}  // namespace switchyard::proxy
