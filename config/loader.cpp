// The only file that sees toml++: it turns a TOML document into a Config, reporting unknown
// keys, wrong types and malformed values with their positions. Checks that involve several
// keys live in validate.cpp.

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <span>
#include <string>
#include <string_view>

#include "config/diagnostics.hpp"
#include "config/identifier.hpp"
#include "config/values.hpp"

namespace switchyard::config::detail {
namespace {

Position position_of(const toml::source_region& region) {
  return {static_cast<int>(region.begin.line), static_cast<int>(region.begin.column)};
}

std::string join(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : std::string(path) + "." + std::string(key);
}

std::string_view type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time:
      return "a date/time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

template <class E>
struct Choice {
  std::string_view name;
  E value;
};

constexpr std::array kTlsModes{Choice<TlsMode>{"disable", TlsMode::disable},
                               Choice<TlsMode>{"prefer", TlsMode::prefer},
                               Choice<TlsMode>{"require", TlsMode::require},
                               Choice<TlsMode>{"verify-full", TlsMode::verify_full}};
constexpr std::array kWrites{Choice<Writes>{"old", Writes::old_column},
                             Choice<Writes>{"both", Writes::both},
                             Choice<Writes>{"new", Writes::new_column}};
constexpr std::array kReads{Choice<Reads>{"old", Reads::old_column},
                            Choice<Reads>{"new", Reads::new_column}};
constexpr std::array kPolicies{Choice<OnUnsupported>{"reject", OnUnsupported::reject},
                               Choice<OnUnsupported>{"passthrough", OnUnsupported::passthrough}};
constexpr std::array kSchedulings{Choice<WorkerScheduling>{"batch", WorkerScheduling::batch},
                                  Choice<WorkerScheduling>{"normal", WorkerScheduling::normal}};
constexpr std::array kLogFormats{Choice<LogFormat>{"text", LogFormat::text},
                                 Choice<LogFormat>{"json", LogFormat::json}};
// spdlog's level names; "warn" and "err" are its short forms, we keep one spelling each.
constexpr std::array kLogLevels{Choice<int>{"trace", 0}, Choice<int>{"debug", 1},
                                Choice<int>{"info", 2},  Choice<int>{"warn", 3},
                                Choice<int>{"error", 4}, Choice<int>{"critical", 5},
                                Choice<int>{"off", 6}};

constexpr std::array<std::string_view, 8> kSections{"listen",   "upstream", "tls",     "admin",
                                                    "timeouts", "log",      "runtime", "migration"};
constexpr std::array<std::string_view, 2> kListenKeys{"address", "unix_socket_directory"};
constexpr std::array<std::string_view, 8> kUpstreamKeys{
    "address",      "tls",           "ca_file",  "user",
    "password_env", "password_file", "database", "catalog_check_interval"};
constexpr std::array<std::string_view, 2> kTlsKeys{"cert", "key"};
constexpr std::array<std::string_view, 1> kAdminKeys{"address"};
constexpr std::array<std::string_view, 4> kTimeoutKeys{"startup", "connect", "drain",
                                                       "idle_client"};
constexpr std::array<std::string_view, 2> kLogKeys{"level", "format"};
constexpr std::array<std::string_view, 2> kRuntimeKeys{"threads", "scheduling"};
constexpr std::array<std::string_view, 11> kMigrationKeys{
    "name",   "table",  "old_column", "new_column",     "writes",  "reads",
    "to_new", "to_old", "old_type",   "on_unsupported", "database"};

// More useful than "did you mean" for keys people write by habit.
std::string habit_hint(std::string_view key) {
  if (key == "password") {
    return "; the password is never written in the config: use password_env (an environment "
           "variable) or password_file";
  }
  if (key == "host" || key == "port") {
    return "; write host and port together in address, as \"host:port\"";
  }
  return {};
}

template <class E, std::size_t N>
std::string valid_names(const std::array<Choice<E>, N>& choices) {
  std::string out;
  for (const auto& choice : choices) {
    out += (out.empty() ? "" : ", ") + in_quotes(choice.name);
  }
  return out;
}

class Reader {
 public:
  explicit Reader(Diagnostics& diagnostics) : d_(diagnostics) {}

