#pragma once

// A backfill runs for hours, and the flags may change meanwhile. Once writes = "new", a walk that
// fills the new column would copy the stale old column over what apps write to the new one; once
// writes = "old" (step 2 undone), rows written behind the walk stay behind. So before each batch
// the walk reads its config file again when it changed, and stops when the flags no longer
// allow the direction it fills (choose_fill, as at start).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "backfill/sql.hpp"
#include "config/config.hpp"

namespace switchyard::backfill {

class FlagWatch {
 public:
  /// `started`: the migration as the walk began with it; a save that changes its table, columns
  /// or transforms stops the walk too (what it fills from then on would be filled otherwise).
  FlagWatch(std::filesystem::path config_path, const config::Migration& started, Direction fill);

  /// Why the walk must stop now, if it must, from the file as last loaded. One that does not
  /// load (a save in progress, say) or is gone for a moment changes nothing, and is read again
  /// at the next check.
  std::optional<std::string> check();

  /// The file as last loaded says writes = "new".
  bool writes_new() const { return writes_new_; }

 private:
  struct Stamp {
    std::filesystem::file_time_type time{};
    std::uintmax_t size = 0;
    bool operator==(const Stamp&) const = default;
  };

  std::optional<Stamp> stamp() const;

  std::filesystem::path path_;
  config::Migration started_;
  Direction fill_;
  std::optional<Stamp> seen_;  ///< the file as last loaded; none yet: load at the first check
  std::optional<std::string> verdict_;  ///< what that file said
  bool writes_new_ = false;
};

}  // namespace switchyard::backfill
