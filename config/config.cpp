#include "config/config.hpp"

#include <ostream>

#include "config/diagnostics.hpp"

namespace switchyard::config {

std::string_view to_string(TlsMode mode) {
  switch (mode) {
    case TlsMode::disable:
      return "disable";
    case TlsMode::prefer:
      return "prefer";
    case TlsMode::require:
      return "require";
    case TlsMode::verify_full:
      return "verify-full";
  }
  return "?";
}

std::string_view to_string(Writes writes) {
  switch (writes) {
    case Writes::old_column:
      return "old";
    case Writes::both:
      return "both";
    case Writes::new_column:
      return "new";
  }
  return "?";
}

std::string_view to_string(Reads reads) {
  switch (reads) {
    case Reads::old_column:
      return "old";
    case Reads::new_column:
      return "new";
  }
  return "?";
}

std::string_view to_string(OnUnsupported policy) {
  switch (policy) {
    case OnUnsupported::reject:
      return "reject";
    case OnUnsupported::passthrough:
      return "passthrough";
  }
  return "?";
}

std::string_view to_string(WorkerScheduling scheduling) {
  switch (scheduling) {
    case WorkerScheduling::batch:
      return "batch";
    case WorkerScheduling::normal:
      return "normal";
  }
  return "?";
}

std::string_view to_string(LogFormat format) {
  switch (format) {
    case LogFormat::text:
      return "text";
    case LogFormat::json:
      return "json";
  }
  return "?";
}

std::string Endpoint::unix_socket_path() const {
  return (host == "/" ? std::string() : host) + "/.s.PGSQL." + std::to_string(port);
}

std::string Endpoint::to_string() const {
  if (is_unix()) {
    return unix_socket_path();
  }
  // A colon in the host can only be an IPv6 literal, which needs brackets to keep the port
  // separable.
  if (host.find(':') != std::string::npos) {
    return "[" + host + "]:" + std::to_string(port);
  }
  return host + ":" + std::to_string(port);
}

std::string Secret::to_string() const { return "<redacted>"; }

std::ostream& operator<<(std::ostream& out, const Secret& secret) {
  return out << secret.to_string();
}

const Migration* Config::find_migration(std::string_view name) const {
  for (const Migration& migration : migrations) {
    if (migration.name == name) {
      return &migration;
    }
  }
  return nullptr;
}

std::string Config::effective_database(const Migration& migration) const {
  return migration.database.empty() ? upstream.database : migration.database;
}

ConfigError Config::error_at(std::string key, std::string message) const {
  const KeyPosition at = detail::nearest_position(positions, key);
  return ConfigError{source, at.line, at.column, std::move(key), std::move(message)};
}

std::string Config::key_of(const Migration& migration) const {
  const auto index = static_cast<std::size_t>(&migration - migrations.data());
  return "migration[" + std::to_string(index) + "]";
}

std::string format_error(const ConfigError& error) {
  std::string out;
  if (!error.file.empty()) {
    out += error.file;
  }
  if (error.line > 0) {
    if (!out.empty()) {
      out += ':';
    }
    out += std::to_string(error.line);
    if (error.column > 0) {
      out += ':' + std::to_string(error.column);
    }
  }
  if (!error.key.empty()) {
    if (!out.empty()) {
      out += ": ";
    }
    out += error.key;
  }
  if (!out.empty()) {
    out += ": ";
  }
  out += error.message;
  return out;
}

}  // namespace switchyard::config
