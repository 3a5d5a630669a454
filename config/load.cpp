#include <algorithm>
#include <cstdlib>
#include <limits>

#include "config/config.hpp"
#include "config/diagnostics.hpp"

namespace switchyard::config {
namespace detail {

Position nearest_position(const std::map<std::string, Position>& positions, std::string key) {
  for (;;) {
    if (auto it = positions.find(key); it != positions.end()) {
      return it->second;
    }
    const auto dot = key.rfind('.');
    if (dot == std::string::npos) {
      return {};
    }
    key.resize(dot);
  }
}

Position Diagnostics::where(std::string key) const {
  return nearest_position(positions_, std::move(key));
}

void Diagnostics::add(Position at, std::string key, std::string message) {
  failed_.insert(key);
  errors_.push_back(ConfigError{file_, at.line, at.column, std::move(key), std::move(message)});
}

void Diagnostics::add(std::string key, std::string message) {
  const Position at = where(key);
  add(at, std::move(key), std::move(message));
}

std::vector<ConfigError> Diagnostics::take() {
  // Errors without a position are about things missing from the file; they read best after
  // the ones that point into it.
  std::stable_sort(errors_.begin(), errors_.end(), [](const ConfigError& a, const ConfigError& b) {
    const int la = a.line == 0 ? std::numeric_limits<int>::max() : a.line;
    const int lb = b.line == 0 ? std::numeric_limits<int>::max() : b.line;
    return la != lb ? la < lb : a.column < b.column;
  });
  return std::move(errors_);
}

}  // namespace detail

namespace {

std::optional<std::string> process_environment(const std::string& name) {
  if (const char* value = std::getenv(name.c_str())) {
    return std::string(value);
  }
  return std::nullopt;
}

}  // namespace

LoadResult parse_config(std::string_view text, std::string_view source, Environment environment,
                        PasswordLookup password) {
  if (!environment) {
    environment = process_environment;
  }
  detail::Diagnostics diagnostics{std::string(source)};
  Config config;
  config.source = std::string(source);
  if (detail::read_toml(text, config, diagnostics)) {
    // Relative paths in a file mean "next to this file", wherever the process was started.
    std::filesystem::path base_dir;
    if (!source.starts_with('<')) {
      base_dir = std::filesystem::path(source).parent_path();
    }
    detail::validate(config, diagnostics, environment, base_dir, password);
  }
  LoadResult result;
  if (diagnostics.empty()) {
    config.positions = diagnostics.positions();
    result.config = std::move(config);
  } else {
    result.errors = diagnostics.take();
  }
  return result;
}

LoadResult load_config(const std::filesystem::path& path, Environment environment,
                       PasswordLookup password) {
  std::string text;
  if (auto problem = detail::file_problem(path, &text)) {
    LoadResult result;
    result.errors.push_back(
        ConfigError{path.string(), 0, 0, {}, "cannot read config file: " + *problem});
    return result;
  }
  auto result = parse_config(text, path.string(), std::move(environment), password);
  result.source_text = std::move(text);
  return result;
}

}  // namespace switchyard::config
