#pragma once

// The immutable configuration snapshot of Switchyard and the functions that load it.
// DESIGN.md §2 describes the file format; this header is the only view the rest of the
// program has of it (toml++ stays inside the loader).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::config {

/// How Switchyard connects to the upstream server: "disable" | "prefer" | "require" |
/// "verify-full" (libpq's sslmode names).
enum class TlsMode { disable, prefer, require, verify_full };
/// Which columns a write of the migrated column fills: "old" | "both" | "new" (DESIGN.md §3).
enum class Writes { old_column, both, new_column };
/// Which column reads are served from: "old" | "new" (DESIGN.md §3).
enum class Reads { old_column, new_column };
/// What happens to a write that cannot be rewritten: "reject" | "passthrough".
enum class OnUnsupported { reject, passthrough };
/// Log line format: "text" | "json".
enum class LogFormat { text, json };
/// How the kernel schedules worker threads: "batch" (SCHED_BATCH) | "normal" (SCHED_OTHER).
enum class WorkerScheduling { batch, normal };

/// The spelling used in the TOML file, e.g. "verify-full", "old", "passthrough".
std::string_view to_string(TlsMode mode);
std::string_view to_string(Writes writes);
std::string_view to_string(Reads reads);
std::string_view to_string(OnUnsupported policy);
std::string_view to_string(LogFormat format);
std::string_view to_string(WorkerScheduling scheduling);

/// A TCP endpoint. `host` is stored without IPv6 brackets ("::1"), as a name or a literal.
struct Endpoint {
  std::string host;
  std::uint16_t port = 0;

  /// An upstream reached through a unix socket: `host` is the socket's directory, as in
  /// libpq's host parameter, and `port` names the socket file in it.
  bool is_unix() const { return host.starts_with('/'); }
  /// "<directory>/.s.PGSQL.<port>": the file Postgres creates for a unix socket.
  std::string unix_socket_path() const;

  /// "127.0.0.1:6432", "[::1]:6432", "localhost:5432"; a unix socket's file path.
  std::string to_string() const;
  bool operator==(const Endpoint&) const = default;
};

/// A value that must never reach a log line, an error message or the admin endpoint.
struct Secret {
  std::string value;

  bool empty() const { return value.empty(); }
  /// Always "<redacted>", so that printing a Secret by mistake leaks nothing.
  std::string to_string() const;
  /// Same as to_string(); spelled out where the intent is worth reading.
  std::string redacted() const { return to_string(); }
  bool operator==(const Secret&) const = default;
};
/// Prints "<redacted>" (keeps test failure output and stray log statements safe).
std::ostream& operator<<(std::ostream& out, const Secret& secret);

/// "[listen]": where clients connect. Required.
struct ListenConfig {
  Endpoint address;  ///< Port 0 asks the OS for a free port (useful in tests).
  /// Also listen on the unix socket `<directory>/.s.PGSQL.<port>`, where libpq looks for it
  /// (`host=<directory> port=<port>`); "" (the default) for none. An absolute path.
  std::string unix_socket_directory;
  bool operator==(const ListenConfig&) const = default;
};

/// "[upstream]": the PostgreSQL server behind Switchyard.
struct UpstreamConfig {
  Endpoint address;  ///< Required; port 1..65535.
  TlsMode tls = TlsMode::prefer;
  /// Required when tls = verify-full. Relative paths are resolved against the directory of
  /// the config file, so the stored path is the one to open.
  std::string ca_file;
  std::string user;           ///< Switchyard's own connection (catalog, backfill, verify).
  std::string password_env;   ///< Name of an environment variable holding the password.
  std::string password_file;  ///< Or a file holding it (trailing newlines stripped).
  Secret password;            ///< Resolved at load from password_env / password_file.
  std::string database;
  /// How often the proxy reads the catalog again for the tables its rewrites use, to notice
  /// DDL made on other connections (a column added, a partition created); 0 = never.
  std::chrono::milliseconds catalog_check_interval{5000};
  static constexpr std::chrono::milliseconds kMinCatalogCheckInterval{100};
  bool operator==(const UpstreamConfig&) const = default;
};

/// "[tls]": client-facing TLS. Both files are required and were readable at load; relative
/// paths are resolved against the directory of the config file.
struct TlsConfig {
  std::string cert;
  std::string key;
  bool operator==(const TlsConfig&) const = default;
};

/// "[admin]": the HTTP endpoint (/metrics /healthz /readyz /config).
struct AdminConfig {
  /// Defaults to 127.0.0.1:9187; an address written ":9187" also means host 127.0.0.1.
  Endpoint address{"127.0.0.1", 9187};
  bool operator==(const AdminConfig&) const = default;
};

/// "[timeouts]". TOML values are "10s", "250ms", "2m", "1h" or an integer (seconds).
struct Timeouts {
  std::chrono::milliseconds startup{10000};  ///< Client must finish startup+auth within this.
  std::chrono::milliseconds connect{5000};   ///< Upstream TCP+TLS connect.
  std::chrono::milliseconds drain{30000};    ///< SIGTERM: wait this long for sessions.
  std::chrono::milliseconds idle_client{0};  ///< 0 = never.
  bool operator==(const Timeouts&) const = default;
};

/// "[log]".
struct LogConfig {
  /// One of "trace", "debug", "info", "warn", "error", "critical", "off" (spdlog's names).
  std::string level = "info";
  LogFormat format = LogFormat::text;
  bool operator==(const LogConfig&) const = default;
};