  void read(const toml::table& root, Config& config) {
    check_keys(root, "", kSections);
    read_listen(root, config);
    read_upstream(root, config);
    read_tls(root, config);
    read_admin(root, config);
    read_timeouts(root, config);
    read_log(root, config);
    read_runtime(root, config);
    read_migrations(root, config);
  }

 private:
  // Remembers where every key of `table` is and reports the ones not in `known`.
  void check_keys(const toml::table& table, const std::string& path,
                  std::span<const std::string_view> known) {
    for (auto&& [key, node] : table) {
      const std::string name(key.str());
      d_.remember(join(path, name), position_of(node.source()));
      if (std::find(known.begin(), known.end(), name) != known.end()) {
        continue;
      }
      const bool is_section = path.empty() && node.is_table();
      std::string message =
          is_section ? "unknown section [" + name + "]" : "unknown key " + in_quotes(name);
      if (auto hint = closest_match(name, known)) {
        message += is_section ? "; did you mean [" + std::string(*hint) + "]?"
                              : "; did you mean " + in_quotes(*hint) + "?";
      } else if (std::string habit = habit_hint(name); !habit.empty()) {
        message += habit;
      } else {
        std::string list;
        for (std::string_view k : known) {
          list += (list.empty() ? "" : ", ") + std::string(k);
        }
        message += (path.empty() ? "; known sections: " : "; known keys: ") + list;
      }
      d_.add(position_of(key.source()), join(path, name), std::move(message));
    }
  }

  void wrong_type(const std::string& key, const toml::node& node, std::string_view expected) {
    d_.add(position_of(node.source()), key,
           "must be " + std::string(expected) + ", not " + std::string(type_name(node)));
  }

  // A section that must be a table when present; nullptr when absent or not a table.
  const toml::table* section(const toml::table& root, std::string_view name) {
    const toml::node* node = root.get(name);
    if (node == nullptr) {
      return nullptr;
    }
    if (!node->is_table()) {
      wrong_type(std::string(name), *node, "a table ([" + std::string(name) + "])");
      return nullptr;
    }
    return node->as_table();
  }

  bool read_string(const toml::table& table, const std::string& path, std::string_view key,
                   std::string& out) {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
      return false;
    }
    const auto* text = node->as_string();
    if (text == nullptr) {
      wrong_type(join(path, key), *node, "a string");
      return false;
    }
    if (text->get().empty()) {
      d_.add(position_of(node->source()), join(path, key),
             "must not be empty; leave the key out instead");
      return false;
    }
    out = text->get();
    return true;
  }

  template <class E, std::size_t N>
  void read_enum(const toml::table& table, const std::string& path, std::string_view key,
                 const std::array<Choice<E>, N>& choices, E& out) {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
      return;
    }
    const auto* text = node->as_string();
    if (text == nullptr) {
      wrong_type(join(path, key), *node, "a string, one of " + valid_names(choices));
      return;
    }
    for (const auto& choice : choices) {
      if (choice.name == text->get()) {
        out = choice.value;
        return;
      }
    }
    std::array<std::string_view, N> names;
    for (std::size_t i = 0; i < N; ++i) {
      names[i] = choices[i].name;
    }
    std::string message =
        in_quotes(text->get()) + " is not valid; valid values: " + valid_names(choices);
    if (auto hint = closest_match(text->get(), names)) {
      message += " (did you mean " + in_quotes(*hint) + "?)";
    }
    d_.add(position_of(node->source()), join(path, key), std::move(message));
  }

