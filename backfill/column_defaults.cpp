#include "backfill/column_defaults.hpp"

#include "rewrite/sql_text.hpp"

namespace switchyard::backfill {
namespace {

using rewrite::detail::apply_template;

// pg_get_expr() lays a CASE out over several lines; a report wants one. Blanks after a line
// break outside a string constant become one space.
std::string one_line(const std::string& expression) {
  std::string out;
  bool in_string = false;
  for (std::size_t i = 0; i < expression.size(); ++i) {
    const char c = expression[i];
    if (c == '\'') {
      in_string = !in_string;
    }
    if (c == '\n' && !in_string) {
      while (i + 1 < expression.size() && (expression[i + 1] == ' ' || expression[i + 1] == '\t')) {
        ++i;
      }
      if (!out.empty() && out.back() != ' ') {
        out.push_back(' ');
      }
      continue;
    }
    out.push_back(c);
  }
  return out;
}

// The default as an expression of the column's type; NULL of that type when there is none.
std::string typed(const ColumnDefault& d) {
  return "CAST(" + (d.expression ? "(" + *d.expression + ")" : std::string("NULL")) + " AS " +
         d.type + ")";
}

std::string described(const std::string& column, const ColumnDefault& d) {
  if (d.identity) {
    return column + " GENERATED AS IDENTITY";
  }
  return column + (d.expression ? " DEFAULT " + one_line(*d.expression) : " no default");
}

std::string alter_column(const TableSpec& spec) {
  return "ALTER TABLE " + qualified_name(spec) + " ALTER COLUMN " + quote_ident(spec.new_column);
}

}  // namespace

std::string defaults_values_sql(const ColumnDefault& old_default,
                                const ColumnDefault& new_default) {
  const std::string o = typed(old_default);
  const std::string n = typed(new_default);
  return "SELECT " + o + "::text, " + o + "::text, " + n + "::text, " + n + "::text";
}

std::string defaults_transforms_sql(const TableSpec& spec, const ColumnDefault& old_default,
                                    const ColumnDefault& new_default) {
  return "SELECT CAST((" + apply_template(spec.to_new, typed(old_default)) + ") AS " +
         new_default.type + ")::text, CAST((" + apply_template(spec.to_old, typed(new_default)) +
         ") AS " + old_default.type + ")::text";
}

namespace {

DefaultsFinding judge_values(const TableSpec& spec, const ColumnDefault& old_default,
                             const ColumnDefault& new_default, const DefaultsEvaluation& e) {
  const std::string& o = spec.old_column;
  const std::string& n = spec.new_column;
  const std::string both =
      described(o, old_default) + ", " + described(n, new_default) + ": they disagree.";
  const std::string counted = "; verify counts such rows as disagreeing.";
  const bool old_moves = old_default.identity || !e.old_repeats || !e.error.empty();
  if (old_moves || new_default.identity) {
    std::string why = old_moves ? o +
                                      "'s default gives a new value each time (a sequence, or a "
                                      "volatile function), so no default of " +
                                      n + " can follow it"
                                : n + " is an identity column and cannot follow " + o;
    if (!e.error.empty() && !old_default.identity) {
      why += " (evaluated read-only: " + e.error + ")";
    }
    return {DefaultsVerdict::unmatched,
            both + "\n" + why + ". An INSERT that names neither column leaves them apart" +
                counted + "\nHave every such writer name " + o + " (the proxy then fills " + n +
                "), or fill " + n + " from " + o +
                " with a BEFORE INSERT trigger; then backfill --restart and verify.",
            ""};
  }
  if (!e.transform_error.empty()) {
    return {DefaultsVerdict::differ,
            both + "\nThe transforms fail on the defaults: " + e.transform_error +
                ". Rows an INSERT naming neither column writes will fail backfill and verify." +
                "\nExtend to_new and to_old to cover the defaults.",
            ""};
  }
  const bool to_new_agrees = e.new_repeats && e.expected_new == e.new_value;
  const bool to_old_agrees = e.expected_old == e.old_value;
  if (to_new_agrees && to_old_agrees) {
    if (!old_default.expression && !new_default.expression) {
      return {};
    }
    return {DefaultsVerdict::agree,
            described(o, old_default) + ", " + described(n, new_default) + ": they agree.", ""};
  }
  if (!to_new_agrees) {
    std::string fix = alter_column(spec);
    if (!e.expected_new) {
      fix += " DROP DEFAULT";
    } else {
      fix += " SET DEFAULT " + apply_template(spec.to_new, old_default.expression
                                                               ? one_line(*old_default.expression)
                                                               : "NULL::" + old_default.type);
    }
    return {DefaultsVerdict::differ,
            both + "\nAn INSERT that names neither column stores " + quote_nullable(e.old_value) +
                " in " + o + " and " +
                (e.new_repeats ? quote_nullable(e.new_value) : "a new value each time") + " in " +
                n + ", where to_new gives " + quote_nullable(e.expected_new) + counted +
                "\nMake them agree: " + fix,
            fix};
  }
  return {DefaultsVerdict::differ,
          both + "\nto_old(" + quote_nullable(e.new_value) + ") gives " +
              quote_nullable(e.expected_old) + ", not " + o + "'s default " +
              quote_nullable(e.old_value) + ": the transforms do not map this value back" +
              counted + "\nExtend to_new and to_old to cover it.",
          ""};
}

}  // namespace

// DESIGN section 1 adds the new column nullable: NOT NULL there alone fails every write of NULL to
// the old column (the proxy writes to_new(NULL) to the new one) with an error naming a column the
// app does not know, and the backfill of every such row.
DefaultsFinding judge_defaults(const TableSpec& spec, const ColumnDefault& old_default,
                               const ColumnDefault& new_default, const DefaultsEvaluation& e) {
  DefaultsFinding finding = judge_values(spec, old_default, new_default, e);
  if (!new_default.not_null || old_default.not_null || new_default.identity || !e.null_to_null) {
    return finding;
  }
  const std::string drop_not_null = alter_column(spec) + " DROP NOT NULL";
  if (finding.fix.ends_with(" DROP DEFAULT")) {
    const std::string fix =
        drop_not_null + ", ALTER COLUMN " + quote_ident(spec.new_column) + " DROP DEFAULT";
    finding.text.replace(finding.text.rfind(finding.fix), finding.fix.size(), fix);
    finding.fix = fix;
  }
  if (finding.verdict == DefaultsVerdict::none || finding.verdict == DefaultsVerdict::agree) {
    finding.verdict = DefaultsVerdict::unmatched;
  }
  finding.text +=
      std::string(finding.text.empty() ? "" : "\n") + spec.new_column + " is NOT NULL and " +
      spec.old_column + " is not: a write of NULL to " + spec.old_column + " (which also writes " +
      spec.new_column + ") fails with 23502 naming " + spec.new_column +
      ", and so does the backfill of such rows. Until writes = \"new\": " + drop_not_null + ".";
  return finding;
}

DefaultsFinding judge_defaults_in_zones(
    const TableSpec& spec, const ColumnDefault& old_default, const ColumnDefault& new_default,
    const std::vector<std::pair<std::string, DefaultsEvaluation>>& by_zone) {
  DefaultsFinding first;
  for (std::size_t i = 0; i < by_zone.size(); ++i) {
    DefaultsFinding finding = judge_defaults(spec, old_default, new_default, by_zone[i].second);
    if (i == 0) {
      first = finding;
    }
    if (finding.verdict == DefaultsVerdict::differ && first.verdict == DefaultsVerdict::agree) {
      finding.text += "\nThey agree under TimeZone '" + by_zone[0].first + "', not under '" +
                      by_zone[i].first +
                      "' (evaluated there): what they give depends on the session's settings.";
      return finding;
    }
  }
  return first;
}

std::variant<DefaultsFinding, std::string> check_defaults(PgConnection& connection,
                                                          const TableSpec& spec) {
  auto found = connection.exec(
      "SELECT a.attname, format_type(a.atttypid, a.atttypmod), pg_get_expr(d.adbin, d.adrelid), "
      "       a.attidentity <> '', a.attgenerated <> '', a.attnotnull "
      "FROM pg_catalog.pg_attribute a "
      "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
      "JOIN pg_catalog.pg_namespace s ON s.oid = c.relnamespace "
      "LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
      "WHERE s.nspname = $1 AND c.relname = $2 AND a.attname IN ($3, $4) AND a.attnum > 0 "
      "  AND NOT a.attisdropped",
      {spec.schema, spec.table, spec.old_column, spec.new_column});
  if (auto* error = std::get_if<DbError>(&found)) {
    return "catalog query for the columns' defaults failed: " + error->message;
  }
  const auto& rows = std::get<PgResult>(found);
  std::optional<ColumnDefault> old_default;
  std::optional<ColumnDefault> new_default;
  for (int r = 0; r < rows.rows(); ++r) {
    if (rows.text(r, 4) == "t") {
      return DefaultsFinding{};  // a generated column is never written: nothing to compare
    }
    ColumnDefault d{rows.text(r, 1), rows.value(r, 2), rows.text(r, 3) == "t",
                    rows.text(r, 5) == "t"};
    (rows.text(r, 0) == spec.old_column ? old_default : new_default) = std::move(d);
  }
  if (!old_default || !new_default) {
    return DefaultsFinding{};  // a missing column is reported where columns are checked
  }
  std::vector<std::pair<std::string, DefaultsEvaluation>> by_zone;
  for (const char* zone : kDefaultsZones) {
    DefaultsEvaluation& evaluation = by_zone.emplace_back(zone, DefaultsEvaluation{}).second;
    if (old_default->identity || new_default->identity) {
      break;
    }
    // Read-only: evaluating a default must not write, nor take a sequence value.
    if (auto begun = connection.exec("BEGIN READ ONLY; SET LOCAL statement_timeout = '5s'; "
                                     "SET LOCAL TimeZone = '" +
                                     std::string(zone) + "'");
        auto* error = std::get_if<DbError>(&begun)) {
      return "could not start a read-only transaction: " + error->message;
    }
    auto values = connection.exec(defaults_values_sql(*old_default, *new_default));
    if (auto* error = std::get_if<DbError>(&values)) {
      evaluation.error = error->message;
    } else {
      const auto& v = std::get<PgResult>(values);
      evaluation.old_repeats = v.value(0, 0) == v.value(0, 1);
      evaluation.new_repeats = v.value(0, 2) == v.value(0, 3);
      evaluation.old_value = v.value(0, 0);
      evaluation.new_value = v.value(0, 2);
      auto converted = connection.exec(defaults_transforms_sql(spec, *old_default, *new_default));
      if (auto* failed = std::get_if<DbError>(&converted)) {
        evaluation.transform_error = failed->message;
      } else {
        evaluation.expected_new = std::get<PgResult>(converted).value(0, 0);
        evaluation.expected_old = std::get<PgResult>(converted).value(0, 1);
      }
    }
    if (new_default->not_null && !spec.to_new.empty()) {
      auto mapped = connection.exec(
          "SELECT (" + apply_template(spec.to_new, "NULL::" + old_default->type) + ") IS NULL");
      if (auto* rows = std::get_if<PgResult>(&mapped)) {
        evaluation.null_to_null = rows->text(0, 0) == "t";
      }
    }
    connection.exec("ROLLBACK");
  }
  return judge_defaults_in_zones(spec, *old_default, *new_default, by_zone);
}

}  // namespace switchyard::backfill
