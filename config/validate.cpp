// Checks that involve more than one key, the files the config names, and the password.
// Everything here works on the Config the reader produced plus the positions it recorded;
// keys the reader already complained about are skipped so one mistake gives one error.

#include <cerrno>
#include <cstdio>
#include <map>
#include <set>
#include <system_error>
#include <tuple>

#include "config/diagnostics.hpp"
#include "config/identifier.hpp"

namespace switchyard::config::detail {
namespace {

std::string resolve(const std::filesystem::path& base_dir, const std::string& path) {
  const std::filesystem::path given(path);
  if (base_dir.empty() || given.is_absolute()) {
    return path;
  }
  return (base_dir / given).string();
}

// Reports a required key that was not written (unless its section was already reported).
bool require(Diagnostics& d, const std::string& section, const std::string& key,
             const std::string& why) {
  const std::string full = section + "." + key;
  if (d.present(full)) {
    return true;
  }
  if (!d.failed(section)) {
    d.add(full, "required: " + why);
  }
  return false;
}

// Resolves and checks a file named in the config; `contents` as in file_problem.
void check_file(Diagnostics& d, const std::string& key, const std::filesystem::path& base_dir,
                std::string& path, std::string* contents = nullptr) {
  if (!d.usable(key)) {
    return;
  }
  path = resolve(base_dir, path);
  if (auto problem = file_problem(path, contents)) {
    d.add(key, "cannot read " + in_quotes(path) + ": " + *problem);
  }
}

void check_upstream(Config& config, Diagnostics& d, const Environment& environment,
                    const std::filesystem::path& base_dir, PasswordLookup password) {
  UpstreamConfig& upstream = config.upstream;
  require(d, "upstream", "address",
          "the PostgreSQL server to forward to, e.g. address = \"127.0.0.1:5432\" in [upstream]");
  if (upstream.tls == TlsMode::verify_full && d.usable("upstream.tls") &&
      !d.present("upstream.ca_file")) {
    d.add("upstream.tls",
          "\"verify-full\" needs ca_file, the CA certificate(s) to verify the server against");
  }
  check_file(d, "upstream.ca_file", base_dir, upstream.ca_file);

  const bool from_env = d.usable("upstream.password_env");
  const bool from_file = d.usable("upstream.password_file");
  if (d.present("upstream.password_env") && d.present("upstream.password_file")) {
    d.add("upstream.password_file",
          "password_env and password_file are both set; keep one of them");
    return;
  }
  if (password == PasswordLookup::skip) {
    return;
  }
  if (from_env) {
    const auto value = environment(upstream.password_env);
    if (!value) {
      d.add("upstream.password_env",
            "environment variable " + upstream.password_env + " is not set");
    } else if (value->empty()) {
      d.add("upstream.password_env",
            "environment variable " + upstream.password_env + " is set but empty");
    } else {
      upstream.password.value = *value;
    }
  }
  if (from_file) {
    std::string contents;
    check_file(d, "upstream.password_file", base_dir, upstream.password_file, &contents);
    if (d.failed("upstream.password_file")) {
      return;
    }
    // Editors and `echo` leave a newline that is not part of the password.
    while (!contents.empty() && (contents.back() == '\n' || contents.back() == '\r')) {
      contents.pop_back();
    }
    if (contents.empty()) {
      d.add("upstream.password_file", in_quotes(upstream.password_file) + " is empty");
    } else {
      upstream.password.value = std::move(contents);
    }
  }
}

void check_tls(Config& config, Diagnostics& d, const std::filesystem::path& base_dir) {
  if (!config.tls) {
    return;
  }
  require(d, "tls", "cert", "the server certificate (PEM) presented to clients, with key");
  require(d, "tls", "key", "the private key (PEM) of cert");
  check_file(d, "tls.cert", base_dir, config.tls->cert);
  check_file(d, "tls.key", base_dir, config.tls->key);
}

// One migration on its own: required keys and how its flags combine.
void check_migration(const Migration& m, const std::string& path, Diagnostics& d) {
  require(d, path, "name", "a unique name for metrics and messages, e.g. \"users-status\"");
  require(d, path, "table", "the schema-qualified table, e.g. \"public.users\"");
  require(d, path, "old_column", "the column being replaced");
  require(d, path, "new_column", "the column replacing it");

  if (d.usable(path + ".old_column") && d.usable(path + ".new_column") &&
      identifier_name(m.old_column) == identifier_name(m.new_column)) {
    d.add(path + ".new_column", "is the same column as old_column (" + m.old_column +
                                    "); a migration maps one column to another");
  }
  if (m.writes == Writes::new_column && m.reads == Reads::old_column &&
      !d.failed(path + ".writes") && !d.failed(path + ".reads")) {
    d.add(path + ".writes",
          "writes = \"new\" with reads = \"old\" is invalid: the old column would stop being "
          "written while reads still come from it, so reads would go stale; switch reads to "
          "\"new\" first, or keep writes = \"both\"");
  }
  // Both or neither: with only one set, the other direction would silently be the identity,
  // which for a type change writes or reads values of the wrong type.
  const bool has_new = d.present(path + ".to_new");
  const bool has_old = d.present(path + ".to_old");
  if (has_new != has_old) {
    const std::string missing = has_new ? "to_old" : "to_new";
    const std::string given = has_new ? "to_new" : "to_old";
    d.add(path + "." + given,
          given + " is set without " + missing +
              "; set both (writes = \"both\" converts each way and reads = \"new\" uses "
              "to_old), writing " +
              missing + " = \"{value}\" if that direction needs no conversion");
  }
}

void check_migrations(Config& config, Diagnostics& d) {
  std::map<std::string, std::size_t> names;
  // (database, schema, table, column) as Postgres names them -> index of the migration.
  std::map<std::tuple<std::string, std::string, std::string, std::string>, std::size_t> columns;
  bool need_database = false;
  for (std::size_t i = 0; i < config.migrations.size(); ++i) {
    const Migration& m = config.migrations[i];
    const std::string path = "migration[" + std::to_string(i) + "]";
    if (d.failed(path)) {
      continue;
    }
    check_migration(m, path, d);
    if (!d.present(path + ".database")) {
      need_database = true;
    }
    if (d.usable(path + ".name")) {
      auto [it, inserted] = names.emplace(m.name, i);
      if (!inserted) {
        const Migration& first = config.migrations[it->second];
        d.add(path + ".name", in_quotes(m.name) + " is already the name of migration[" +
                                  std::to_string(it->second) + "] (line " +
                                  std::to_string(first.line) + "); names must be unique");
      }
    }
    if (!d.usable(path + ".table")) {
      continue;
    }
    for (const std::string* column : {&m.old_column, &m.new_column}) {
      const std::string key = path + (column == &m.old_column ? ".old_column" : ".new_column");
      if (!d.usable(key)) {
        continue;
      }
      auto id = std::make_tuple(config.effective_database(m), identifier_name(m.schema),
                                identifier_name(m.table), identifier_name(*column));
      auto [it, inserted] = columns.emplace(id, i);
      if (!inserted && it->second != i) {
        const Migration& other = config.migrations[it->second];
        d.add(key, "column " + m.schema + "." + m.table + "." + *column +
                       " is already in migration " + in_quotes(other.name) + " (line " +
                       std::to_string(other.line) +
                       "); a column can take part in one migration at a time");
      }
    }
  }
  if (config.migrations.empty()) {
    return;
  }
  const std::string first =
      " (first migration at line " + std::to_string(config.migrations.front().line) + ")";
  if (!d.present("upstream.user") && !d.failed("upstream")) {
    d.add("upstream.user",
          "required when migrations are declared: Switchyard looks up table columns in the "
          "catalog as this user" +
              first);
  }
  if (need_database && !d.present("upstream.database") && !d.failed("upstream")) {
    d.add("upstream.database",
          "required when a migration has no database of its own: it names the database the "
          "migrations live in" +
              first);
  }
}

}  // namespace

std::optional<std::string> file_problem(const std::filesystem::path& path, std::string* contents) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return "is a directory";
  }
  errno = 0;
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return std::error_code(errno, std::generic_category()).message();
  }
  std::optional<std::string> problem;
  if (contents != nullptr) {
    // A bound, so that a device such as /dev/zero named by mistake is an error and not a
    // load (or reload) that never ends and takes all memory (found writing the config fuzz
    // target, issue 7).
    constexpr std::size_t kMaxBytes = std::size_t{1} << 20;
    char buffer[4096];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) {
      contents->append(buffer, n);
      if (contents->size() > kMaxBytes) {
        problem = "larger than 1 MiB, which no config or password file is";
        break;
      }
    }
    if (!problem && std::ferror(file) != 0) {
      problem = "read error";
    }
  }
  std::fclose(file);
  return problem;
}

void validate(Config& config, Diagnostics& d, const Environment& environment,
              const std::filesystem::path& base_dir, PasswordLookup password) {
  require(d, "listen", "address",
          "the address clients connect to, e.g. address = \"0.0.0.0:6432\" in [listen]");
  check_upstream(config, d, environment, base_dir, password);
  check_tls(config, d, base_dir);
  check_migrations(config, d);
}

}  // namespace switchyard::config::detail
