#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rewrite/catalog.hpp"
#include "rewrite/migration.hpp"
#include "rewrite/result.hpp"

namespace switchyard::rewrite {

/// The SQL rewrite engine (DESIGN §3, §7). Immutable once built; const use is thread-safe.
class Rewriter {
 public:
  explicit Rewriter(std::vector<Migration> migrations);

  /// DESIGN §7 fast path: false when no mapped table name occurs in `sql` (case-insensitive,
  /// quoted or not). Allocation-free; the proxy forwards such text byte for byte.
  bool may_touch(std::string_view sql) const;

  /// Rewrites one Query/Parse text (may hold several statements separated by ';').
  RewriteResult rewrite(std::string_view sql, const SessionContext& session,
                        const Catalog& catalog) const;

  const std::vector<Migration>& migrations() const { return migrations_; }

 private:
  std::vector<Migration> migrations_;
  /// Lowercased mapped table names, deduplicated, for may_touch().
  std::vector<std::string> needles_;
};

/// Validates a to_new/to_old template: nullopt if `{value}` substituted by a column parses as an
/// expression, else a message saying what is wrong.
std::optional<std::string> validate_transform(std::string_view tmpl);

/// What a needs_catalog result lacks, for messages: "the columns of public.orders, the
/// volatility of f()".
std::string catalog_needs(const RewriteResult& result);

/// SQL that makes the server itself raise `message` with SQLSTATE `sqlstate` (a DO block with
/// RAISE), so the transaction state on the server matches what the client sees. A non-empty
/// `detail` becomes the error's DETAIL.
std::string rejection_sql(std::string_view message, std::string_view detail = {},
                          std::string_view sqlstate = "0A000");

/// Where statement `index` (from 0) of a text begins: just after the `;` that ends the one before
/// it. nullopt when the text does not parse into more statements than that.
std::optional<std::size_t> statement_start(std::string_view sql, std::size_t index);

}  // namespace switchyard::rewrite
