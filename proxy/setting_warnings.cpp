#include "proxy/setting_warnings.hpp"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>

#include "rewrite/sql_text.hpp"

namespace switchyard::proxy {
namespace {

bool has(const std::string& text, const char* part) { return text.find(part) != std::string::npos; }

// The date/time types by what a session's TimeZone does to them, as format_type() spells them
// ("timestamp(3) with time zone"): 'D' date, 't' time, 'T' timetz, 's' timestamp, 'S'
// timestamptz, 0 any other type.
char temporal_kind(const std::string& type) {
  if (type == "date") {
    return 'D';
  }
  const bool zoned = has(type, " with time zone");
  if (type.starts_with("timestamp")) {
    return zoned ? 'S' : 's';
  }
  if (type.starts_with("time")) {
    return zoned ? 'T' : 't';
  }
  return 0;
}

bool is_text(const std::string& type) {
  return type == "text" || type.starts_with("character") || type == "name";
}

// The transform lower-cased with its blanks made single, so that `:: TEXT` reads `::text`.
std::string normalized(const std::string& transform) {
  std::string out;
  for (char c : transform) {
    const bool blank = std::isspace(static_cast<unsigned char>(c)) != 0;
    if (blank && (out.empty() || out.back() == ' ')) {
      continue;
    }
    out.push_back(blank ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  std::string tight;  // no blank next to "::"
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == ' ' && ((i + 2 < out.size() && out.compare(i + 1, 2, "::") == 0) ||
                          (i >= 2 && out.compare(i - 2, 2, "::") == 0))) {
      continue;
    }
    tight.push_back(out[i]);
  }
  return tight;
}

// Whether the transform casts something to one of `types` (`x::text`, `CAST(x AS text)`).
bool casts_to(const std::string& transform, std::initializer_list<const char*> types) {
  const std::string t = normalized(transform);
  return std::any_of(types.begin(), types.end(), [&](const char* type) {
    return has(t, (std::string("::") + type).c_str()) ||
           has(t, (std::string(" as ") + type).c_str());
  });
}

// Transforms between the two kinds that name the zone the unzoned values mean (UTC), whatever
// the session's TimeZone; "" when no pair of casts does it for these kinds. A date or a time is
// first made a timestamp or a timetz in a fixed zone: `date AT TIME ZONE` and `time::timetz`
// would take the session's.
std::string zone_fixed(char from, char to) {
  const std::string key{from, to};
  if (key == "sS" || key == "Ss") {
    return "{value} AT TIME ZONE 'UTC'";
  }
  if (key == "DS") {
    return "({value})::timestamp AT TIME ZONE 'UTC'";
  }
  if (key == "SD") {
    return "({value} AT TIME ZONE 'UTC')::date";
  }
  if (key == "tT") {
    return "(({value})::text || '+00')::timetz";
  }
  if (key == "Tt") {
    return "({value} AT TIME ZONE 'UTC')::time";
  }
  return "";
}

bool zone_pair(char a, char b) {
  auto zoned = [](char k) { return k == 'S' || k == 'T'; };
  auto unzoned = [](char k) { return k == 'D' || k == 't' || k == 's'; };
  return (zoned(a) && unzoned(b)) || (unzoned(a) && zoned(b));
}

// A transform converts in the session's TimeZone when it is missing, or when it applies AT TIME
// ZONE straight to a date or a time, which are made timestamptz and timetz in that zone first.
bool converts_in_session_zone(const std::string& transform, char from) {
  return transform.empty() || ((from == 'D' || from == 't') &&
                               normalized(transform).starts_with("{value} at time zone"));
}

std::optional<ConfigWarning> time_zone_warning(const config::Migration& m,
                                               const rewrite::Migration& rule) {
  const char o = temporal_kind(rule.old_type);
  const char n = temporal_kind(rule.new_type);
  if (!zone_pair(o, n) ||
      (!converts_in_session_zone(m.to_new, o) && !converts_in_session_zone(m.to_old, n))) {
    return std::nullopt;
  }
  const std::string to_new = zone_fixed(o, n);
  const std::string to_old = zone_fixed(n, o);
  const std::string advice =
      to_new.empty() ? "make both transforms name the zone the old values mean"
                     : "name the zone the old values mean in both transforms, to_new = \"" +
                           to_new + "\" and to_old = \"" + to_old + "\"";
  return ConfigWarning{
      m.name, rule.old_column + " (" + rule.old_type + ") and " + rule.new_column + " (" +
                  rule.new_type +
                  ") convert in each session's TimeZone: writes through the proxy in the "
                  "app's, backfill and verify in their own, so apps in another zone would read "
                  "other instants after the flip; " +
                  advice};
}

// What a text of `type` depends on, and a rendering that does not; "" when nothing.
std::pair<std::string, std::string> rendering(const std::string& type) {
  switch (temporal_kind(type)) {
    case 'S':
      return {"TimeZone and DateStyle",
              "to_char({value} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"};
    case 's':
      return {"DateStyle", "to_char({value}, 'YYYY-MM-DD HH24:MI:SS.US')"};
    case 'D':
      return {"DateStyle", "to_char({value}, 'YYYY-MM-DD')"};
    default:
      break;
  }
  if (type.starts_with("interval")) {
    return {"IntervalStyle", ""};
  }
  if (type == "real" || type == "double precision") {
    return {"extra_float_digits", ""};
  }
  return {"", ""};
}

// What reading a text as `type` depends on, and a parse that does not; "" when nothing.
std::pair<std::string, std::string> parsing(const std::string& type) {
  switch (temporal_kind(type)) {
    case 'S':
      return {"DateStyle and TimeZone",
              "to_timestamp({value}, 'YYYY-MM-DD HH24:MI:SS TZH:TZM') (the format the text is "
              "in, with its offset)"};
    case 's':
      return {"DateStyle",
              // to_timestamp() reads the fields in the session's zone unless given an offset.
              "to_timestamp({value} || ' +00', 'YYYY-MM-DD HH24:MI:SS TZH') AT TIME ZONE 'UTC' "
              "(the format the text is in)"};
    case 'D':
      return {"DateStyle", "to_date({value}, 'YYYY-MM-DD') (the format the text is in)"};
    default:
      break;
  }
  if (type.starts_with("interval")) {
    return {"IntervalStyle", ""};
  }
  return {"", ""};
}

// A conversion from `from` to `to` by `transform` (to_new or to_old, "" for a plain cast) that
// goes through text in the session's settings.
std::optional<ConfigWarning> text_warning(const config::Migration& m, const char* which,
                                          const std::string& transform, const std::string& from,
                                          const std::string& to) {
  std::pair<std::string, std::string> found;
  if (is_text(to) && !is_text(from) &&
      (transform.empty() ? true
                         : casts_to(transform, {"text", "varchar", "character", "bpchar"}))) {
    found = rendering(from);
  } else if (is_text(from) && !is_text(to) &&
             (transform.empty() ? true : casts_to(transform, {"date", "timestamp", "interval"}))) {
    found = parsing(to);
  }
  const auto& [setting, fixed] = found;
  if (setting.empty()) {
    return std::nullopt;
  }
  const std::string how =
      fixed.empty() ? "no format pins it: set " + setting +
                          " alike for every role and database (ALTER ROLE/DATABASE ... SET) and "
                          "give backfill and verify the same (PGOPTIONS=\"-c ...\")"
                    : "write " + std::string(which) + " so that it does not, e.g. " + which +
                          " = \"" + fixed + "\"";
  return ConfigWarning{
      m.name, std::string(which) + (transform.empty() ? " (none: a cast)" : "") + " from " + from +
                  " to " + to + " depends on the session's " + setting +
                  ": writes through the proxy convert in each app's settings, backfill and verify "
                  "in their own, so apps set otherwise store other values and read others "
                  "after the flip; " +
                  how};
}

// Whether `name` stands in the transform other than after a `.` (its schema): found by itself,
// case-insensitively, as an identifier (quoted or not).
bool written_unqualified(const std::string& transform, const std::string& name) {
  const std::string t = normalized(transform);
  std::string n = name;
  std::transform(n.begin(), n.end(), n.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto word = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '$';
  };
  for (std::size_t at = t.find(n); at != std::string::npos; at = t.find(n, at + 1)) {
    std::size_t begin = at;
    std::size_t end = at + n.size();
    if (begin > 0 && t[begin - 1] == '"' && end < t.size() && t[end] == '"') {
      --begin;
      ++end;
    }
    if ((begin > 0 && word(t[begin - 1])) || (end < t.size() && word(t[end]))) {
      continue;
    }
    if (begin == 0 || t[begin - 1] != '.') {
      return true;
    }
  }
  return false;
}

}  // namespace

std::vector<ConfigWarning> transform_name_warnings(const config::Migration& m,
                                                   const std::string& table_schema,
                                                   const std::vector<TransformName>& names) {
  std::vector<ConfigWarning> out;
  for (const auto& found : names) {
    const bool outside = found.schema != "pg_catalog" && found.schema != table_schema;
    if (!outside && found.schemas < 2) {
      continue;
    }
    std::string which;
    for (const auto* transform : {&m.to_new, &m.to_old}) {
      if (written_unqualified(*transform, found.name)) {
        which += std::string(which.empty() ? "" : " and ") +
                 (transform == &m.to_new ? "to_new" : "to_old");
      }
    }
    if (which.empty()) {
      continue;
    }
    const std::string qualified =
        rewrite::detail::quote_ident(found.schema) + "." + rewrite::detail::quote_ident(found.name);
    out.push_back(
        {m.name,
         which + (which.find(" and ") != std::string::npos ? " name the " : " names the ") +
             found.kind + " " + found.name + " without its schema" +
             (found.schemas > 1 ? " (" + std::to_string(found.schemas) + " schemas hold one)"
                                : " (it is in " + found.schema + ")") +
             ": the proxy writes the transform into each app's SQL, where the session's "
             "search_path resolves the name, and a schema earlier on it may give another " +
             found.kind + " (another value in " + m.new_column + " or " + m.old_column +
             "); write " + qualified + " in the transform"});
  }
  return out;
}

std::vector<TransformName> find_transform_names(const rewrite::Migration& rule,
                                                backfill::PgConnection& connection) {
  std::vector<TransformName> names;
  if (rule.to_new.empty() && rule.to_old.empty()) {
    return names;
  }
  using rewrite::detail::apply_template;
  using rewrite::detail::quote_ident;
  const std::string view =
      "CREATE TEMPORARY VIEW switchyard_transform_names AS SELECT " +
      (rule.to_new.empty()
           ? std::string("NULL")
           : "(" + apply_template(rule.to_new, quote_ident(rule.old_column)) + ")") +
      ", " +
      (rule.to_old.empty()
           ? std::string("NULL")
           : "(" + apply_template(rule.to_old, quote_ident(rule.new_column)) + ")") +
      " FROM " + quote_ident(rule.schema) + "." + quote_ident(rule.table);
  auto made = connection.exec(
      "BEGIN; SET LOCAL statement_timeout = '5s'; SET LOCAL lock_timeout = '1s'; " + view);
  if (std::holds_alternative<backfill::PgResult>(made)) {
    auto found = connection.exec(
        "SELECT 'function', s.nspname, p.proname, (SELECT count(DISTINCT q.pronamespace) "
        "  FROM pg_catalog.pg_proc q WHERE q.proname = p.proname) "
        "FROM pg_catalog.pg_depend d "
        "JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid "
        "JOIN pg_catalog.pg_proc p ON p.oid = d.refobjid "
        "JOIN pg_catalog.pg_namespace s ON s.oid = p.pronamespace "
        "WHERE d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass "
        "  AND d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass "
        "  AND r.ev_class = 'pg_temp.switchyard_transform_names'::pg_catalog.regclass "
        "UNION "
        "SELECT 'type', s.nspname, t.typname, (SELECT count(DISTINCT u.typnamespace) "
        "  FROM pg_catalog.pg_type u WHERE u.typname = t.typname) "
        "FROM pg_catalog.pg_depend d "
        "JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid "
        "JOIN pg_catalog.pg_type t ON t.oid = d.refobjid "
        "JOIN pg_catalog.pg_namespace s ON s.oid = t.typnamespace "
        "WHERE d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass "
        "  AND d.refclassid = 'pg_catalog.pg_type'::pg_catalog.regclass "
        "  AND r.ev_class = 'pg_temp.switchyard_transform_names'::pg_catalog.regclass "
        "ORDER BY 1, 2, 3");
    if (auto* rows = std::get_if<backfill::PgResult>(&found)) {
      for (int r = 0; r < rows->rows(); ++r) {
        names.push_back(
            {rows->text(r, 0), rows->text(r, 1), rows->text(r, 2), std::stoi(rows->text(r, 3))});
      }
    }
  }
  connection.exec("ROLLBACK");
  return names;
}

std::vector<ConfigWarning> session_setting_warnings(const config::Migration& m,
                                                    const rewrite::Migration& rule) {
  std::vector<ConfigWarning> out;
  if (!rule.types_differ() || rule.new_type.empty()) {
    return out;
  }
  if (auto zone = time_zone_warning(m, rule)) {
    out.push_back(std::move(*zone));
  }
  for (auto warning : {text_warning(m, "to_new", m.to_new, rule.old_type, rule.new_type),
                       text_warning(m, "to_old", m.to_old, rule.new_type, rule.old_type)}) {
    if (warning) {
      out.push_back(std::move(*warning));
    }
  }
  return out;
}

}  // namespace switchyard::proxy
