#pragma once

#include <boost/container/small_vector.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rewrite/result.hpp"

namespace switchyard::rewrite {

/// A statement text with its literals taken out: `key` has each integer, numeric and quoted string
/// constant replaced by a placeholder constant of the same kind (an int4 stays an int4, a numeric
/// a numeric, an untyped string an untyped string), so that texts differing only in their
/// literals (`WHERE aid = 17`, `WHERE aid = 42`) share one key, and the rewrite of the key makes
/// the same decisions the rewrite of each text would. `literals` are the original tokens, as
/// written, in placeholder order.
struct LiteralShape {
  std::string key;
  // Views into the text the shape was taken from. Held inline up to 8: a shape is taken for
  // every simple-protocol statement that names a migrated table, and most have few literals.
  boost::container::small_vector<std::string_view, 8> literals;
};

/// Fills `shape` with the shape of `sql`, reusing its buffers; false when `sql` has no literal
/// to take out or holds something this scanner does not vouch for (dollar quotes, U& strings,
/// backslashes in plain strings, text that already contains a placeholder's spelling, a number
/// run into a name).
bool take_literal_shape(std::string_view sql, LiteralShape& shape);

/// The shape of `sql` in a new LiteralShape; nullopt when take_literal_shape would be false.
std::optional<LiteralShape> literal_shape(std::string_view sql);

/// The rewrite of a shape's key, cut at its placeholders once, so that each text of the shape
/// costs only the copies of the pieces and of its literals.
class LiteralTemplate {
 public:
  /// The template of `tmpl.sql`; nullopt when `tmpl` is not reusable (an outcome other than
  /// unchanged/rewritten, a COPY plan, names still missing) or a placeholder is malformed.
  static std::optional<LiteralTemplate> of(const RewriteResult& tmpl);
  /// The template of a text with placeholders; nullopt when a placeholder is malformed.
  static std::optional<LiteralTemplate> parse(std::string_view sql);

  /// Texts of this shape are forwarded as they are (the key's rewrite left it unchanged).
  bool unchanged() const { return unchanged_; }
  /// Replaces `out` with the template filled with `literals`; false when a placeholder names
  /// no literal or a literal cannot stand where the template puts it.
  bool fill(std::span<const std::string_view> literals, std::string& out) const;

  struct Placeholder {
    std::uint32_t begin = 0;  // where it starts in text_
    std::uint32_t end = 0;    // one past its end
    std::uint32_t literal = 0;
    // A string placeholder right after a name or a quote: an E'' literal would join it.
    bool plain_string_only = false;
  };
  /// The placeholders, in text order (to tell an error's position in a text filled in).
  const std::vector<Placeholder>& placeholders() const { return placeholders_; }

 private:
  std::string text_;
  std::vector<Placeholder> placeholders_;
  bool unchanged_ = false;
};

/// `tmpl` (the rewrite of a shape's key) with every placeholder replaced by its literal; nullopt
/// when a placeholder names no literal.
std::optional<std::string> fill_literals(std::string_view tmpl,
                                         std::span<const std::string_view> literals);

/// The text to send for the text `shape` was taken from, made from `tmpl` (the rewrite of its
/// key): `tmpl.sql` filled with the shape's literals, or "" when `tmpl` leaves texts unchanged.
/// nullopt when `tmpl` is not reusable (see LiteralTemplate::of) or cannot be filled.
/// Everything else of that text's result is `tmpl`'s.
std::optional<std::string> instantiate_sql(const RewriteResult& tmpl, const LiteralShape& shape);

/// The whole result for the text `shape` was taken from: `tmpl` with instantiate_sql's text;
/// null when that is nullopt.
std::shared_ptr<const RewriteResult> instantiate(const RewriteResult& tmpl,
                                                 const LiteralShape& shape);

/// Whether two results say the same (text, outcome, uses, kinds, flags).
bool same_result(const RewriteResult& a, const RewriteResult& b);

}  // namespace switchyard::rewrite
