#include "backfill/sql.hpp"

#include <algorithm>
#include <cctype>

#include "rewrite/sql_text.hpp"

namespace switchyard::backfill {
namespace {

// The proxy's own expansion of a conversion template, so that a backfilled row holds what a
// write through the proxy would have written.
using rewrite::detail::apply_template;

std::string key_params(const TableSpec& spec, int first) {
  std::string out;
  for (std::size_t i = 0; i < spec.key.size(); ++i) {
    if (i > 0) {
      out += ", ";
    }
    out += '$' + std::to_string(first + static_cast<int>(i)) + "::" + spec.key[i].type;
  }
  return out;
}

// A single column is compared as a plain value; several as a row, which is what keyset
// pagination over a composite btree key needs.
std::string key_side(const TableSpec& spec, const std::string& inner) {
  return spec.key.size() == 1 ? inner : "(" + inner + ")";
}

// The binary send function of a float type as format_type spells it, nullptr for another.
const char* float_send_function(std::string_view type) {
  if (type == "double precision") {
    return "pg_catalog.float8send";
  }
  if (type == "real") {
    return "pg_catalog.float4send";
  }
  return nullptr;
}

// A value as writing it into a column of `type` stores it ("" = not looked up: as it is).
std::string stored_value(const std::string& value, const std::string& type) {
  return type.empty() ? value : "CAST((" + value + ") AS " + type + ")";
}

}  // namespace

std::string quote_ident(std::string_view name) { return rewrite::detail::quoted(name, '"'); }

std::string quote_literal(std::string_view text) { return rewrite::detail::quoted(text, '\''); }

std::string quote_nullable(const std::optional<std::string>& value) {
  return value ? quote_literal(*value) : "NULL";
}

std::string text_array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) {
      out.push_back(',');
    }
    out.push_back('"');
    for (char c : items[i]) {
      if (c == '"' || c == '\\') {
        out.push_back('\\');
      }
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

std::string qualified_name(const TableSpec& spec) {
  return quote_ident(spec.schema) + "." + quote_ident(spec.table);
}

std::string key_list(const TableSpec& spec, std::string_view suffix) {
  std::string out;
  for (std::size_t i = 0; i < spec.key.size(); ++i) {
    if (i > 0) {
      out += ", ";
    }
    out += quote_ident(spec.key[i].name);
    out.append(suffix);
  }
  return out;
}

std::string key_names(const TableSpec& spec) {
  std::string out;
  for (const auto& column : spec.key) {
    out += (out.empty() ? "" : ", ") + column.name;
  }
  return out;
}

std::string range_condition(const TableSpec& spec, RangeShape shape, int first_param) {
  const std::string key = key_side(spec, key_list(spec));
  std::string out;
  int next = first_param;
  if (shape.lower) {
    out += key + " > " + key_side(spec, key_params(spec, next));
    next += static_cast<int>(spec.key.size());
  }
  if (shape.upper) {
    if (!out.empty()) {
      out += " AND ";
    }
    out += key + " <= " + key_side(spec, key_params(spec, next));
  }
  return out.empty() ? "TRUE" : out;
}

std::string new_from_old(const TableSpec& spec) {
  return apply_template(spec.to_new, quote_ident(spec.old_column));
}

std::string old_from_new(const TableSpec& spec) {
  return apply_template(spec.to_old, quote_ident(spec.new_column));
}

std::string mismatch_condition(const TableSpec& spec, Direction direction) {
  auto differs = [](const std::string& column, const std::string& value, bool as_text,
                    const std::string& collation, const std::string& type) {
    // In the column's type and typmod first: what writing the value would store (or reads =
    // "new" serve), not the value compared in whichever type Postgres resolves the pair to
    // (float8 for numeric against float8, the wider scale for numeric(10,2) against (14,4)).
    const std::string stored = stored_value(value, type);
    if (const char* send = float_send_function(type); as_text && send != nullptr) {
      // Their text follows the session's extra_float_digits (at 0 it rounds distinct values
      // alike); the bits are what a binary reader gets, and tell -0 from 0 as the text does.
      return std::string(send) + "(" + column + ") IS DISTINCT FROM " + send + "(" + stored + ")";
    }
    if (as_text) {
      return "(" + column + ")::text IS DISTINCT FROM ((" + stored + ")::text)";
    }
    return (collation.empty() ? column : column + " COLLATE " + collation) + " IS DISTINCT FROM (" +
           stored + ")";
  };
  std::string to_new = differs(quote_ident(spec.new_column), new_from_old(spec), spec.new_as_text,
                               spec.new_collation, spec.new_type);
  std::string to_old = differs(quote_ident(spec.old_column), old_from_new(spec), spec.old_as_text,
                               spec.old_collation, spec.old_type);
  switch (direction) {
    case Direction::to_new:
      return to_new;
    case Direction::to_old:
      return to_old;
    case Direction::both:
      break;
  }
  return "(" + to_new + " OR " + to_old + ")";
}

std::string next_chunk_sql(const TableSpec& spec, bool has_lower) {
  // The CTE is referenced twice, so it is computed once: the chunk's keys are read from the
  // index a single time, and the last key and the count come from the same snapshot.
  const int limit_param = has_lower ? static_cast<int>(spec.key.size()) + 1 : 1;
  return "WITH chunk AS (SELECT " + key_list(spec) + " FROM " + qualified_name(spec) + " WHERE " +
         range_condition(spec, {has_lower, false}) + " ORDER BY " + key_list(spec) + " LIMIT $" +
         std::to_string(limit_param) + ") SELECT " + key_list(spec) +
         ", (SELECT count(*) FROM chunk) FROM chunk ORDER BY " + key_list(spec, " DESC") +
         " LIMIT 1";
}

std::string begin_batch_sql(std::chrono::milliseconds lock_timeout,
                            std::chrono::milliseconds statement_timeout) {
  return "BEGIN; SET LOCAL lock_timeout = '" + std::to_string(lock_timeout.count()) +
         "ms'; SET LOCAL statement_timeout = '" + std::to_string(statement_timeout.count()) + "ms'";
}

// Either way a row is touched only when the two columns disagree both ways. When one column is
// what a transform makes of the other, one of them was derived from the other and both are
// current: a forward fill leaves a value an updated app wrote to the new column (to_old gave
// the old one NULL for it), and a fill back leaves an old value that to_new does not map (the
// new column never held it). A NULL in the column filled is no such value, even where the
// other transform maps NULL to the other column's value (`CASE ... ELSE 'inactive'`,
// `coalesce`): that row was never filled, and left alone verify would find it forever.
// A fill back never replaces an old value with one made from a NULL new value: that row may
// never have been filled forward, the old column holding its only copy, which nothing here can
// tell from a NULL an app wrote under writes = "new"; verify shows it instead.
std::string fill_condition(const TableSpec& spec) {
  const bool back = spec.fill == Direction::to_old;
  std::string condition =
      mismatch_condition(spec, back ? Direction::to_old : Direction::to_new) + " AND (" +
      mismatch_condition(spec, back ? Direction::to_new : Direction::to_old) + " OR " +
      quote_ident(back ? spec.old_column : spec.new_column) + " IS NULL)";
  if (back) {
    condition += " AND (" + quote_ident(spec.new_column) + " IS NOT NULL OR " +
                 quote_ident(spec.old_column) + " IS NULL)";
  }
  return condition;
}

std::string backfill_update_sql(const TableSpec& spec, RangeShape shape) {
  const bool back = spec.fill == Direction::to_old;
  return "UPDATE " + qualified_name(spec) + " SET " +
         quote_ident(back ? spec.old_column : spec.new_column) + " = " +
         (back ? old_from_new(spec) : new_from_old(spec)) + " WHERE " +
         range_condition(spec, shape) + " AND " + fill_condition(spec);
}

std::string pending_count_sql(const TableSpec& spec, RangeShape shape) {
  return "SELECT count(*) FROM " + qualified_name(spec) + " WHERE " + range_condition(spec, shape) +
         " AND " + fill_condition(spec);
}

std::string verify_count_sql(const TableSpec& spec, RangeShape shape) {
  return "SELECT count(*) FILTER (WHERE " + mismatch_condition(spec, Direction::to_new) +
         "), count(*) FILTER (WHERE " + mismatch_condition(spec, Direction::to_old) +
         "), count(*) FILTER (WHERE " + mismatch_condition(spec, Direction::both) +
         "), count(*) FROM " + qualified_name(spec) + " WHERE " + range_condition(spec, shape);
}

std::string verify_sample_sql(const TableSpec& spec, RangeShape shape, Direction direction) {
  const int limit_param =
      1 + static_cast<int>(spec.key.size()) * ((shape.lower ? 1 : 0) + (shape.upper ? 1 : 0));
  std::string keys;
  // Ordered by the key columns qualified: a bare name in ORDER BY means the output column of
  // that name first, here the key's text, which sorts 10 before 2 (and LIMIT keeps those).
  std::string order;
  for (const auto& column : spec.key) {
    keys += quote_ident(column.name) + "::text, ";
    order += (order.empty() ? "" : ", ") + qualified_name(spec) + "." + quote_ident(column.name);
  }
  return "SELECT " + keys + quote_ident(spec.old_column) + "::text, " +
         quote_ident(spec.new_column) + "::text, (" +
         stored_value(new_from_old(spec), spec.new_type) + ")::text, (" +
         stored_value(old_from_new(spec), spec.old_type) + ")::text FROM " + qualified_name(spec) +
         " WHERE " + range_condition(spec, shape) + " AND " + mismatch_condition(spec, direction) +
         " ORDER BY " + order + " LIMIT $" + std::to_string(limit_param);
}

std::string keys_in_range_sql(const TableSpec& spec, RangeShape shape) {
  return "SELECT " + key_list(spec) + " FROM " + qualified_name(spec) + " WHERE " +
         range_condition(spec, shape) + " ORDER BY " + key_list(spec);
}

namespace {

// Numbers and plain words read as they are; anything else is quoted, so that a key with a
// space, a comma or a line break cannot pass for the next key or the next sample line.
std::string key_value_for_people(const std::string& value) {
  const bool plain = !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
           c == ':' || c == '+';
  });
  if (plain) {
    return value;
  }
  const bool control = std::any_of(value.begin(), value.end(), [](char c) {
    return std::iscntrl(static_cast<unsigned char>(c));
  });
  if (!control) {
    return quote_literal(value);
  }
  std::string out = "E'";
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\\' || c == '\'') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (std::iscntrl(byte)) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace

std::string format_key(const TableSpec& spec, const std::vector<std::string>& values) {
  std::string out;
  for (std::size_t i = 0; i < spec.key.size() && i < values.size(); ++i) {
    if (i > 0) {
      out += ", ";
    }
    out += spec.key[i].name + "=" + key_value_for_people(values[i]);
  }
  return out;
}

}  // namespace switchyard::backfill
