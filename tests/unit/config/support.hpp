#pragma once

// Helpers shared by the config tests: parse with a fake environment, print errors readably,
// and a scratch directory for the tests that need real files.

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace switchyard::config::testing {

/// A valid file (lines 1-6) ready for a [[migration]] to be appended at line 7.
inline constexpr std::string_view kBase =
    "[listen]\n"
    "address = \"127.0.0.1:6432\"\n"
    "[upstream]\n"
    "address = \"127.0.0.1:5432\"\n"
    "user = \"switchyard\"\n"
    "database = \"app\"\n";

/// The four required migration keys, lines 8-11 after with_migration's header at line 7.
inline constexpr std::string_view kRequiredMigrationKeys =
    "name = \"m\"\n"
    "table = \"public.users\"\n"
    "old_column = \"status\"\n"
    "new_column = \"state\"\n";

/// kBase, "[[migration]]" at line 7, the required keys at lines 8-11, then `extra` from 12.
inline std::string with_migration(std::string_view extra = {}) {
  return std::string(kBase) + "[[migration]]\n" + std::string(kRequiredMigrationKeys) +
         std::string(extra);
}

using FakeEnvironment = std::map<std::string, std::string>;

inline Environment environment_of(FakeEnvironment variables) {
  return [variables = std::move(variables)](const std::string& name) -> std::optional<std::string> {
    if (auto it = variables.find(name); it != variables.end()) {
      return it->second;
    }
    return std::nullopt;
  };
}

/// parse_config with an empty environment unless one is given (never the real one).
inline LoadResult parse(std::string_view text, FakeEnvironment variables = {}) {
  return parse_config(text, "test.toml", environment_of(std::move(variables)));
}

/// All errors, one formatted per line, for assertion messages.
inline std::string describe(const LoadResult& result) {
  std::string out;
  for (const ConfigError& error : result.errors) {
    out += format_error(error) + "\n";
  }
  return out.empty() ? "(no errors)\n" : out;
}

/// A fresh directory under the system temp dir, removed with its contents at scope exit.
class ScratchDir {
 public:
  ScratchDir() {
    static std::atomic<unsigned> counter{0};
    std::random_device random;
    path_ =
        std::filesystem::temp_directory_path() /
        ("switchyard-config-test-" + std::to_string(random()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

  /// Writes `contents` to `name` inside the directory and returns its full path.
  std::filesystem::path write(const std::string& name, std::string_view contents) const {
    const auto file = path_ / name;
    std::ofstream(file, std::ios::binary) << contents;
    return file;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace switchyard::config::testing
