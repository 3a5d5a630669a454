#include "backfill/table_info.hpp"

#include <map>
#include <tuple>
#include <utility>

#include "config/identifier.hpp"

namespace switchyard::backfill {
namespace {

std::string display_name(const std::string& schema, const std::string& table) {
  return schema + "." + table;
}

struct IndexInfo {
  std::string name;
  bool primary = false;
  bool usable = true;  // unique, btree, no predicate, no expression, every column NOT NULL
  std::vector<KeyColumn> columns;
};

constexpr const char* kIndexQuery =
    "SELECT ic.relname, i.indisprimary, "
    "       i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL AND i.indimmediate "
    "         AND am.amname = 'btree', "
    "       a.attname, format_type(a.atttypid, a.atttypmod), coalesce(a.attnotnull, false) "
    "FROM pg_catalog.pg_index i "
    "JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
    "JOIN pg_catalog.pg_am am ON am.oid = ic.relam "
    "CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) "
    "LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
    "WHERE i.indrelid = $1::oid AND k.ord <= i.indnkeyatts "
    "ORDER BY i.indisprimary DESC, ic.relname, k.ord";

std::variant<std::vector<IndexInfo>, std::string> load_indexes(PgConnection& connection,
                                                               const std::string& oid) {
  auto result = connection.exec(kIndexQuery, {oid});
  if (auto* error = std::get_if<DbError>(&result)) {
    return "catalog query for the table's indexes failed: " + error->message;
  }
  const auto& rows = std::get<PgResult>(result);
  std::vector<IndexInfo> indexes;
  for (int r = 0; r < rows.rows(); ++r) {
    if (indexes.empty() || indexes.back().name != rows.text(r, 0)) {
      indexes.push_back({rows.text(r, 0), rows.text(r, 1) == "t", rows.text(r, 2) == "t", {}});
    }
    auto& index = indexes.back();
    if (rows.is_null(r, 3) || rows.text(r, 5) != "t") {
      index.usable = false;  // an expression column, or a column that may be NULL
    } else {
      index.columns.push_back({rows.text(r, 3), rows.text(r, 4)});
    }
  }
  return indexes;
}

std::string column_names(const std::vector<KeyColumn>& columns) {
  std::string out;
  for (const auto& c : columns) {
    out += (out.empty() ? "" : ", ") + c.name;
  }
  return out;
}

std::string no_key_error(const std::string& table, const TableSpec& spec,
                         const std::vector<IndexInfo>& indexes) {
  std::string message = "table " + table +
                        " has no primary key: backfill and verify walk rows in key order, in "
                        "short batches, and need a unique, NOT NULL key to do it. Alternatives:";
  bool any = false;
  for (const auto& index : indexes) {
    if (index.usable) {
      message += "\n  - walk by the unique index on NOT NULL columns: --key-index " + index.name +
                 " (" + column_names(index.columns) + ")";
      message += "\n  - or make it the primary key: ALTER TABLE " + table +
                 " ADD PRIMARY KEY USING INDEX " + quote_ident(index.name);
      any = true;
    }
  }
  if (!any) {
    message += "\n  - add a primary key (ALTER TABLE " + table +
               " ADD PRIMARY KEY (...)), or a unique index on NOT NULL columns and pass "
               "--key-index NAME";
  }
  message += "\n  - or copy the column yourself in a maintenance window (UPDATE " + table +
             " SET " + quote_ident(spec.new_column) + " = " + new_from_old(spec) +
             "), then run switchyard verify";
  return message;
}

}  // namespace

TableSpec columns_spec(const config::Migration& migration) {
  TableSpec spec;
  spec.schema = config::identifier_name(migration.schema);
  spec.table = config::identifier_name(migration.table);
  spec.old_column = config::identifier_name(migration.old_column);
  spec.new_column = config::identifier_name(migration.new_column);
  spec.to_new = migration.to_new;
  spec.to_old = migration.to_old;
  return spec;
}

std::variant<TableSpec, std::string> describe_table(PgConnection& connection,
                                                    const config::Migration& migration,
                                                    const std::string& key_index) {
  TableSpec spec = columns_spec(migration);
  const std::string table = display_name(spec.schema, spec.table);

  auto found = connection.exec(
      "SELECT c.oid::text, c.relkind::text FROM pg_catalog.pg_class c "
      "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname = $1 AND c.relname = $2",
      {spec.schema, spec.table});
  if (auto* error = std::get_if<DbError>(&found)) {
    return "catalog query for table " + table + " failed: " + error->message;
  }
  const auto& rel = std::get<PgResult>(found);
  if (rel.rows() == 0) {
    return "table " + table + " does not exist (migration \"" + migration.name + "\")";
  }
  if (rel.text(0, 1) != "r" && rel.text(0, 1) != "p") {
    return table + " is not a table (relkind '" + rel.text(0, 1) +
           "'): a migration maps the columns of a table, so declare the base table that holds "
           "them";
  }
  const std::string oid = rel.text(0, 0);

  auto columns = connection.exec(
      std::string("SELECT a.attname, ") + kAttributeCollation +
          ", pg_catalog.format_type(a.atttypid, a.atttypmod), "
          "(SELECT t.typname FROM pg_catalog.pg_type t WHERE t.oid = a.atttypid), "
          "(SELECT pg_catalog.format_type(t.typelem, NULL) FROM pg_catalog.pg_type t "
          "WHERE t.oid = a.atttypid AND t.typcategory = 'A'), a.attnum"
          " FROM pg_catalog.pg_attribute a "
          "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped",
      {oid});
  if (auto* error = std::get_if<DbError>(&columns)) {
    return "catalog query for the columns of " + table + " failed: " + error->message;
  }
  bool has_old = false;
  bool has_new = false;
  std::string old_element;  // an array's element type, "" otherwise
  std::string new_element;
  const auto& cols = std::get<PgResult>(columns);
  for (int r = 0; r < cols.rows(); ++r) {
    // Equality these types define calls values equal that a reader tells apart ('ABC' and
    // 'abc', '1 mon' and '30 days', -0 and 0, {"a": 1.0} and {"a": 1}).
    const std::string type_name = cols.text(r, 3);
    const bool loose = type_name == "citext" || type_name == "interval" || type_name == "float4" ||
                       type_name == "float8" || type_name == "jsonb";
    if (cols.text(r, 0) == spec.old_column) {
      has_old = true;
      spec.old_collation = cols.text(r, 1);
      spec.old_type = cols.text(r, 2);
      spec.old_as_text = loose;
      old_element = cols.text(r, 4);
      spec.old_attnum = std::stoi(cols.text(r, 5));
    } else if (cols.text(r, 0) == spec.new_column) {
      has_new = true;
      spec.new_collation = cols.text(r, 1);
      spec.new_type = cols.text(r, 2);
      spec.new_as_text = loose;
      new_element = cols.text(r, 4);
      spec.new_attnum = std::stoi(cols.text(r, 5));
    }
  }
  if (!has_old) {
    return "table " + table + " has no column \"" + spec.old_column + "\" (old_column of " +
           "migration \"" + migration.name + "\"): there is nothing to copy from";
  }
  if (!has_new) {
    return "table " + table + " has no column \"" + spec.new_column + "\" (new_column of " +
           "migration \"" + migration.name +
           "\"): add it first, nullable (DESIGN step 1: " + "ALTER TABLE " + table +
           " ADD COLUMN " + quote_ident(spec.new_column) + " ...)";
  }

  // IS DISTINCT FROM needs the type's equality operator; json, xml and point have none. An
  // array's is found when planned whatever its element, and fails when run if the element has
  // none (json[]), so the element is asked too.
  for (auto [column, as_text, element] :
       {std::tuple{&spec.old_column, &spec.old_as_text, &old_element},
        std::tuple{&spec.new_column, &spec.new_as_text, &new_element}}) {
    auto compared =
        connection.exec("EXPLAIN SELECT 1 FROM " + qualified_name(spec) + " WHERE " +
                        quote_ident(*column) + " IS DISTINCT FROM " + quote_ident(*column));
    auto* error = std::get_if<DbError>(&compared);
    *as_text = *as_text || (error != nullptr && error->sqlstate == "42883");  // no operator
    if (!*as_text && !element->empty()) {
      auto elements = connection.exec("EXPLAIN SELECT NULL::" + *element +
                                      " IS DISTINCT FROM NULL::" + *element);
      auto* element_error = std::get_if<DbError>(&elements);
      *as_text = element_error != nullptr && element_error->sqlstate == "42883";
    }
  }

  auto loaded = load_indexes(connection, oid);
  if (auto* error = std::get_if<std::string>(&loaded)) {
    return *error;
  }
  const auto& indexes = std::get<std::vector<IndexInfo>>(loaded);
  for (const auto& index : indexes) {
    if (key_index.empty() ? index.primary : index.name == key_index) {
      if (!index.usable) {
        return "index " + index.name + " on " + table +
               " cannot be a walking key: it must be a unique btree index without predicate "
               "or expressions, over NOT NULL columns";
      }
      spec.key = index.columns;
      return spec;
    }
  }
  if (!key_index.empty()) {
    return "table " + table + " has no index named \"" + key_index + "\"";
  }
  return no_key_error(table, spec, indexes);
}

std::vector<std::string> walking_indexes(PgConnection& connection, const TableSpec& spec) {
  auto found = connection.exec(
      "SELECT c.oid::text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON "
      "n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
      {spec.schema, spec.table});
  const auto* rel = std::get_if<PgResult>(&found);
  if (rel == nullptr || rel->rows() == 0) {
    return {};
  }
  auto loaded = load_indexes(connection, rel->text(0, 0));
  std::vector<std::string> names;
  if (const auto* indexes = std::get_if<std::vector<IndexInfo>>(&loaded)) {
    for (const auto& index : *indexes) {
      if (index.usable && !index.primary) {
        names.push_back(index.name);
      }
    }
  }
  return names;
}

std::optional<long long> estimate_rows(PgConnection& connection, const TableSpec& spec) {
  auto estimate = connection.exec(
      "SELECT c.reltuples::bigint FROM pg_catalog.pg_class c "
      "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname = $1 AND c.relname = $2",
      {spec.schema, spec.table});
  if (auto* result = std::get_if<PgResult>(&estimate); result && result->rows() == 1) {
    long long rows = std::stoll(result->text(0, 0));
    if (rows > 0) {
      return rows;
    }
  }
  // Never analyzed (reltuples = -1) or a partitioned parent: count, but never for long.
  auto counted = connection.exec("BEGIN; SET LOCAL statement_timeout = '10s'");
  if (std::holds_alternative<DbError>(counted)) {
    return std::nullopt;
  }
  auto count = connection.exec("SELECT count(*) FROM " + qualified_name(spec));
  connection.exec("COMMIT");
  if (auto* result = std::get_if<PgResult>(&count); result && result->rows() == 1) {
    return std::stoll(result->text(0, 0));
  }
  return std::nullopt;
}

TransformCheck transforms_misfit(PgConnection& connection, const TableSpec& spec,
                                 config::Writes writes, config::Reads reads) {
  // Each statement with the key of the transform it runs.
  std::vector<std::pair<std::string, std::string>> statements;
  // One assignment per statement: a user allowed to update only the new column (as backfill
  // needs) still gets that one checked.
  auto assignment = [&](const std::string& column, const std::string& value) {
    return "UPDATE " + qualified_name(spec) + " SET " + quote_ident(column) + " = (" + value +
           ") WHERE false";
  };
  // The old column stands in for a value of its type; once it is dropped (writes and reads
  // "new") its type is gone, and so is this check.
  auto old_exists = column_exists(connection, spec, spec.old_column);
  const bool have_old = std::holds_alternative<bool>(old_exists) && std::get<bool>(old_exists);
  if (writes != config::Writes::old_column && have_old) {
    statements.emplace_back(assignment(spec.new_column, new_from_old(spec)), "to_new");
  }
  if (writes == config::Writes::both && have_old) {
    statements.emplace_back(assignment(spec.old_column, old_from_new(spec)), "to_old");
  }
  if (reads == config::Reads::new_column) {
    statements.emplace_back(
        "SELECT (" + old_from_new(spec) + ") FROM " + qualified_name(spec) + " WHERE false",
        "to_old");
  }
  TransformCheck check;
  if (statements.empty()) {
    return check;
  }
  // EXPLAIN of an UPDATE takes the table's ROW EXCLUSIVE lock: never wait long for it. A lock
  // held longer (a LOCK TABLE, an ALTER TABLE queued) leaves the transforms unchecked, which is
  // not the same as fitting: a misfit passed here would fail every rewritten write.
  auto begun =
      connection.exec("BEGIN; SET LOCAL lock_timeout = '1s'; SET LOCAL statement_timeout = '5s'");
  if (auto* error = std::get_if<DbError>(&begun)) {
    check.unchecked = error->message;
    return check;
  }
  for (const auto& [statement, key] : statements) {
    connection.exec("SAVEPOINT misfit");
    auto explained = connection.exec("EXPLAIN " + statement);
    auto* error = std::get_if<DbError>(&explained);
    if (error == nullptr) {
      continue;
    }
    if (error->connection_lost() || error->transient()) {
      check.unchecked = error->message;
      break;
    }
    if (error->sqlstate != "42501") {
      check.misfit = error->message + " (in: " + statement + ")";
      check.misfit_key = key;
      break;
    }
    connection.exec("ROLLBACK TO SAVEPOINT misfit");  // not ours to check: go on with the next
  }
  connection.exec("ROLLBACK");
  return check;
}

std::variant<bool, std::string> column_exists(PgConnection& connection, const TableSpec& spec,
                                              const std::string& column) {
  auto type = column_type(connection, spec, column);
  if (auto* error = std::get_if<DbError>(&type)) {
    return error->message;
  }
  return !std::get<std::string>(type).empty();
}

std::variant<std::string, DbError> column_type(PgConnection& connection, const TableSpec& spec,
                                               const std::string& column) {
  auto result = connection.exec(
      "SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a "
      "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
      "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname = $1 AND c.relname = $2 AND a.attname = $3 AND a.attnum > 0 "
      "  AND NOT a.attisdropped",
      {spec.schema, spec.table, column});
  if (auto* error = std::get_if<DbError>(&result)) {
    return *error;
  }
  const auto& rows = std::get<PgResult>(result);
  return rows.rows() > 0 ? rows.text(0, 0) : std::string();
}

}  // namespace switchyard::backfill
