#include "config/changes.hpp"

#include <map>

#include "config/diagnostics.hpp"
#include "config/values.hpp"

namespace switchyard::config {
namespace {

using detail::in_quotes;

class Differ {
 public:
  explicit Differ(std::vector<std::string>& out) : out_(out) {}

  void text(std::string_view key, std::string_view before, std::string_view after) {
    if (before != after) {
      out_.push_back(std::string(key) + ": " + shown(before) + " -> " + shown(after));
    }
  }
  void endpoint(std::string_view key, const Endpoint& before, const Endpoint& after) {
    if (before != after) {
      text(key, before.to_string(), after.to_string());
    }
  }
  void duration(std::string_view key, std::chrono::milliseconds before,
                std::chrono::milliseconds after) {
    if (before != after) {
      text(key, format_duration(before), format_duration(after));
    }
  }
  void secret(std::string_view key, const Secret& before, const Secret& after) {
    if (before != after) {
      out_.push_back(std::string(key) + " changed");
    }
  }

 private:
  static std::string shown(std::string_view value) {
    return value.empty() ? "(unset)" : in_quotes(value);
  }

  std::vector<std::string>& out_;
};

void migration_changes(const Migration& before, const Migration& after,
                       std::vector<std::string>& out) {
  const std::string prefix = "migration " + in_quotes(after.name) + ": ";
  std::vector<std::string> changes;
  Differ diff(changes);
  diff.text("table", before.schema + "." + before.table, after.schema + "." + after.table);
  diff.text("old_column", before.old_column, after.old_column);
  diff.text("new_column", before.new_column, after.new_column);
  diff.text("writes", to_string(before.writes), to_string(after.writes));
  diff.text("reads", to_string(before.reads), to_string(after.reads));
  diff.text("to_new", before.to_new, after.to_new);
  diff.text("to_old", before.to_old, after.to_old);
  diff.text("old_type", before.old_type, after.old_type);
  diff.text("on_unsupported", to_string(before.on_unsupported), to_string(after.on_unsupported));
  diff.text("database", before.database, after.database);
  for (std::string& change : changes) {
    out.push_back(prefix + change);
  }
}

}  // namespace

std::vector<std::string> describe_changes(const Config& before, const Config& after) {
  std::vector<std::string> out;
  Differ diff(out);
  diff.endpoint("listen.address", before.listen.address, after.listen.address);
  diff.text("listen.unix_socket_directory", before.listen.unix_socket_directory,
            after.listen.unix_socket_directory);

  const UpstreamConfig& a = before.upstream;
  const UpstreamConfig& b = after.upstream;
  diff.endpoint("upstream.address", a.address, b.address);
  diff.text("upstream.tls", to_string(a.tls), to_string(b.tls));
  diff.text("upstream.ca_file", a.ca_file, b.ca_file);
  diff.text("upstream.user", a.user, b.user);
  diff.text("upstream.password_env", a.password_env, b.password_env);
  diff.text("upstream.password_file", a.password_file, b.password_file);
  diff.secret("upstream.password", a.password, b.password);
  diff.text("upstream.database", a.database, b.database);
  diff.duration("upstream.catalog_check_interval", a.catalog_check_interval,
                b.catalog_check_interval);

  if (before.tls.has_value() != after.tls.has_value()) {
    out.push_back(after.tls ? "[tls] added" : "[tls] removed");
  } else if (before.tls) {
    diff.text("tls.cert", before.tls->cert, after.tls->cert);
    diff.text("tls.key", before.tls->key, after.tls->key);
  }
  if (before.admin.has_value() != after.admin.has_value()) {
    out.push_back(after.admin ? "[admin] added" : "[admin] removed");
  } else if (before.admin) {
    diff.endpoint("admin.address", before.admin->address, after.admin->address);
  }

  diff.duration("timeouts.startup", before.timeouts.startup, after.timeouts.startup);
  diff.duration("timeouts.connect", before.timeouts.connect, after.timeouts.connect);
  diff.duration("timeouts.drain", before.timeouts.drain, after.timeouts.drain);
  diff.duration("timeouts.idle_client", before.timeouts.idle_client, after.timeouts.idle_client);
  diff.text("log.level", before.log.level, after.log.level);
  diff.text("log.format", to_string(before.log.format), to_string(after.log.format));
  diff.text("runtime.threads", std::to_string(before.runtime.threads),
            std::to_string(after.runtime.threads));
  diff.text("runtime.scheduling", to_string(before.runtime.scheduling),
            to_string(after.runtime.scheduling));

  std::map<std::string_view, const Migration*> old_by_name;
  for (const Migration& m : before.migrations) {
    old_by_name.emplace(m.name, &m);
  }
  for (const Migration& m : after.migrations) {
    auto it = old_by_name.find(m.name);
    if (it == old_by_name.end()) {
      out.push_back("migration " + in_quotes(m.name) + " added");
      continue;
    }
    migration_changes(*it->second, m, out);
    old_by_name.erase(it);
  }
  for (const Migration& m : before.migrations) {
    if (old_by_name.contains(m.name)) {
      out.push_back("migration " + in_quotes(m.name) + " removed");
    }
  }
  return out;
}

}  // namespace switchyard::config
