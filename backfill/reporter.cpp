#include "backfill/reporter.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>

namespace switchyard::backfill {
namespace {

std::string timestamp_now() {
  auto now = std::chrono::system_clock::now();
  auto seconds = std::chrono::system_clock::to_time_t(now);
  auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[80];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis));
  return buffer;
}

std::string quoted_if_needed(const std::string& value) {
  if (!value.empty() && value.find_first_of(" \"=\t\n") == std::string::npos) {
    return value;
  }
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c == '\n' ? ' ' : c;
  }
  return out + "\"";
}

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

}  // namespace

std::string format_log_line(std::string_view level, std::string_view event,
                            const std::vector<Field>& fields) {
  std::string line =
      "ts=" + timestamp_now() + " level=" + std::string(level) + " event=" + std::string(event);
  for (const auto& [key, value] : fields) {
    line += " " + key + "=" + quoted_if_needed(value);
  }
  return line;
}

std::string indent_lines(std::string_view text, int indent) {
  std::string out;
  for (char c : text) {
    out.push_back(c);
    if (c == '\n') {
      out.append(static_cast<std::size_t>(indent), ' ');
    }
  }
  return out;
}

std::string format_eta(std::optional<double> seconds) {
  if (!seconds || !std::isfinite(*seconds) || *seconds < 0) {
    return "?";
  }
  auto total = static_cast<long long>(std::llround(*seconds));
  char buffer[32];
  if (total >= 3600) {
    std::snprintf(buffer, sizeof buffer, "%lld:%02lld:%02lld", total / 3600, total / 60 % 60,
                  total % 60);
  } else {
    std::snprintf(buffer, sizeof buffer, "%lld:%02lld", total / 60, total % 60);
  }
  return buffer;
}

Reporter::Reporter(std::string command, std::string migration, ProgressStyle style,
                   std::chrono::milliseconds interval, std::optional<long long> total,
                   long long done_before)
    : command_(std::move(command)),
      migration_(std::move(migration)),
      bar_(style == ProgressStyle::bar ||
           (style == ProgressStyle::automatic && isatty(STDERR_FILENO) == 1)),
      interval_(interval),
      total_(total),
      done_before_(done_before),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

Reporter::~Reporter() { clear_bar(); }

double Reporter::rate() const {
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return elapsed > 0 ? static_cast<double>(walked_) / elapsed : 0.0;
}

std::vector<Field> Reporter::progress_fields() const {
  const long long done = done_before_ + walked_;
  std::vector<Field> fields = {
      {"migration", migration_},
      {"rows_walked", std::to_string(done)},
      {command_ == "verify" ? "mismatches" : "rows_updated", std::to_string(changed_)}};
  std::optional<double> eta;
  const double r = rate();
  if (total_ && *total_ > 0) {
    // An estimate can be below the rows already seen; never claim 100% before the end.
    double percent = std::min(99.9, 100.0 * static_cast<double>(done) / *total_);
    fields.emplace_back("percent", fixed(percent, 1));
    if (r > 0) {
      eta = std::max(0.0, static_cast<double>(*total_ - done) / r);
    }
  }
  fields.emplace_back("rows_per_s", fixed(r, 0));
  fields.emplace_back("eta", format_eta(eta));
  fields.emplace_back("batch_size", std::to_string(batch_size_));
  return fields;
}

void Reporter::update(long long walked, long long changed, long long batch_size) {
  walked_ = walked;
  changed_ = changed;
  batch_size_ = batch_size;
  auto now = std::chrono::steady_clock::now();
  if (bar_) {
    if (now - last_print_ >= std::chrono::milliseconds(100)) {
      last_print_ = now;
      draw_bar();
    }
  } else if (now - last_print_ >= interval_) {
    last_print_ = now;
    std::cerr << format_log_line("info", command_ + "_progress", progress_fields()) << std::endl;
  }
}

void Reporter::event(std::string_view level, std::string_view event,
                     const std::vector<Field>& fields) {
  clear_bar();
  std::vector<Field> all = {{"migration", migration_}};
  all.insert(all.end(), fields.begin(), fields.end());
  std::cerr << format_log_line(level, event, all) << std::endl;
}

void Reporter::draw_bar() {
  const long long done = done_before_ + walked_;
  std::string line = command_ + " " + migration_ + " ";
  std::optional<double> eta;
  const double r = rate();
  if (total_ && *total_ > 0) {
    double fraction = std::min(0.999, static_cast<double>(done) / *total_);
    constexpr int kWidth = 24;
    int filled = static_cast<int>(fraction * kWidth);
    line += "[" + std::string(filled, '#') + std::string(kWidth - filled, '.') + "] " +
            fixed(fraction * 100, 1) + "% ";
    if (r > 0) {
      eta = std::max(0.0, static_cast<double>(*total_ - done) / r);
    }
  }
  line += std::to_string(done) + (total_ ? "/~" + std::to_string(*total_) : "") + " rows, " +
          fixed(r, 0) + " rows/s, ETA " + format_eta(eta) + ", batch " +
          std::to_string(batch_size_);
  std::cerr << "\r\x1b[K" << line << std::flush;
  bar_drawn_ = true;
}

void Reporter::clear_bar() {
  if (bar_drawn_) {
    std::cerr << "\r\x1b[K" << std::flush;
    bar_drawn_ = false;
  }
}

}  // namespace switchyard::backfill
