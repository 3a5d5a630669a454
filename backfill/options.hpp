#pragma once

// Command lines of `switchyard backfill`, `verify` and `status`.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "backfill/sql.hpp"

namespace switchyard::backfill {

/// How backfill reports progress: a redrawn line on a terminal, key=value log lines
/// otherwise. `auto` picks by whether stderr is a terminal.
enum class ProgressStyle { automatic, bar, log };

/// Every option of the three commands; each command accepts only its own.
struct Options {
  std::string command;  ///< "backfill" | "verify" | "status"
  bool help = false;
  std::string config_path;
  std::string migration;  ///< Required by backfill and verify; a filter for status.
  std::string key_index;  ///< "" = the primary key.
  std::chrono::milliseconds statement_timeout{30000};
  std::optional<double> max_rate;  ///< Rows walked per second, at most.
  std::chrono::milliseconds log_interval{10000};
  ProgressStyle progress = ProgressStyle::automatic;

  // backfill
  long long batch_size = 1000;  ///< The first batch size and the largest the run grows to.
  std::chrono::milliseconds sleep{0};
  bool dry_run = false;
  bool restart = false;
  std::chrono::milliseconds lock_timeout{1000};
  std::chrono::milliseconds target_batch_time{500};
  std::chrono::milliseconds max_lag{10000};  ///< Pause while a replica lags more; 0 = ignore.
  /// --direction of backfill; nullopt: fill the column apps do not read (choose_fill).
  std::optional<Direction> fill;

  // verify
  long long chunk_size = 10000;
  long long samples = 5;
  Direction direction = Direction::both;
};

/// Parses args (args[0] is the command). `--opt value` and `--opt=value` both work. The error
/// says what was wrong and ends with a pointer to --help.
std::variant<Options, std::string> parse_options(const std::vector<std::string>& args);

/// The --help text of one command.
std::string help_text(std::string_view command);

/// "both" | "to-new" | "to-old".
std::string_view to_string(Direction direction);

}  // namespace switchyard::backfill
