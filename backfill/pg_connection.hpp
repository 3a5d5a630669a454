#pragma once

// Switchyard's own libpq connections to the upstream (catalog look-ups, backfill, verify,
// status). Blocking: call from a thread that may wait. Client sessions never use these.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "config/config.hpp"

struct pg_conn;
struct pg_result;

namespace switchyard::backfill {

/// libpq connection parameters for Switchyard's own connections (catalog, backfill, verify).
/// Keywords and values as parallel arrays, so nothing needs quoting.
struct ConnectionParameters {
  std::vector<std::string> keywords;
  std::vector<std::string> values;
};

/// [upstream] address, TLS mode, CA file, user, resolved password and `database` (empty =
/// [upstream] database), with the config's connect timeout rounded up to whole seconds.
ConnectionParameters own_connection_parameters(const config::Config& config,
                                               const std::string& database,
                                               std::string_view application_name = "switchyard");

/// An error reported by the server (or by libpq, with an empty SQLSTATE).
struct DbError {
  std::string sqlstate;  ///< Five characters, e.g. "55P03"; empty for client-side failures.
  std::string message;   ///< The primary message, without the trailing newline.

  /// lock_timeout, statement_timeout, deadlock, serialization failure: worth a retry.
  bool transient() const;
  /// The connection itself failed (class 08, admin shutdown, or a libpq-side failure).
  bool connection_lost() const;
  /// 3D000: the server has no database of the name asked for. Not a network failure: the
  /// config names it (or the database is still to be created), and asking again soon does not
  /// help.
  bool missing_database() const { return sqlstate == "3D000"; }
};

/// A verbose libpq message ("...FATAL:  3D000: database \"x\" does not exist\nLOCATION: ...")
/// as its SQLSTATE ("" when it names none) and the message libpq would have given by default.
std::pair<std::string, std::string> split_sqlstate(std::string message);

/// An owned PGresult. Text values only (the connection never asks for binary results).
class PgResult {
 public:
  explicit PgResult(pg_result* result) : result_(result) {}
  ~PgResult();
  PgResult(PgResult&& other) noexcept : result_(std::exchange(other.result_, nullptr)) {}
  PgResult& operator=(PgResult&& other) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;

  int rows() const;
  int columns() const;
  bool is_null(int row, int column) const;
  /// The text of a value ("" for NULL).
  std::string text(int row, int column) const;
  /// The value as an optional string (nullopt for NULL).
  std::optional<std::string> value(int row, int column) const;
  /// Rows affected by an UPDATE/DELETE/INSERT (0 when not a command result).
  long long affected() const;

 private:
  pg_result* result_;
};

/// A statement parameter: text, or NULL.
using Param = std::optional<std::string>;

/// One libpq connection, closed on destruction.
class PgConnection {
 public:
  /// Connects with own_connection_parameters(). `purpose` starts the error message:
  /// "<purpose> connection to upstream 127.0.0.1:5432 (user "u", database "d") failed: ...";
  /// its SQLSTATE is the server's when the server refused the connection.
  static std::variant<PgConnection, DbError> connect(
      const config::Config& config, const std::string& database, std::string_view purpose,
      std::string_view application_name = "switchyard");

  PgConnection(PgConnection&& other) noexcept
      : connection_(std::exchange(other.connection_, nullptr)) {}
  PgConnection& operator=(PgConnection&& other) noexcept;
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;
  ~PgConnection();

  /// Runs a statement (or several, simple protocol, no parameters).
  std::variant<PgResult, DbError> exec(const std::string& sql);
  /// Runs one statement with text parameters ($1, $2, ...).
  std::variant<PgResult, DbError> exec(const std::string& sql, const std::vector<Param>& params);

  /// The libpq handle, still owned by this object.
  pg_conn* native() const { return connection_; }
  /// Gives up ownership of the libpq handle (the caller PQfinish()es it).
  pg_conn* release() { return std::exchange(connection_, nullptr); }

 private:
  explicit PgConnection(pg_conn* connection) : connection_(connection) {}
  pg_conn* connection_;
};

}  // namespace switchyard::backfill