/// "[runtime]".
struct RuntimeConfig {
  /// More threads than this is a typo, not a machine.
  static constexpr unsigned kMaxThreads = 1024;
  unsigned threads = 0;  ///< 0 = the CPUs the process may use (proxy/cpu_budget.hpp).
  /// Batch: a worker woken by a packet does not preempt the task running on its CPU (often
  /// the database or the application), and finds more messages waiting when it runs.
  WorkerScheduling scheduling = WorkerScheduling::batch;
  bool operator==(const RuntimeConfig&) const = default;
};

/// One "[[migration]]": table.old_column is being replaced by table.new_column.
/// Identifiers are stored as written: a plain lowercase name (`status`) or a double-quoted
/// one (`"Order Status"`); see identifier.hpp to compare them like Postgres does.
struct Migration {
  std::string name;    ///< Unique, non-empty; used in metrics and error messages.
  std::string schema;  ///< From table = "public.users": "public".
  std::string table;   ///< "users".
  std::string old_column;
  std::string new_column;
  Writes writes = Writes::old_column;
  Reads reads = Reads::old_column;
  /// SQL expressions containing "{value}"; both set or both empty ("" = identity). An
  /// explicit "{value}" is identity for one direction.
  std::string to_new;
  std::string to_old;
  /// The old column's type as format_type() spells it ("" = from the catalog): once the
  /// column is dropped the catalog no longer has it, and reads served from the new column are
  /// cast back to it only if it is named here.
  std::string old_type;
  OnUnsupported on_unsupported = OnUnsupported::reject;
  std::string database;  ///< "" = upstream.database.
  int line = 0;          ///< Where the [[migration]] starts, for later messages.
  bool operator==(const Migration&) const = default;
};

/// Where a key was written: 1-based line and column, 0 when unknown.
struct KeyPosition {
  int line = 0;
  int column = 0;
  bool operator==(const KeyPosition&) const = default;
};

struct ConfigError;

/// The whole validated configuration. Treat it as immutable once loaded: a reload builds
/// a new one.
struct Config {
  std::string source;  ///< File path or "<string>".
  ListenConfig listen;
  UpstreamConfig upstream;
  std::optional<TlsConfig> tls;      ///< Absent: SSLRequest is answered 'N'.
  std::optional<AdminConfig> admin;  ///< Absent: no admin endpoint.
  Timeouts timeouts;
  LogConfig log;
  RuntimeConfig runtime;
  std::vector<Migration> migrations;
  /// Where each key path ("migration[0].table", "tls.cert") was written, so that what is found
  /// wrong after loading (against the catalog, in the TLS files) points at its line too.
  std::map<std::string, KeyPosition> positions;

  /// An error about `key` found after loading: placed where the key was written, else where
  /// its nearest written parent was ("migration[0]" for a key left out), as the loader places
  /// its own; format_error() gives the loader's form.
  ConfigError error_at(std::string key, std::string message) const;
  /// The key path of one of `migrations`: "migration[2]".
  std::string key_of(const Migration& migration) const;
  /// nullptr when no migration has that name.
  const Migration* find_migration(std::string_view name) const;
  /// The migration's own database, else upstream.database.
  std::string effective_database(const Migration& migration) const;
  bool operator==(const Config&) const = default;
};

/// One problem found in a config file. `line`/`column` are 1-based, 0 when unknown; `key`
/// is a path such as "upstream.tls" or "migration[1].writes" (0-based index, as toml++ paths).
struct ConfigError {
  std::string file;
  int line = 0;
  int column = 0;
  std::string key;
  std::string message;
  bool operator==(const ConfigError&) const = default;
};

/// "file:line:col: key: message", omitting the parts that are absent.
std::string format_error(const ConfigError& error);

/// Either a config (errors empty) or every error found (config empty).
struct LoadResult {
  std::optional<Config> config;
  std::vector<ConfigError> errors;
  /// load_config: the bytes it read and parsed, valid or not (nothing when unreadable), for
  /// callers that must know exactly what they loaded.
  std::optional<std::string> source_text;

  bool ok() const { return config.has_value() && errors.empty(); }
};

/// Looks up an environment variable; std::nullopt when unset.
using Environment = std::function<std::optional<std::string>(const std::string&)>;

/// Whether loading reads the upstream password. The tools that never connect (`check
/// --offline`, `rewrite --offline`) skip it, so that a config can be checked, or a rewrite
/// tried, where its secret is not available.
enum class PasswordLookup { load, skip };

/// Parses and validates TOML text. `source` names it in errors; when it is a path (not
/// "<...>"), relative file paths in the config are resolved against its directory.
/// `environment` defaults to the process environment (getenv). Never throws on bad input.
LoadResult parse_config(std::string_view text, std::string_view source = "<string>",
                        Environment environment = {},
                        PasswordLookup password = PasswordLookup::load);

/// Reads and parses a file. An unreadable file (missing, a directory, no permission) gives
/// exactly one error naming it.
LoadResult load_config(const std::filesystem::path& path, Environment environment = {},
                       PasswordLookup password = PasswordLookup::load);

/// JSON text of the effective config with secrets redacted (for the admin /config endpoint).
std::string to_redacted_json(const Config& config);

}  // namespace switchyard::config
