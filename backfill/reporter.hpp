#pragma once

// What an operator sees while backfill or verify runs: a redrawn progress line on a terminal
// (rows/s, ETA), or one key=value log line per interval when stderr is a file or a pipe.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backfill/options.hpp"

namespace switchyard::backfill {

/// A key=value field of a log line; values with spaces or quotes are quoted.
using Field = std::pair<std::string, std::string>;

/// "ts=... level=info event=<event> k=v ...", the format of the proxy's text logs.
std::string format_log_line(std::string_view level, std::string_view event,
                            const std::vector<Field>& fields);

/// `text` with every line after the first indented by `indent` spaces, to sit under a label.
std::string indent_lines(std::string_view text, int indent);

/// "1:02:03", "4:05", or "?" when unknown.
std::string format_eta(std::optional<double> seconds);

class Reporter {
 public:
  /// `total`: the expected rows (nullopt when unknown); `done_before`: rows walked by earlier
  /// runs this one resumes.
  Reporter(std::string command, std::string migration, ProgressStyle style,
           std::chrono::milliseconds interval, std::optional<long long> total,
           long long done_before);
  ~Reporter();
  Reporter(const Reporter&) = delete;
  Reporter& operator=(const Reporter&) = delete;

  /// After each batch or chunk: totals of this run. Prints when the interval has passed (log
  /// style) or at most ten times a second (bar style).
  void update(long long walked, long long changed, long long batch_size);
  /// A one-off event (a pause, a retry, the end). Always printed, on its own line.
  void event(std::string_view level, std::string_view event, const std::vector<Field>& fields);
  /// Rows per second walked by this run so far.
  double rate() const;

 private:
  std::vector<Field> progress_fields() const;
  void draw_bar();
  void clear_bar();

  std::string command_;
  std::string migration_;
  bool bar_;
  std::chrono::milliseconds interval_;
  std::optional<long long> total_;
  long long done_before_;
  long long walked_ = 0;
  long long changed_ = 0;
  long long batch_size_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_print_;
  bool bar_drawn_ = false;
};

}  // namespace switchyard::backfill
