#include "backfill/pg_connection.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace switchyard::backfill {
namespace {

std::string_view sslmode(config::TlsMode mode) {
  switch (mode) {
    case config::TlsMode::disable:
      return "disable";
    case config::TlsMode::prefer:
      return "prefer";
    case config::TlsMode::require:
      return "require";
    case config::TlsMode::verify_full:
      return "verify-full";
  }
  return "prefer";
}

std::string trim_trailing(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

// A result that is not a success becomes a DbError; a null result means libpq itself failed
// (out of memory or the connection broke before a result arrived).
std::variant<PgResult, DbError> checked(PGconn* connection, PGresult* result) {
  if (result == nullptr) {
    return DbError{"", trim_trailing(PQerrorMessage(connection))};
  }
  auto status = PQresultStatus(result);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    return PgResult(result);
  }
  const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  DbError error{state ? state : "",
                primary ? primary : trim_trailing(PQresultErrorMessage(result))};
  if (error.message.empty()) {
    error.message = trim_trailing(PQerrorMessage(connection));
  }
  PQclear(result);
  return error;
}

// libpq keeps the SQLSTATE of an error that ends the startup to itself; with verbose errors
// it writes it into the message ("FATAL:  3D000: database \"x\" does not exist", then a
// LOCATION line). So the connection is made the way PQconnectdbParams makes it, by
// PQconnectPoll, with the verbosity set first; split_sqlstate gives the usual message back.
// connect_timeout is PQconnectdbParams' own: here the deadline is ours, for the whole connect
// (libpq's is per address tried, which matters only for a host name of several addresses).
// Returns the connection, or null with `error` set: the verbose message, or the timeout.
PGconn* connect_verbosely(const char* const* keys, const char* const* values,
                          std::chrono::seconds timeout, std::string& error) {
  PGconn* connection = PQconnectStartParams(keys, values, 0);
  if (connection == nullptr) {
    error = "out of memory";
    return nullptr;
  }
  PQsetErrorVerbosity(connection, PQERRORS_VERBOSE);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // As libpq's documentation says: start as if the last poll asked to write.
  PostgresPollingStatusType polled =
      PQstatus(connection) == CONNECTION_BAD ? PGRES_POLLING_FAILED : PGRES_POLLING_WRITING;
  while (polled != PGRES_POLLING_OK && polled != PGRES_POLLING_FAILED) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (PQsocket(connection) < 0) {
      break;  // libpq has no socket to wait on: a failure its message explains
    }
    pollfd wait{PQsocket(connection),
                static_cast<short>(polled == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0};
    const int ready = left.count() > 0 ? ::poll(&wait, 1, static_cast<int>(left.count())) : 0;
    if (ready == 0) {
      PQfinish(connection);
      error = "timeout expired";  // libpq's words for its connect_timeout
      return nullptr;
    }
    if (ready < 0) {
      if (errno == EINTR) {
        continue;
      }
      error = std::string("could not wait for the connection: ") + std::strerror(errno);
      PQfinish(connection);
      return nullptr;
    }
    polled = PQconnectPoll(connection);
  }
  if (polled != PGRES_POLLING_OK) {
    error = PQerrorMessage(connection);
    PQfinish(connection);
    return nullptr;
  }
  return connection;
}

}  // namespace

