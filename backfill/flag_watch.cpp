#include "backfill/flag_watch.hpp"

#include <system_error>
#include <utility>

#include "backfill/fill_direction.hpp"
#include "config/config.hpp"

namespace switchyard::backfill {

FlagWatch::FlagWatch(std::filesystem::path config_path, std::string migration, Direction fill)
    : path_(std::move(config_path)), migration_(std::move(migration)), fill_(fill) {}

std::optional<FlagWatch::Stamp> FlagWatch::stamp() const {
  std::error_code error;
  Stamp now;
  now.time = std::filesystem::last_write_time(path_, error);  // follows symlinks (..data swaps)
  if (error) {
    return std::nullopt;
  }
  now.size = std::filesystem::file_size(path_, error);
  if (error) {
    return std::nullopt;
  }
  return now;
}

std::optional<std::string> FlagWatch::check() {
  const auto now = stamp();
  if (!now || now == seen_) {
    return verdict_;
  }
  auto loaded = config::load_config(path_);
  if (!loaded.ok()) {
    return verdict_;
  }
  seen_ = now;
  verdict_.reset();
  const auto* migration = loaded.config->find_migration(migration_);
  if (migration == nullptr) {
    verdict_ = "the migration is no longer declared in " + path_.string() +
               ": without it the proxy writes the old column alone";
    return verdict_;
  }
  // As if this direction had been asked for: a warning (reads flipped) is no reason to stop.
  const FillChoice choice = choose_fill(fill_, migration->writes, migration->reads);
  if (!choice.error.empty()) {
    verdict_ = "the config changed while the backfill ran: " + choice.error;
  }
  return verdict_;
}

}  // namespace switchyard::backfill
