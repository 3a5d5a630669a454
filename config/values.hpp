#pragma once

// Parsers for the scalar value syntaxes of the config file. They know nothing of TOML, so
// the command line and tests can use them too.

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace switchyard::config {

/// A parsed value, or a sentence saying why the text is not one.
template <class T>
struct Parsed {
  std::optional<T> value;
  std::string error;  ///< Set when `value` is empty; says what would be valid.

  explicit operator bool() const { return value.has_value(); }
};

/// Parses "host:port", "[v6]:port". With `default_host` set, ":port" means that host.
/// Port 0 is accepted only when `allow_port_zero` (a listener asking for any free port).
Parsed<Endpoint> parse_endpoint(std::string_view text, bool allow_port_zero = false,
                                std::string_view default_host = {});

/// Parses [upstream] address: "host:port" as parse_endpoint does, or a unix socket named as
/// libpq names it: an absolute directory ("/var/run/postgresql", port 5432), a directory and
/// a port ("/var/run/postgresql:5433"), or the socket file ("/var/run/postgresql/.s.PGSQL.5433").
Parsed<Endpoint> parse_upstream_address(std::string_view text);

/// Parses "250ms", "10s", "2m", "1h" (a non-negative integer and a unit).
Parsed<std::chrono::milliseconds> parse_duration(std::string_view text);

/// The shortest exact spelling parse_duration accepts: 10000ms -> "10s", 250ms -> "250ms".
std::string format_duration(std::chrono::milliseconds duration);

/// Edit distance with adjacent transpositions counted as one edit (so "wirtes" is 1 from
/// "writes"). Case-sensitive.
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `word` within `max_distance` edits, if any (first on ties).
std::optional<std::string_view> closest_match(std::string_view word,
                                              std::span<const std::string_view> candidates,
                                              std::size_t max_distance = 2);

}  // namespace switchyard::config
