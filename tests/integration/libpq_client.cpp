// A libpq client that exercises the protocol features applications rely on, so the
// integration tests can run it through Switchyard and compare with Postgres directly.
//
// Usage: libpq_client "<conninfo>"
// Prints one "ok:" line per check; on the first failure prints "FAIL:" with the reason and
// exits 1.

#include <libpq-fe.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
struct ConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;
using Conn = std::unique_ptr<PGconn, ConnDeleter>;

/// An empty optional means the check passed; otherwise the reason it failed.
using Failure = std::optional<std::string>;

constexpr int kPreparedRuns = 500;
constexpr int kCopyRows = 2000;
constexpr int kSingleRowCount = 10000;

std::string describe(PGconn* conn, const PGresult* res) {
  std::string text = res ? PQresStatus(PQresultStatus(res)) : "no result";
  const char* msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
  if (msg && *msg) {
    text += ": ";
    text += msg;
  }
  return text;
}

Failure expect_status(PGconn* conn, const Result& res, ExecStatusType want, std::string_view what) {
  if (!res || PQresultStatus(res.get()) != want) {
    return std::string(what) + ": expected " + PQresStatus(want) + ", got " +
           describe(conn, res.get());
  }
  return std::nullopt;
}

Failure expect_value(const Result& res, int row, int col, std::string_view want,
                     std::string_view what) {
  if (PQntuples(res.get()) <= row || PQnfields(res.get()) <= col) {
    return std::string(what) + ": result too small";
  }
  std::string_view got = PQgetvalue(res.get(), row, col);
  if (got != want) {
    return std::string(what) + ": expected '" + std::string(want) + "', got '" + std::string(got) +
           "'";
  }
  return std::nullopt;
}

Failure simple_queries(PGconn* conn) {
  // Several statements in one Query message: libpq returns the last result.
  Result res(PQexec(conn,
                    "CREATE TEMP TABLE items (id int PRIMARY KEY, name text NOT NULL, qty int);"
                    "INSERT INTO items VALUES (1, 'one', 10), (2, 'two', 20);"
                    "SELECT sum(qty), count(*) FROM items"));
  if (auto f = expect_status(conn, res, PGRES_TUPLES_OK, "multi-statement query")) {
    return f;
  }
  if (auto f = expect_value(res, 0, 0, "30", "multi-statement sum")) {
    return f;
  }
  return expect_value(res, 0, 1, "2", "multi-statement count");
}

Failure extended_query(PGconn* conn) {
  const char* params[] = {"2", "3", "h\xc3\xa9llo"};
  Result res(PQexecParams(conn, "SELECT $1::int + $2::int, $3::text || '!', $3::text IS NULL", 3,
                          nullptr, params, nullptr, nullptr, 0));
  if (auto f = expect_status(conn, res, PGRES_TUPLES_OK, "PQexecParams")) {
    return f;
  }
  if (auto f = expect_value(res, 0, 0, "5", "PQexecParams sum")) {
    return f;
  }
  if (auto f = expect_value(res, 0, 1, "h\xc3\xa9llo!", "PQexecParams text")) {
    return f;
  }
  return expect_value(res, 0, 2, "f", "PQexecParams null check");
}

Failure prepared_many_times(PGconn* conn) {
  Result prep(PQprepare(conn, "ins", "INSERT INTO items VALUES ($1, $2, $3)", 3, nullptr));
  if (auto f = expect_status(conn, prep, PGRES_COMMAND_OK, "PQprepare")) {
    return f;
  }
  for (int i = 0; i < kPreparedRuns; ++i) {
    std::string id = std::to_string(100 + i);
    std::string name = "item-" + std::to_string(i);
    std::string qty = std::to_string(i);
    const char* params[] = {id.c_str(), name.c_str(), qty.c_str()};
    Result res(PQexecPrepared(conn, "ins", 3, params, nullptr, nullptr, 0));
    if (auto f = expect_status(conn, res, PGRES_COMMAND_OK, "PQexecPrepared")) {
      return f;
    }
  }
  Result check(PQexec(conn, "SELECT count(*), sum(qty) FROM items WHERE id >= 100"));
  if (auto f = expect_status(conn, check, PGRES_TUPLES_OK, "prepared check")) {
    return f;
  }
  if (auto f = expect_value(check, 0, 0, std::to_string(kPreparedRuns), "prepared count")) {
    return f;
  }
  const long long sum = static_cast<long long>(kPreparedRuns) * (kPreparedRuns - 1) / 2;
  return expect_value(check, 0, 1, std::to_string(sum), "prepared sum");
}

// Reads one pipelined query's result and the NULL that ends it.
Failure pipeline_result(PGconn* conn, ExecStatusType want, std::string_view what,
                        std::string_view value = {}) {
  Result res(PQgetResult(conn));
  if (auto f = expect_status(conn, res, want, what)) {
    return f;
  }
  if (!value.empty()) {
    if (auto f = expect_value(res, 0, 0, value, what)) {
      return f;
    }
  }
  Result end(PQgetResult(conn));
  if (end) {
    return std::string(what) + ": expected end of results, got " + describe(conn, end.get());
  }
  return std::nullopt;
}

