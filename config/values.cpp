#include "config/values.hpp"

#include <sys/un.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <limits>
#include <vector>

namespace switchyard::config {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), is_digit);
}

// Host names (RFC 1123 plus '_', which container runtimes hand out) and IPv4 literals.
bool is_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_';
}

bool is_ipv6_char(char c) {
  // Hex digits, separators, an embedded IPv4 tail, and a zone id after '%'.
  return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.' || c == '%' ||
         std::isalnum(static_cast<unsigned char>(c)) != 0;
}

template <class T>
Parsed<T> fail(std::string why) {
  return Parsed<T>{std::nullopt, std::move(why)};
}

Parsed<std::uint16_t> parse_port(std::string_view text, bool allow_zero) {
  if (!all_digits(text)) {
    return fail<std::uint16_t>("port \"" + std::string(text) +
                               "\" is not a number; ports are 1..65535");
  }
  unsigned long port = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc{} || end != text.data() + text.size() || port > 65535) {
    return fail<std::uint16_t>("port " + std::string(text) +
                               " is out of range; ports are 1..65535");
  }
  if (port == 0 && !allow_zero) {
    return fail<std::uint16_t>("port 0 is not a port to connect to; ports are 1..65535");
  }
  return Parsed<std::uint16_t>{static_cast<std::uint16_t>(port), {}};
}

}  // namespace

Parsed<Endpoint> parse_endpoint(std::string_view text, bool allow_port_zero,
                                std::string_view default_host) {
  const std::string example = default_host.empty()
                                  ? "expected \"host:port\" such as \"127.0.0.1:6432\" or "
                                    "\"[::1]:6432\""
                                  : "expected \"host:port\" or \":port\" such as \"" +
                                        std::string(default_host) + ":9187\"";
  std::string_view host;
  std::string_view port_text;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      return fail<Endpoint>("missing ']' after the IPv6 address; " + example);
    }
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.starts_with(':')) {
      return fail<Endpoint>("missing \":port\" after \"]\"; " + example);
    }
    port_text = rest.substr(1);
    if (host.find(':') == std::string_view::npos ||
        !std::all_of(host.begin(), host.end(), is_ipv6_char)) {
      return fail<Endpoint>("\"" + std::string(host) + "\" in brackets is not an IPv6 address; " +
                            example);
    }
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return fail<Endpoint>("missing \":port\"; " + example);
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return fail<Endpoint>("an IPv6 address needs brackets, as in \"[::1]:6432\"");
    }
    if (host.empty()) {
      if (default_host.empty()) {
        return fail<Endpoint>("missing host; " + example);
      }
      host = default_host;
    } else if (!std::all_of(host.begin(), host.end(), is_host_char) || host.starts_with('-') ||
               host.starts_with('.')) {
      return fail<Endpoint>("\"" + std::string(host) + "\" is not a host name or IP address; " +
                            example);
    }
  }
  if (host.empty()) {
    return fail<Endpoint>("missing host; " + example);
  }
  auto port = parse_port(port_text, allow_port_zero);
  if (!port) {
    return fail<Endpoint>(std::move(port.error));
  }
  return Parsed<Endpoint>{Endpoint{std::string(host), *port.value}, {}};
}

