// Fuzzes the TOML config loader with arbitrary text. Every environment variable resolves to
// one secret; whatever the loader says (errors, the redacted JSON of the admin /config
// endpoint, the reload change lines) must never contain it, and it must never throw.
// A config that loads must load again from its own source text with the same result.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/changes.hpp"
#include "config/config.hpp"
#include "fuzz_check.hpp"

namespace cfg = switchyard::config;
using switchyard::fuzz::check;

namespace {

constexpr std::string_view kSecret = "fz-Secret-91b4e7";

std::optional<std::string> environment(const std::string& name) {
  if (name == "FUZZ_UNSET") {
    return std::nullopt;
  }
  return std::string(kSecret);
}

bool leaks(std::string_view text) { return text.find(kSecret) != std::string_view::npos; }

cfg::Config baseline() {
  const cfg::LoadResult r = cfg::parse_config(
      "[listen]\naddress = \"127.0.0.1:6432\"\n[upstream]\naddress = \"127.0.0.1:5432\"\n",
      "<baseline>", environment);
  check(r.ok(), "baseline config loads");
  return *r.config;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = switchyard::fuzz::text_of(data, size);
  // A secret typed into the file itself is the operator's choice to show; only the one
  // that comes from the environment is checked.
  const bool check_leaks = !leaks(text);
  const cfg::LoadResult r = cfg::parse_config(text, "<fuzz>", environment);
  check(r.config.has_value() != !r.errors.empty(), "exactly one of config and errors");
  for (const cfg::ConfigError& e : r.errors) {
    const std::string line = cfg::format_error(e);
    check(!line.empty(), "empty error line");
    check(!check_leaks || !leaks(line), "secret in a config error");
  }
  if (!r.ok()) {
    return 0;
  }
  const std::string json = cfg::to_redacted_json(*r.config);
  check(!check_leaks || !leaks(json), "secret in the redacted JSON");
  static const cfg::Config before = baseline();
  for (const std::string& line : cfg::describe_changes(before, *r.config)) {
    check(!check_leaks || !leaks(line), "secret in a reload change line");
  }
  check(cfg::describe_changes(*r.config, *r.config).empty(), "a config differs from itself");
  const cfg::LoadResult again = cfg::parse_config(text, "<fuzz>", environment);
  check(again.ok() && *again.config == *r.config, "loading is deterministic");
  return 0;
}