Failure pipeline(PGconn* conn) {
  if (PQenterPipelineMode(conn) != 1) {
    return "PQenterPipelineMode: " + std::string(PQerrorMessage(conn));
  }
  const char* one[] = {"7"};
  const char* two[] = {"8"};
  bool sent =
      PQsendQueryParams(conn, "INSERT INTO items VALUES ($1, 'seven', 7)", 1, nullptr, one, nullptr,
                        nullptr, 0) &&
      PQsendQueryParams(conn, "INSERT INTO items VALUES ($1, 'eight', 8)", 1, nullptr, two, nullptr,
                        nullptr, 0) &&
      PQsendQueryParams(conn, "SELECT count(*) FROM items WHERE id IN (7, 8)", 0, nullptr, nullptr,
                        nullptr, nullptr, 0) &&
      PQpipelineSync(conn) &&
      // A failing statement aborts the rest of its pipeline segment only.
      PQsendQueryParams(conn, "SELECT 1 / 0", 0, nullptr, nullptr, nullptr, nullptr, 0) &&
      PQsendQueryParams(conn, "SELECT 'skipped'", 0, nullptr, nullptr, nullptr, nullptr, 0) &&
      PQpipelineSync(conn) &&
      PQsendQueryParams(conn, "SELECT 'after'", 0, nullptr, nullptr, nullptr, nullptr, 0) &&
      PQpipelineSync(conn);
  if (!sent) {
    return "pipeline send: " + std::string(PQerrorMessage(conn));
  }
  struct Step {
    ExecStatusType status;
    std::string_view what;
    std::string_view value;
  };
  const Step steps[] = {
      {PGRES_COMMAND_OK, "pipeline insert 7", {}},
      {PGRES_COMMAND_OK, "pipeline insert 8", {}},
      {PGRES_TUPLES_OK, "pipeline count", "2"},
  };
  for (const Step& s : steps) {
    if (auto f = pipeline_result(conn, s.status, s.what, s.value)) {
      return f;
    }
  }
  Result sync1(PQgetResult(conn));
  if (auto f = expect_status(conn, sync1, PGRES_PIPELINE_SYNC, "pipeline sync 1")) {
    return f;
  }
  if (auto f = pipeline_result(conn, PGRES_FATAL_ERROR, "pipeline division by zero")) {
    return f;
  }
  Result aborted(PQgetResult(conn));
  if (auto f = expect_status(conn, aborted, PGRES_PIPELINE_ABORTED, "pipeline aborted")) {
    return f;
  }
  if (Result extra(PQgetResult(conn)); extra) {
    return "pipeline aborted: expected end of results, got " + describe(conn, extra.get());
  }
  Result sync2(PQgetResult(conn));
  if (auto f = expect_status(conn, sync2, PGRES_PIPELINE_SYNC, "pipeline sync 2")) {
    return f;
  }
  if (auto f = pipeline_result(conn, PGRES_TUPLES_OK, "pipeline after error", "after")) {
    return f;
  }
  Result sync3(PQgetResult(conn));
  if (auto f = expect_status(conn, sync3, PGRES_PIPELINE_SYNC, "pipeline sync 3")) {
    return f;
  }
  if (PQexitPipelineMode(conn) != 1) {
    return "PQexitPipelineMode: " + std::string(PQerrorMessage(conn));
  }
  return std::nullopt;
}

Failure copy_in(PGconn* conn) {
  Result start(PQexec(conn, "COPY items (id, name, qty) FROM STDIN"));
  if (auto f = expect_status(conn, start, PGRES_COPY_IN, "COPY FROM STDIN")) {
    return f;
  }
  for (int i = 0; i < kCopyRows; ++i) {
    std::string line = std::to_string(10000 + i) + "\tcopied\\t" + std::to_string(i) + "\t" +
                       std::to_string(i) + "\n";
    if (PQputCopyData(conn, line.data(), static_cast<int>(line.size())) != 1) {
      return "PQputCopyData: " + std::string(PQerrorMessage(conn));
    }
  }
  if (PQputCopyEnd(conn, nullptr) != 1) {
    return "PQputCopyEnd: " + std::string(PQerrorMessage(conn));
  }
  Result done(PQgetResult(conn));
  if (auto f = expect_status(conn, done, PGRES_COMMAND_OK, "COPY FROM STDIN end")) {
    return f;
  }
  if (std::string_view(PQcmdTuples(done.get())) != std::to_string(kCopyRows)) {
    return "COPY FROM STDIN: copied " + std::string(PQcmdTuples(done.get())) + " rows";
  }
  if (Result extra(PQgetResult(conn)); extra) {
    return "COPY FROM STDIN: unexpected result " + describe(conn, extra.get());
  }
  Result check(PQexec(conn, "SELECT name FROM items WHERE id = 10005"));
  if (auto f = expect_status(conn, check, PGRES_TUPLES_OK, "COPY FROM check")) {
    return f;
  }
  return expect_value(check, 0, 0, "copied\t5", "COPY FROM escaped tab");
}

