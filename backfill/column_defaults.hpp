#pragma once

// Whether an INSERT that names neither column leaves the two columns agreeing. The proxy does
// not rewrite such an INSERT (DESIGN section 3, "writes neither: unchanged"), so each column
// takes its own default. Unless the new column's default is to_new of the old column's, every
// such row is drift that verify will count, and after reads = "new" the app reads a value it
// never wrote. Status and verify say so, with the ALTER that fixes it.

#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "backfill/pg_connection.hpp"
#include "backfill/sql.hpp"

namespace switchyard::backfill {

/// One column's default as the catalog has it.
struct ColumnDefault {
  std::string type;                       ///< format_type()
  std::optional<std::string> expression;  ///< pg_get_expr(); nullopt = none (NULL)
  bool identity = false;                  ///< GENERATED ... AS IDENTITY: a sequence
  bool not_null = false;                  ///< attnotnull
};

/// What evaluating both defaults gave, in a read-only transaction (so nothing is written and
/// nextval() fails instead of consuming a value).
struct DefaultsEvaluation {
  /// Evaluating the defaults failed ("" when it ran), e.g. nextval() in a read-only
  /// transaction.
  std::string error;
  /// Applying to_new/to_old to the defaults failed ("" when it ran).
  std::string transform_error;
  bool old_repeats = true;  ///< the old default gave the same value twice
  bool new_repeats = true;
  std::optional<std::string> old_value;  ///< as text, after the cast to the column's type
  std::optional<std::string> new_value;
  std::optional<std::string> expected_new;  ///< to_new(old default) in the new column's type
  std::optional<std::string> expected_old;  ///< to_old(new default) in the old column's type
  bool null_to_null = true;                 ///< to_new(NULL) is NULL
};

enum class DefaultsVerdict {
  none,       ///< neither column has a default: nothing to say
  agree,      ///< to_new(old default) is the new default, and back
  differ,     ///< they disagree and one ALTER makes them agree
  unmatched,  ///< no default can follow the other (volatile, identity) or it cannot be evaluated
};

struct DefaultsFinding {
  DefaultsVerdict verdict = DefaultsVerdict::none;
  /// For people: what the defaults are, what an INSERT naming neither column stores, and the
  /// fix. Lines after the first start with "\n" and no indentation. Empty for none.
  std::string text;
  /// The statement that makes the defaults agree (differ only).
  std::string fix;
};

/// The read-only SELECT that evaluates both defaults, each twice, as text of its column's type.
std::string defaults_values_sql(const ColumnDefault& old_default, const ColumnDefault& new_default);

/// The read-only SELECT of to_new(old default) and to_old(new default), as text of the other
/// column's type.
std::string defaults_transforms_sql(const TableSpec& spec, const ColumnDefault& old_default,
                                    const ColumnDefault& new_default);

/// The verdict on what the catalog and the evaluation said, a NOT NULL on the new column alone
/// included (a write of NULL to the old column then fails on the new one). Pure.
DefaultsFinding judge_defaults(const TableSpec& spec, const ColumnDefault& old_default,
                               const ColumnDefault& new_default,
                               const DefaultsEvaluation& evaluation);

/// The defaults evaluated in sessions of each TimeZone (`LOCALTIMESTAMP` and `now()` agree only
/// in UTC): they agree only if they agree in every one; otherwise the first zone's finding that
/// does not agree, saying the zone. Pure.
DefaultsFinding judge_defaults_in_zones(
    const TableSpec& spec, const ColumnDefault& old_default, const ColumnDefault& new_default,
    const std::vector<std::pair<std::string, DefaultsEvaluation>>& by_zone);

/// The zones check_defaults evaluates the defaults in.
inline constexpr const char* kDefaultsZones[] = {"UTC", "Asia/Tokyo"};

/// Reads both defaults, evaluates them read-only when there is something to compare, and
/// judges. The error is a catalog query that failed.
std::variant<DefaultsFinding, std::string> check_defaults(PgConnection& connection,
                                                          const TableSpec& spec);

}  // namespace switchyard::backfill
