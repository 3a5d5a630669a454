// The effective config as JSON for the admin /config endpoint. Secrets appear only as
// "<redacted>" (or null when unset), so the output is safe to serve and to log.

#include <string>

#include "config/config.hpp"
#include "config/json_string.hpp"
#include "config/values.hpp"

namespace switchyard::config {
namespace {

class JsonWriter {
 public:
  void begin_object() {
    comma();
    out_ += '{';
    first_ = true;
  }
  void end_object() {
    out_ += '}';
    first_ = false;
  }
  void begin_array(std::string_view key) {
    write_key(key);
    out_ += '[';
    first_ = true;
  }
  void end_array() {
    out_ += ']';
    first_ = false;
  }
  void key(std::string_view name) { write_key(name); }
  void string(std::string_view key, std::string_view value) {
    write_key(key);
    write_string(value);
  }
  void optional_string(std::string_view key, std::string_view value) {
    if (value.empty()) {
      null(key);
    } else {
      string(key, value);
    }
  }
  void number(std::string_view key, long long value) {
    write_key(key);
    out_ += std::to_string(value);
    first_ = false;
  }
  void null(std::string_view key) {
    write_key(key);
    out_ += "null";
    first_ = false;
  }
  std::string take() { return std::move(out_); }

 private:
  void comma() {
    if (!first_) {
      out_ += ',';
    }
    first_ = false;
  }
  void write_key(std::string_view key) {
    comma();
    write_string(key);
    out_ += ':';
    // The value follows the key directly; begin_object must not add another comma.
    first_ = true;
  }
  void write_string(std::string_view value) {
    append_json_string(out_, value);
    first_ = false;
  }

  std::string out_;
  bool first_ = true;
};

}  // namespace

std::string to_redacted_json(const Config& config) {
  JsonWriter json;
  json.begin_object();
  json.string("source", config.source);

  json.key("listen");
  json.begin_object();
  json.string("address", config.listen.address.to_string());
  json.optional_string("unix_socket_directory", config.listen.unix_socket_directory);
  json.end_object();

  const UpstreamConfig& upstream = config.upstream;
  json.key("upstream");
  json.begin_object();
  json.string("address", upstream.address.to_string());
  json.string("tls", to_string(upstream.tls));
  json.optional_string("ca_file", upstream.ca_file);
  json.optional_string("user", upstream.user);
  json.optional_string("password_env", upstream.password_env);
  json.optional_string("password_file", upstream.password_file);
  // Whether a password is configured is useful to see; the password itself never is.
  json.optional_string("password", upstream.password.empty() ? "" : upstream.password.redacted());
  json.optional_string("database", upstream.database);
  json.string("catalog_check_interval", format_duration(upstream.catalog_check_interval));
  json.end_object();

  if (config.tls) {
    json.key("tls");
    json.begin_object();
    json.string("cert", config.tls->cert);
    json.string("key", config.tls->key);
    json.end_object();
  } else {
    json.null("tls");
  }
  if (config.admin) {
    json.key("admin");
    json.begin_object();
    json.string("address", config.admin->address.to_string());
    json.end_object();
  } else {
    json.null("admin");
  }

  json.key("timeouts");
  json.begin_object();
  json.string("startup", format_duration(config.timeouts.startup));
  json.string("connect", format_duration(config.timeouts.connect));
  json.string("drain", format_duration(config.timeouts.drain));
  json.string("idle_client", format_duration(config.timeouts.idle_client));
  json.end_object();

  json.key("log");
  json.begin_object();
  json.string("level", config.log.level);
  json.string("format", to_string(config.log.format));
  json.end_object();

  json.key("runtime");
  json.begin_object();
  json.number("threads", config.runtime.threads);
  json.string("scheduling", to_string(config.runtime.scheduling));
  json.end_object();

  json.begin_array("migrations");
  for (const Migration& m : config.migrations) {
    json.begin_object();
    json.string("name", m.name);
    json.string("table", m.schema + "." + m.table);
    json.string("old_column", m.old_column);
    json.string("new_column", m.new_column);
    json.string("writes", to_string(m.writes));
    json.string("reads", to_string(m.reads));
    json.optional_string("to_new", m.to_new);
    json.optional_string("to_old", m.to_old);
    json.optional_string("old_type", m.old_type);
    json.string("on_unsupported", to_string(m.on_unsupported));
    json.optional_string("database", config.effective_database(m));
    json.number("line", m.line);
    json.end_object();
  }
  json.end_array();

  json.end_object();
  return json.take();
}

}  // namespace switchyard::config