std::pair<std::string, std::string> split_sqlstate(std::string message) {
  // "...FATAL:  3D000: database ..." (the severity is translated, the code never is).
  std::string sqlstate;
  for (std::size_t at = message.find(":  "); at != std::string::npos;
       at = message.find(":  ", at + 1)) {
    const std::size_t code = at + 3;
    if (code + 7 <= message.size() && message.compare(code + 5, 2, ": ") == 0 &&
        std::all_of(message.begin() + code, message.begin() + code + 5,
                    [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'); })) {
      sqlstate = message.substr(code, 5);
      message.erase(code, 7);
      break;
    }
  }
  // The source location the verbose message ends with is the server's, not the operator's.
  if (auto location = message.find("\nLOCATION:  "); location != std::string::npos) {
    auto end = message.find('\n', location + 1);
    message.erase(location, end == std::string::npos ? std::string::npos : end - location);
  }
  return {sqlstate, trim_trailing(std::move(message))};
}

ConnectionParameters own_connection_parameters(const config::Config& config,
                                               const std::string& database,
                                               std::string_view application_name) {
  const auto& upstream = config.upstream;
  ConnectionParameters p;
  auto add = [&](std::string key, std::string value) {
    if (!value.empty()) {
      p.keywords.push_back(std::move(key));
      p.values.push_back(std::move(value));
    }
  };
  add("host", upstream.address.host);
  add("port", std::to_string(upstream.address.port));
  add("user", upstream.user);
  add("password", upstream.password.value);
  add("dbname", database.empty() ? upstream.database : database);
  add("sslmode", std::string(sslmode(upstream.tls)));
  add("sslrootcert", upstream.ca_file);
  auto seconds = std::max<long long>(1, (config.timeouts.connect.count() + 999) / 1000);
  add("connect_timeout", std::to_string(seconds));
  add("application_name", std::string(application_name));
  // The config is UTF-8: its names and transform literals are compared with, and sent as, UTF-8,
  // which a LATIN1 database's default client encoding would misread.
  add("client_encoding", "UTF8");
  // A server that vanished (a failover, a cut network) is noticed within about a minute, not
  // the kernel's two hours: the catalog check keeps its connection open between checks, and a
  // shutdown waits for a look-up in progress. TCP only; libpq ignores them on a unix socket.
  add("keepalives_idle", "30");
  add("keepalives_interval", "10");
  add("keepalives_count", "3");
  add("tcp_user_timeout", "60000");
  return p;
}

bool DbError::transient() const {
  return sqlstate == "55P03"      // lock_not_available (lock_timeout)
         || sqlstate == "57014"   // query_canceled (statement_timeout)
         || sqlstate == "40P01"   // deadlock_detected
         || sqlstate == "40001";  // serialization_failure
}

bool DbError::connection_lost() const {
  return sqlstate.empty() || sqlstate.starts_with("08") || sqlstate == "57P01" ||
         sqlstate == "57P02" || sqlstate == "57P03";
}

PgResult::~PgResult() {
  if (result_ != nullptr) {
    PQclear(result_);
  }
}

PgResult& PgResult::operator=(PgResult&& other) noexcept {
  if (this != &other) {
    if (result_ != nullptr) {
      PQclear(result_);
    }
    result_ = std::exchange(other.result_, nullptr);
  }
  return *this;
}

int PgResult::rows() const { return PQntuples(result_); }
int PgResult::columns() const { return PQnfields(result_); }
bool PgResult::is_null(int row, int column) const { return PQgetisnull(result_, row, column); }

std::string PgResult::text(int row, int column) const {
  return std::string(PQgetvalue(result_, row, column),
                     static_cast<std::size_t>(PQgetlength(result_, row, column)));
}

std::optional<std::string> PgResult::value(int row, int column) const {
  if (is_null(row, column)) {
    return std::nullopt;
  }
  return text(row, column);
}

long long PgResult::affected() const {
  const char* count = PQcmdTuples(result_);
  return count && *count ? std::stoll(count) : 0;
}

std::variant<PgConnection, DbError> PgConnection::connect(const config::Config& config,
                                                          const std::string& database,
                                                          std::string_view purpose,
                                                          std::string_view application_name) {
  auto params = own_connection_parameters(config, database, application_name);
  std::vector<const char*> keys;
  std::vector<const char*> values;
  for (std::size_t i = 0; i < params.keywords.size(); ++i) {
    keys.push_back(params.keywords[i].c_str());
    values.push_back(params.values[i].c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  const auto timeout =
      std::chrono::seconds(std::max<long long>(1, (config.timeouts.connect.count() + 999) / 1000));
  std::string failure;
  PGconn* connection = connect_verbosely(keys.data(), values.data(), timeout, failure);
  if (connection == nullptr) {
    auto [sqlstate, message] = split_sqlstate(failure);
    return DbError{
        std::move(sqlstate),
        std::string(purpose) + " connection to upstream " + config.upstream.address.to_string() +
            " (user \"" + config.upstream.user + "\", database \"" +
            (database.empty() ? config.upstream.database : database) + "\") failed: " + message};
  }
  PQsetErrorVerbosity(connection, PQERRORS_DEFAULT);
  // NOTICEs ("schema already exists, skipping") are noise on an operator's terminal.
  PQsetNoticeProcessor(
      connection, [](void*, const char*) {}, nullptr);
  return PgConnection(connection);
}

PgConnection& PgConnection::operator=(PgConnection&& other) noexcept {
  if (this != &other) {
    if (connection_ != nullptr) {
      PQfinish(connection_);
    }
    connection_ = std::exchange(other.connection_, nullptr);
  }
  return *this;
}

PgConnection::~PgConnection() {
  if (connection_ != nullptr) {
    PQfinish(connection_);
  }
}

std::variant<PgResult, DbError> PgConnection::exec(const std::string& sql) {
  return checked(connection_, PQexec(connection_, sql.c_str()));
}

std::variant<PgResult, DbError> PgConnection::exec(const std::string& sql,
                                                   const std::vector<Param>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) {
    values.push_back(p ? p->c_str() : nullptr);
  }
  return checked(connection_,
                 PQexecParams(connection_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                              values.data(), nullptr, nullptr, 0));
}

}  // namespace switchyard::backfill
