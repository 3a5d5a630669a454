#include "backfill/old_transactions.hpp"

namespace switchyard::backfill {

std::variant<std::vector<OldTransaction>, std::string> transactions_begun_before(
    PgConnection& connection, std::chrono::system_clock::time_point since) {
  // Whole milliseconds: a decimal point would depend on the locale.
  const auto milliseconds =
      std::chrono::duration_cast<std::chrono::milliseconds>(since.time_since_epoch()).count();
  auto result = connection.exec(
      "SELECT pid, coalesce(application_name, ''), "
      "floor(extract(epoch FROM clock_timestamp() - xact_start))::bigint "
      "FROM pg_stat_activity "
      "WHERE xact_start < to_timestamp($1::bigint / 1000.0) AND pid <> pg_backend_pid() "
      "AND backend_type = 'client backend' AND datname = current_database() "
      "AND coalesce(application_name, '') NOT LIKE 'switchyard%' "
      "ORDER BY xact_start LIMIT 10",
      {std::to_string(milliseconds)});
  if (auto* error = std::get_if<DbError>(&result)) {
    return error->message;
  }
  const auto& rows = std::get<PgResult>(result);
  std::vector<OldTransaction> out;
  for (int i = 0; i < rows.rows(); ++i) {
    out.push_back({rows.text(i, 0), rows.text(i, 1), rows.text(i, 2)});
  }
  return out;
}

std::string describe(const std::vector<OldTransaction>& transactions) {
  std::string out;
  for (const auto& t : transactions) {
    out += (out.empty() ? "pid " : ", pid ") + t.pid + " (application_name \"" +
           t.application_name + "\", " + t.age_seconds + " s)";
  }
  return out;
}

}  // namespace switchyard::backfill