Failure copy_out(PGconn* conn) {
  Result start(PQexec(conn,
                      "COPY (SELECT id, name FROM items WHERE id >= 10000 ORDER BY id) "
                      "TO STDOUT"));
  if (auto f = expect_status(conn, start, PGRES_COPY_OUT, "COPY TO STDOUT")) {
    return f;
  }
  int lines = 0;
  std::string first;
  for (;;) {
    char* buf = nullptr;
    int n = PQgetCopyData(conn, &buf, 0);
    if (n == -1) {
      break;
    }
    if (n < 0) {
      return "PQgetCopyData: " + std::string(PQerrorMessage(conn));
    }
    if (lines == 0) {
      first.assign(buf, static_cast<std::size_t>(n));
    }
    PQfreemem(buf);
    ++lines;
  }
  Result done(PQgetResult(conn));
  if (auto f = expect_status(conn, done, PGRES_COMMAND_OK, "COPY TO STDOUT end")) {
    return f;
  }
  if (Result extra(PQgetResult(conn)); extra) {
    return "COPY TO STDOUT: unexpected result " + describe(conn, extra.get());
  }
  if (lines != kCopyRows) {
    return "COPY TO STDOUT: got " + std::to_string(lines) + " lines";
  }
  if (first != "10000\tcopied\\t0\n") {
    return "COPY TO STDOUT: first line is '" + first + "'";
  }
  return std::nullopt;
}

Failure single_row_mode(PGconn* conn) {
  if (!PQsendQuery(conn, "SELECT g FROM generate_series(1, 10000) g")) {
    return "PQsendQuery: " + std::string(PQerrorMessage(conn));
  }
  if (!PQsetSingleRowMode(conn)) {
    return "PQsetSingleRowMode refused";
  }
  long long sum = 0;
  int rows = 0;
  for (;;) {
    Result res(PQgetResult(conn));
    if (!res) {
      break;
    }
    ExecStatusType st = PQresultStatus(res.get());
    if (st == PGRES_SINGLE_TUPLE) {
      sum += std::atoll(PQgetvalue(res.get(), 0, 0));
      ++rows;
    } else if (st != PGRES_TUPLES_OK) {
      return "single-row mode: " + describe(conn, res.get());
    }
  }
  const long long want = static_cast<long long>(kSingleRowCount) * (kSingleRowCount + 1) / 2;
  if (rows != kSingleRowCount || sum != want) {
    return "single-row mode: got " + std::to_string(rows) + " rows summing to " +
           std::to_string(sum);
  }
  return std::nullopt;
}

Failure notices_and_parameters(PGconn* conn) {
  std::vector<std::string> notices;
  PQsetNoticeReceiver(
      conn,
      [](void* arg, const PGresult* res) {
        static_cast<std::vector<std::string>*>(arg)->emplace_back(
            PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
      },
      &notices);
  Result res(PQexec(conn,
                    "DO $$ BEGIN RAISE NOTICE 'switchyard says %', 42; END $$;"
                    "SET application_name = 'libpq_client'"));
  PQsetNoticeReceiver(conn, nullptr, nullptr);
  if (auto f = expect_status(conn, res, PGRES_COMMAND_OK, "notice + SET")) {
    return f;
  }
  if (notices.size() != 1 || notices[0] != "switchyard says 42") {
    return "NoticeResponse not delivered (" + std::to_string(notices.size()) + " notices)";
  }
  const char* app = PQparameterStatus(conn, "application_name");
  if (!app || std::string_view(app) != "libpq_client") {
    return "ParameterStatus application_name not relayed";
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CONNINFO\n", argv[0]);
    return 2;
  }
  Conn conn(PQconnectdb(argv[1]));
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    std::fprintf(stderr, "FAIL: connect: %s", PQerrorMessage(conn.get()));
    return 1;
  }
  struct Check {
    const char* name;
    Failure (*run)(PGconn*);
  };
  const Check checks[] = {
      {"simple queries", simple_queries},
      {"extended query", extended_query},
      {"prepared statement x500", prepared_many_times},
      {"pipeline mode", pipeline},
      {"COPY FROM STDIN", copy_in},
      {"COPY TO STDOUT", copy_out},
      {"single-row mode", single_row_mode},
      {"notices and parameter status", notices_and_parameters},
  };
  for (const Check& c : checks) {
    if (Failure f = c.run(conn.get())) {
      std::fprintf(stderr, "FAIL: %s: %s\n", c.name, f->c_str());
      return 1;
    }
    std::printf("ok: %s\n", c.name);
  }
  std::printf("all checks passed\n");
  return 0;
}
