#include "proxy/admin_pages.hpp"

#include <cstdio>
#include <ctime>

#include "config/json_string.hpp"

namespace switchyard::proxy {
namespace {

using config::json_string;

std::string json_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    out += (i == 0 ? "" : ",") + json_string(items[i]);
  }
  return out + "]";
}

std::string json_time(std::chrono::system_clock::time_point time) {
  auto text = format_utc(time);
  return text.empty() ? "null" : json_string(text);
}

}  // namespace

std::string format_utc(std::chrono::system_clock::time_point time) {
  if (time.time_since_epoch().count() == 0) {
    return "";
  }
  auto seconds = std::chrono::system_clock::to_time_t(time);
  auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()) % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis.count()));
  return buffer;
}

std::string config_page(const Snapshot& snapshot, const ReloadStatus& last_reload, bool draining,
                        const CatalogCheckStatus& catalog_check,
                        const GenerationCensus::Older& older) {
  std::string out = "{\"generation\":" + std::to_string(snapshot.generation);
  out += ",\"draining\":";
  out += draining ? "true" : "false";
  out += ",\"flags\":{";
  if (snapshot.config) {
    bool first = true;
    for (const auto& m : snapshot.config->migrations) {
      out += (first ? "" : ",") + json_string(m.name) +
             ":{\"writes\":" + json_string(config::to_string(m.writes)) +
             ",\"reads\":" + json_string(config::to_string(m.reads)) +
             ",\"on_unsupported\":" + json_string(config::to_string(m.on_unsupported)) + "}";
      first = false;
    }
  }
  out += "},\"warnings\":[";
  for (std::size_t i = 0; i < snapshot.warnings.size(); ++i) {
    out += (i == 0 ? "{\"migration\":" : ",{\"migration\":") +
           json_string(snapshot.warnings[i].migration) +
           ",\"message\":" + json_string(snapshot.warnings[i].message) + "}";
  }
  out += "],\"last_reload\":{\"result\":" + json_string(to_string(last_reload.result));
  out += ",\"trigger\":" +
         (last_reload.trigger.empty() ? std::string("null") : json_string(last_reload.trigger));
  out += ",\"time\":" + json_time(last_reload.time);
  out += ",\"generation\":" + std::to_string(last_reload.generation);
  out += ",\"errors\":" + json_list(last_reload.errors);
  out += ",\"changes\":" + json_list(last_reload.changes);
  out += ",\"last_success\":" + json_time(last_reload.last_success);
  out += ",\"retry_at\":" + json_time(last_reload.retry_at);
  const bool checked = catalog_check.time.time_since_epoch().count() != 0;
  out += "},\"catalog_check\":{\"result\":";
  out += !catalog_check.on             ? "\"off\""
         : !checked                    ? "\"none\""
         : catalog_check.error.empty() ? "\"ok\""
                                       : "\"failed\"";
  out += ",\"time\":" + json_time(catalog_check.time);
  out += ",\"error\":" +
         (catalog_check.error.empty() ? std::string("null") : json_string(catalog_check.error));
  out += ",\"last_change\":" + json_time(catalog_check.changed);
  out += "},\"sessions_on_old_generation\":" + std::to_string(older.sessions);
  out += ",\"oldest_session_generation\":" +
         (older.oldest ? std::to_string(*older.oldest) : std::string("null"));
  out += ",\"config\":";
  out += snapshot.config ? config::to_redacted_json(*snapshot.config) : std::string("null");
  return out + "}\n";
}

}  // namespace switchyard::proxy
