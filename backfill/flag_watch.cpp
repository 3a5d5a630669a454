#include "backfill/flag_watch.hpp"

#include <system_error>
#include <utility>

#include "backfill/fill_direction.hpp"
#include "config/config.hpp"

namespace switchyard::backfill {

FlagWatch::FlagWatch(std::filesystem::path config_path, const config::Migration& started,
                     Direction fill)
    : path_(std::move(config_path)), started_(started), fill_(fill) {}

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
  writes_new_ = false;
  const auto* migration = loaded.config->find_migration(started_.name);
  if (migration == nullptr) {
    verdict_ = "the migration is no longer declared in " + path_.string() +
               ": without it the proxy writes the old column alone";
    return verdict_;
  }
  const auto& m = *migration;
  writes_new_ = m.writes == config::Writes::new_column;
  if (m.schema != started_.schema || m.table != started_.table ||
      m.old_column != started_.old_column || m.new_column != started_.new_column ||
      m.to_new != started_.to_new || m.to_old != started_.to_old) {
    verdict_ = "the migration's table, columns or transforms changed in " + path_.string() +
               " while the backfill ran: it would go on filling rows by the ones it started " +
               "with; run it again, and it starts over with the new ones";
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
