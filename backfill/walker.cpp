#include "backfill/walker.hpp"

namespace switchyard::backfill {

RangeShape shape_of(const std::optional<Key>& lower, const std::optional<Key>& upper) {
  return {lower.has_value(), upper.has_value()};
}

std::vector<Param> range_params(const std::optional<Key>& lower, const std::optional<Key>& upper,
                                std::vector<Param> extra) {
  std::vector<Param> params;
  for (const auto* key : {&lower, &upper}) {
    if (*key) {
      params.insert(params.end(), (*key)->begin(), (*key)->end());
    }
  }
  params.insert(params.end(), extra.begin(), extra.end());
  return params;
}

std::variant<std::optional<Chunk>, DbError> next_chunk(PgConnection& connection,
                                                       const TableSpec& spec,
                                                       const std::optional<Key>& lower,
                                                       long long size) {
  auto result = connection.exec(next_chunk_sql(spec, lower.has_value()),
                                range_params(lower, std::nullopt, {std::to_string(size)}));
  if (auto* error = std::get_if<DbError>(&result)) {
    return *error;
  }
  const auto& rows = std::get<PgResult>(result);
  if (rows.rows() == 0) {
    return std::optional<Chunk>{};
  }
  Chunk chunk;
  const int columns = static_cast<int>(spec.key.size());
  for (int c = 0; c < columns; ++c) {
    chunk.last.push_back(rows.text(0, c));
  }
  chunk.rows = std::stoll(rows.text(0, columns));
  return std::optional<Chunk>(std::move(chunk));
}

std::optional<FailingRow> find_failing_row(PgConnection& connection, const TableSpec& spec,
                                           const std::optional<Key>& lower, const Key& upper,
                                           const RangeAttempt& attempt) {
  auto listed =
      connection.exec(keys_in_range_sql(spec, shape_of(lower, upper)), range_params(lower, upper));
  if (std::holds_alternative<DbError>(listed)) {
    return std::nullopt;
  }
  const auto& rows = std::get<PgResult>(listed);
  std::vector<Key> keys;
  for (int r = 0; r < rows.rows(); ++r) {
    Key key;
    for (int c = 0; c < rows.columns(); ++c) {
      key.push_back(rows.text(r, c));
    }
    keys.push_back(std::move(key));
  }
  // Invariant: the range (low, keys[last]] fails; halve it until it holds a single row.
  std::optional<Key> low = lower;
  std::size_t first = 0;
  std::size_t last = keys.size();  // exclusive
  if (first == last) {
    return std::nullopt;
  }
  auto failure = attempt(low, keys[last - 1]);
  if (!failure || failure->transient()) {
    return std::nullopt;
  }
  while (last - first > 1) {
    std::size_t mid = first + (last - first) / 2;  // try (low, keys[mid - 1]]
    auto left = attempt(low, keys[mid - 1]);
    if (left && left->transient()) {
      return std::nullopt;
    }
    if (left) {
      failure = left;
      last = mid;
    } else {
      low = keys[mid - 1];
      first = mid;
    }
  }
  // The single row left is known to fail only if some attempt covering it alone failed;
  // re-run it so the error reported is the row's own.
  auto own = attempt(low, keys[first]);
  if (!own || own->transient()) {
    return std::nullopt;
  }
  return FailingRow{keys[first], *own};
}

}  // namespace switchyard::backfill