  void read_endpoint(const toml::table& table, const std::string& path, Endpoint& out,
                     bool allow_port_zero, std::string_view default_host = {}) {
    std::string text;
    if (!read_string(table, path, "address", text)) {
      return;
    }
    auto parsed = path == "upstream" ? parse_upstream_address(text)
                                     : parse_endpoint(text, allow_port_zero, default_host);
    if (!parsed) {
      d_.add(join(path, "address"), in_quotes(text) + ": " + parsed.error);
      return;
    }
    out = std::move(*parsed.value);
  }

  void read_duration(const toml::table& table, const std::string& path, std::string_view key,
                     std::chrono::milliseconds& out, bool allow_zero) {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
      return;
    }
    const std::string name = join(path, key);
    Parsed<std::chrono::milliseconds> parsed;
    if (const auto* seconds = node->as_integer()) {
      // A bare integer is seconds; reuse the string parser for its range checks.
      parsed = seconds->get() < 0 ? Parsed<std::chrono::milliseconds>{std::nullopt,
                                                                      "a duration cannot be "
                                                                      "negative"}
                                  : parse_duration(std::to_string(seconds->get()) + "s");
    } else if (const auto* text = node->as_string()) {
      parsed = parse_duration(text->get());
    } else {
      wrong_type(name, *node, "a duration such as \"10s\" or \"250ms\", or an integer (seconds)");
      return;
    }
    if (!parsed) {
      d_.add(position_of(node->source()), name, parsed.error);
      return;
    }
    if (!allow_zero && parsed.value->count() == 0) {
      d_.add(position_of(node->source()), name, "must be greater than zero");
      return;
    }
    out = *parsed.value;
  }

  void read_listen(const toml::table& root, Config& config) {
    const toml::table* listen = section(root, "listen");
    if (listen == nullptr) {
      return;
    }
    check_keys(*listen, "listen", kListenKeys);
    read_endpoint(*listen, "listen", config.listen.address, /*allow_port_zero=*/true);
    std::string& directory = config.listen.unix_socket_directory;
    if (read_string(*listen, "listen", "unix_socket_directory", directory)) {
      // A unix socket's path fits in sockaddr_un's 108 bytes, with its NUL.
      constexpr std::size_t kLongestSocketPath = 107;
      const std::size_t longest = directory.size() + std::string_view("/.s.PGSQL.65535").size();
      if (directory.front() != '/') {
        d_.add(join("listen", "unix_socket_directory"),
               in_quotes(directory) + " is not an absolute path (e.g. \"/var/run/switchyard\")");
        directory.clear();
      } else if (longest > kLongestSocketPath) {
        d_.add(join("listen", "unix_socket_directory"),
               in_quotes(directory) + " is too long: the socket's path would be up to " +
                   std::to_string(longest) + " bytes, and a unix socket's path is at most " +
                   std::to_string(kLongestSocketPath));
        directory.clear();
      }
    }
  }

  void read_upstream(const toml::table& root, Config& config) {
    const toml::table* upstream = section(root, "upstream");
    if (upstream == nullptr) {
      return;
    }
    const std::string path = "upstream";
    UpstreamConfig& out = config.upstream;
    check_keys(*upstream, path, kUpstreamKeys);
    read_endpoint(*upstream, path, out.address, /*allow_port_zero=*/false);
    read_enum(*upstream, path, "tls", kTlsModes, out.tls);
    if (out.address.is_unix() && (out.tls == TlsMode::require || out.tls == TlsMode::verify_full)) {
      d_.add(join(path, "tls"),
             in_quotes(std::string(to_string(out.tls))) +
                 " cannot hold: Postgres does not offer TLS on a unix socket (address is " +
                 out.address.to_string() +
                 "); valid there: \"disable\" or \"prefer\", which connects without TLS");
    }
    read_string(*upstream, path, "ca_file", out.ca_file);
    read_string(*upstream, path, "user", out.user);
    read_string(*upstream, path, "password_env", out.password_env);
    read_string(*upstream, path, "password_file", out.password_file);
    read_string(*upstream, path, "database", out.database);
    read_duration(*upstream, path, "catalog_check_interval", out.catalog_check_interval,
                  /*allow_zero=*/true);
    // Each check is a few catalog queries: more often than this only loads the server.
    if (const auto interval = out.catalog_check_interval;
        interval.count() > 0 && interval < UpstreamConfig::kMinCatalogCheckInterval) {
      d_.add(position_of(upstream->get("catalog_check_interval")->source()),
             join(path, "catalog_check_interval"),
             "at least " + format_duration(UpstreamConfig::kMinCatalogCheckInterval) +
                 " (a check reads the catalog on the server), or 0 to turn the check off");
    }
  }

  void read_tls(const toml::table& root, Config& config) {
    const toml::table* tls = section(root, "tls");
    if (tls == nullptr) {
      return;
    }
    check_keys(*tls, "tls", kTlsKeys);
    TlsConfig out;
    read_string(*tls, "tls", "cert", out.cert);
    read_string(*tls, "tls", "key", out.key);
    config.tls = std::move(out);
  }

  void read_admin(const toml::table& root, Config& config) {
    const toml::table* admin = section(root, "admin");
    if (admin == nullptr) {
      return;
    }
    check_keys(*admin, "admin", kAdminKeys);
    AdminConfig out;
    read_endpoint(*admin, "admin", out.address, /*allow_port_zero=*/true, "127.0.0.1");
    config.admin = std::move(out);
  }

  void read_timeouts(const toml::table& root, Config& config) {
    const toml::table* timeouts = section(root, "timeouts");
    if (timeouts == nullptr) {
      return;
    }
    const std::string path = "timeouts";
    check_keys(*timeouts, path, kTimeoutKeys);
    read_duration(*timeouts, path, "startup", config.timeouts.startup, /*allow_zero=*/false);
    read_duration(*timeouts, path, "connect", config.timeouts.connect, /*allow_zero=*/false);
    read_duration(*timeouts, path, "drain", config.timeouts.drain, /*allow_zero=*/true);
    read_duration(*timeouts, path, "idle_client", config.timeouts.idle_client,
                  /*allow_zero=*/true);
  }

  void read_log(const toml::table& root, Config& config) {
    const toml::table* log = section(root, "log");
    if (log == nullptr) {
      return;
    }
    check_keys(*log, "log", kLogKeys);
    int level = -1;
    read_enum(*log, "log", "level", kLogLevels, level);
    if (level >= 0) {
      config.log.level = std::string(kLogLevels[static_cast<std::size_t>(level)].name);
    }
    read_enum(*log, "log", "format", kLogFormats, config.log.format);
  }

  void read_runtime(const toml::table& root, Config& config) {
    const toml::table* runtime = section(root, "runtime");
    if (runtime == nullptr) {
      return;
    }
    check_keys(*runtime, "runtime", kRuntimeKeys);
    read_enum(*runtime, "runtime", "scheduling", kSchedulings, config.runtime.scheduling);
    const toml::node* node = runtime->get("threads");
    if (node == nullptr) {
      return;
    }
    constexpr std::int64_t kMaxThreads = config::RuntimeConfig::kMaxThreads;
    const auto* threads = node->as_integer();
    if (threads == nullptr) {
      wrong_type("runtime.threads", *node, "an integer (0 = one per usable CPU)");
    } else if (threads->get() < 0 || threads->get() > kMaxThreads) {
      d_.add(position_of(node->source()), "runtime.threads",
             std::to_string(threads->get()) +
                 " is out of range; valid: 0 (one per usable CPU) to " +
                 std::to_string(kMaxThreads));
    } else {
      config.runtime.threads = static_cast<unsigned>(threads->get());
    }
  }

  void read_migrations(const toml::table& root, Config& config) {
    const toml::node* node = root.get("migration");
    if (node == nullptr) {
      return;
    }
    const auto* list = node->as_array();
    if (list == nullptr) {
      d_.add(position_of(node->source()), "migration",
             node->is_table() ? "must be an array of tables: write [[migration]] (double "
                                "brackets), once per migration"
                              : "must be an array of tables: write [[migration]] (double "
                                "brackets), once per migration, not " +
                                    std::string(type_name(*node)));
      return;
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
      const toml::node& element = *list->get(i);
      const std::string path = "migration[" + std::to_string(i) + "]";
      d_.remember(path, position_of(element.source()));
      Migration migration;
      migration.line = position_of(element.source()).line;
      if (const auto* table = element.as_table()) {
        read_migration(*table, path, migration);
      } else {
        wrong_type(path, element, "a table");
      }
      config.migrations.push_back(std::move(migration));
    }
  }

  void read_migration(const toml::table& table, const std::string& path, Migration& out) {
    check_keys(table, path, kMigrationKeys);
    read_string(table, path, "name", out.name);
    std::string qualified;
    if (read_string(table, path, "table", qualified)) {
      read_table_name(path, qualified, out);
    }
    read_column(table, path, "old_column", out.old_column);
    read_column(table, path, "new_column", out.new_column);
    read_enum(table, path, "writes", kWrites, out.writes);
    read_enum(table, path, "reads", kReads, out.reads);
    read_conversion(table, path, "to_new", out.to_new);
    read_conversion(table, path, "to_old", out.to_old);
    read_string(table, path, "old_type", out.old_type);
    read_enum(table, path, "on_unsupported", kPolicies, out.on_unsupported);
    read_string(table, path, "database", out.database);
  }

  void read_table_name(const std::string& path, const std::string& qualified, Migration& out) {
    const std::string key = join(path, "table");
    auto parts = split_qualified_name(qualified);
    if (!parts) {
      d_.add(key, parts.error);
      return;
    }
    if (parts.value->size() == 1) {
      d_.add(key, in_quotes(qualified) + " is not schema-qualified; write \"schema.table\", e.g. " +
                      in_quotes("public." + qualified) +
                      " (an unqualified table could be any schema on a search_path)");
      return;
    }
    if (parts.value->size() != 2) {
      d_.add(key, in_quotes(qualified) +
                      " has too many parts; write \"schema.table\" (set the migration's database "
                      "with database = \"...\")");
      return;
    }
    out.schema = (*parts.value)[0];
    out.table = (*parts.value)[1];
  }

  void read_column(const toml::table& table, const std::string& path, std::string_view key,
                   std::string& out) {
    std::string written;
    if (!read_string(table, path, key, written)) {
      return;
    }
    auto checked = parse_identifier(written);
    if (!checked) {
      d_.add(join(path, key), checked.error);
      return;
    }
    out = std::move(written);
  }

  void read_conversion(const toml::table& table, const std::string& path, std::string_view key,
                       std::string& out) {
    std::string expression;
    if (!read_string(table, path, key, expression)) {
      return;
    }
    if (expression.find("{value}") == std::string::npos) {
      d_.add(join(path, key), "must contain {value}, where the value being converted goes, e.g. " +
                                  in_quotes("CAST({value} AS integer)"));
      return;
    }
    out = std::move(expression);
  }

  Diagnostics& d_;
};

}  // namespace

bool read_toml(std::string_view text, Config& config, Diagnostics& diagnostics) {
  toml::table root;
#if TOML_EXCEPTIONS
  try {
    root = toml::parse(text);
  } catch (const toml::parse_error& error) {
    diagnostics.add(position_of(error.source()), "",
                    "invalid TOML: " + std::string(error.description()));
    return false;
  }
#else
  toml::parse_result parsed = toml::parse(text);
  if (!parsed) {
    diagnostics.add(position_of(parsed.error().source()), "",
                    "invalid TOML: " + std::string(parsed.error().description()));
    return false;
  }
  root = std::move(parsed).table();
#endif
  Reader(diagnostics).read(root, config);
  return true;
}

}  // namespace switchyard::config::detail