Parsed<Endpoint> parse_upstream_address(std::string_view text) {
  if (!text.starts_with('/')) {
    if (text.find('/') != std::string_view::npos) {
      return fail<Endpoint>(
          "a unix socket's directory must be an absolute path, such as \"/var/run/postgresql\"");
    }
    return parse_endpoint(text);
  }
  constexpr std::string_view kSocketPrefix = ".s.PGSQL.";
  const auto slash = text.rfind('/');
  std::string_view last = text.substr(slash + 1);
  std::string_view directory = text;
  std::string_view port_text = "5432";
  if (last.starts_with(kSocketPrefix)) {
    directory = text.substr(0, slash);
    port_text = last.substr(kSocketPrefix.size());
  } else if (const auto colon = last.find(':'); colon != std::string_view::npos) {
    directory = text.substr(0, slash + 1 + colon);
    port_text = last.substr(colon + 1);
  }
  while (directory.size() > 1 && directory.ends_with('/')) {
    directory.remove_suffix(1);
  }
  if (directory.empty()) {
    directory = "/";
  }
  auto port = parse_port(port_text, /*allow_zero=*/false);
  if (!port) {
    return fail<Endpoint>(std::move(port.error));
  }
  Endpoint endpoint{std::string(directory), *port.value};
  // sockaddr_un holds the path with its terminating NUL; connect() would fail later with a
  // message that does not say why.
  constexpr std::size_t kMaxSocketPath = sizeof(sockaddr_un::sun_path) - 1;
  if (const std::string path = endpoint.unix_socket_path(); path.size() > kMaxSocketPath) {
    return fail<Endpoint>("the socket path " + path + " is " + std::to_string(path.size()) +
                          " bytes long; a unix socket's path holds at most " +
                          std::to_string(kMaxSocketPath));
  }
  return Parsed<Endpoint>{std::move(endpoint), {}};
}

Parsed<std::chrono::milliseconds> parse_duration(std::string_view text) {
  using Result = std::chrono::milliseconds;
  const std::string valid =
      "expected an integer and a unit (ms, s, m, h), such as \"250ms\", "
      "\"10s\" or \"2m\"";
  std::size_t digits = 0;
  while (digits < text.size() && is_digit(text[digits])) {
    ++digits;
  }
  if (digits == 0) {
    return fail<Result>("\"" + std::string(text) + "\" is not a duration; " + valid);
  }
  const std::string_view unit = text.substr(digits);
  std::int64_t scale = 0;
  if (unit == "ms") {
    scale = 1;
  } else if (unit == "s") {
    scale = 1000;
  } else if (unit == "m") {
    scale = 60'000;
  } else if (unit == "h") {
    scale = 3'600'000;
  } else {
    return fail<Result>(
        "\"" + std::string(text) + "\" has " +
        (unit.empty() ? std::string("no unit") : "unknown unit \"" + std::string(unit) + "\"") +
        "; " + valid);
  }
  std::int64_t amount = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + digits, amount);
  // A week is far beyond any sensible timeout and keeps the arithmetic clear of overflow.
  constexpr std::int64_t kMaxMilliseconds = 7LL * 24 * 3'600'000;
  if (ec != std::errc{} || end != text.data() + digits || amount > kMaxMilliseconds / scale) {
    return fail<Result>("\"" + std::string(text) + "\" is too long; at most 168h");
  }
  return Parsed<Result>{Result{amount * scale}, {}};
}

std::string format_duration(std::chrono::milliseconds duration) {
  const auto ms = duration.count();
  if (ms != 0 && ms % 3'600'000 == 0) {
    return std::to_string(ms / 3'600'000) + "h";
  }
  if (ms != 0 && ms % 60'000 == 0) {
    return std::to_string(ms / 60'000) + "m";
  }
  if (ms % 1000 == 0) {
    return std::to_string(ms / 1000) + "s";
  }
  return std::to_string(ms) + "ms";
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment: Levenshtein plus swaps of neighbours, the most common typo.
  const std::size_t width = b.size() + 1;
  std::vector<std::size_t> d((a.size() + 1) * width);
  auto at = [&](std::size_t i, std::size_t j) -> std::size_t& { return d[i * width + j]; };
  for (std::size_t i = 0; i <= a.size(); ++i) {
    at(i, 0) = i;
  }
  for (std::size_t j = 0; j <= b.size(); ++j) {
    at(0, j) = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      at(i, j) = std::min({at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        at(i, j) = std::min(at(i, j), at(i - 2, j - 2) + 1);
      }
    }
  }
  return at(a.size(), b.size());
}

std::optional<std::string_view> closest_match(std::string_view word,
                                              std::span<const std::string_view> candidates,
                                              std::size_t max_distance) {
  std::optional<std::string_view> best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (std::string_view candidate : candidates) {
    const std::size_t distance = edit_distance(word, candidate);
    if (distance <= max_distance && distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

}  // namespace switchyard::config
