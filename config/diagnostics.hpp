#pragma once

// Internal to config/: where each key was found and the errors collected so far. The TOML
// reader fills it, the semantic checks (validate.cpp) consult it, so that only the reader
// needs toml++.

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace switchyard::config::detail {

/// `text` between double quotes, as error messages name keys and values.
inline std::string in_quotes(std::string_view text) { return "\"" + std::string(text) + "\""; }

using Position = KeyPosition;

/// Where `key` was written, else where its nearest written parent was, else nowhere.
Position nearest_position(const std::map<std::string, Position>& positions, std::string key);

class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  /// Records where `key` ("upstream.tls", "migration[0]") was written.
  void remember(const std::string& key, Position at) { positions_[key] = at; }
  /// Where every key was written, to keep in the loaded Config.
  const std::map<std::string, Position>& positions() const { return positions_; }
  /// Whether `key` was written in the file at all.
  bool present(const std::string& key) const { return positions_.contains(key); }
  /// Where `key` was written, else where its nearest written parent was, else nowhere.
  Position where(std::string key) const;

  void add(Position at, std::string key, std::string message);
  /// Reports at the position of `key` (or its parent, see where()).
  void add(std::string key, std::string message);

  /// Whether an error was already reported for `key`, so later checks stay quiet about it.
  bool failed(const std::string& key) const { return failed_.contains(key); }
  /// Present and not already reported: the value read for `key` can be checked further.
  bool usable(const std::string& key) const { return present(key) && !failed(key); }

  bool empty() const { return errors_.empty(); }
  /// The errors in file order; those without a line come last.
  std::vector<ConfigError> take();

 private:
  std::string file_;
  std::map<std::string, Position> positions_;
  std::vector<ConfigError> errors_;
  std::set<std::string> failed_;
};

/// Why `path` cannot be read ("is a directory", "No such file or directory"), or nothing
/// when it can. With `contents`, the whole file is read into it.
std::optional<std::string> file_problem(const std::filesystem::path& path,
                                        std::string* contents = nullptr);

/// Reads a parsed TOML document into `config`. Defined in loader.cpp, the one file that
/// includes toml++; returns false when the text is not TOML at all.
bool read_toml(std::string_view text, Config& config, Diagnostics& diagnostics);

/// Checks that span several keys, resolves relative paths against `base_dir` and loads the
/// password (unless `password` says skip). Runs after read_toml on whatever it could read.
void validate(Config& config, Diagnostics& diagnostics, const Environment& environment,
              const std::filesystem::path& base_dir, PasswordLookup password);

}  // namespace switchyard::config::detail
