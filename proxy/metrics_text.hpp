#pragma once

#include <string>
#include <string_view>

#include "proxy/proxy_state.hpp"
#include "proxy/reloader.hpp"

namespace switchyard::proxy {

/// The Prometheus text exposition format's content type (version 0.0.4).
inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

/// Renders every metric of the process in the Prometheus text format 0.0.4: connections,
/// bytes, statements by kind, rewrites and rejects by migration, reads and writes of the old and
/// new columns, rewrite cache hits and misses, the query latency histogram, upstream errors by
/// SQLSTATE class, the config generation, reload outcomes and the effective flags of every
/// migration. `last_reload` comes from the Reloader (result none when there is none).
std::string render_metrics(const ProxyState& state, const ReloadStatus& last_reload);

/// A label value with `\`, `"` and newline escaped as the text format requires.
std::string escape_label_value(std::string_view value);

}  // namespace switchyard::proxy
