#include "proxy/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>

#include "config/json_string.hpp"

namespace switchyard::proxy {
namespace {

using config::append_json_string;

// Splits "k=v k2=\"v 2\"" into pairs; a word without '=' is kept under "msg".
template <class F>
void for_each_pair(std::string_view line, F&& f) {
  std::size_t i = 0;
  std::string message;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') {
      ++i;
    }
    std::size_t key_start = i;
    while (i < line.size() && line[i] != '=' && line[i] != ' ') {
      ++i;
    }
    if (i >= line.size() || line[i] == ' ') {
      if (i > key_start) {
        if (!message.empty()) {
          message.push_back(' ');
        }
        message.append(line.substr(key_start, i - key_start));
      }
      continue;
    }
    std::string_view key = line.substr(key_start, i - key_start);
    ++i;  // '='
    std::string value;
    if (i < line.size() && line[i] == '"') {
      ++i;
      while (i < line.size() && line[i] != '"') {
        if (line[i] == '\\' && i + 1 < line.size()) {
          ++i;
          value.push_back(line[i] == 'n' ? '\n' : line[i]);
        } else {
          value.push_back(line[i]);
        }
        ++i;
      }
      ++i;  // closing quote
    } else {
      std::size_t v_start = i;
      while (i < line.size() && line[i] != ' ') {
        ++i;
      }
      value.assign(line.substr(v_start, i - v_start));
    }
    f(key, std::string_view(value));
  }
  if (!message.empty()) {
    f("msg", std::string_view(message));
  }
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string out = "{\"ts\":";
    auto secs = std::chrono::duration_cast<std::chrono::microseconds>(msg.time.time_since_epoch());
    out += std::to_string(secs.count() / 1000000);
    out.push_back('.');
    auto frac = std::to_string(secs.count() % 1000000);
    out.append(6 - frac.size(), '0');
    out += frac;
    out += ",\"level\":";
    auto level = spdlog::level::to_string_view(msg.level);
    append_json_string(out, std::string_view(level.data(), level.size()));
    for_each_pair(std::string_view(msg.payload.data(), msg.payload.size()),
                  [&](std::string_view k, std::string_view v) {
                    out.push_back(',');
                    append_json_string(out, k);
                    out.push_back(':');
                    append_json_string(out, v);
                  });
    out += "}\n";
    dest.append(out.data(), out.data() + out.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

// The sink takes its mutex to swap formatters, so this is safe while other threads log.
void set_format(spdlog::logger& logger, std::string_view format) {
  if (format == "json") {
    logger.set_formatter(std::make_unique<JsonFormatter>());
  } else {
    logger.set_pattern("%Y-%m-%dT%H:%M:%S.%eZ level=%l %v", spdlog::pattern_time_type::utc);
  }
}

void keep_command_line(std::string_view key, std::string_view running, std::string_view configured,
                       std::string_view option) {
  spdlog::warn("event=log_setting_kept key={} running={} configured={} reason={}", key,
               log_value(running), log_value(configured),
               log_value(std::string(option) + " on the command line outranks the file"));
}

}  // namespace

bool setup_logging(std::string_view level, std::string_view format) {
  auto parsed = spdlog::level::from_str(std::string(level));
  // from_str maps unknown names to "off"; only accept "off" when it was asked for.
  if (parsed == spdlog::level::off && level != "off") {
    return false;
  }
  spdlog::drop("switchyard");
  auto logger = spdlog::stderr_logger_mt("switchyard");
  set_format(*logger, format);
  logger->set_level(parsed);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return true;
}

void apply_log_changes(const config::LogConfig& before, const config::LogConfig& after,
                       const LogOverrides& overrides) {
  auto logger = spdlog::default_logger();
  if (before.level != after.level) {
    if (!overrides.level) {
      // The loader accepts spdlog's level names only.
      logger->set_level(spdlog::level::from_str(after.level));
    } else if (*overrides.level != after.level) {
      keep_command_line("log.level", *overrides.level, after.level, "--log-level");
    }
  }
  const auto format = config::to_string(after.format);
  if (before.format != after.format) {
    if (!overrides.format) {
      set_format(*logger, format);
    } else if (*overrides.format != format) {
      keep_command_line("log.format", *overrides.format, format, "--log-format");
    }
  }
}

std::string log_value(std::string_view value) {
  bool plain = !value.empty();
  for (char c : value) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      plain = false;
      break;
    }
  }
  if (plain) {
    return std::string(value);
  }
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace switchyard::proxy
