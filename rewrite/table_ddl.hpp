#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "rewrite/pg_query_handles.hpp"
#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite {

/// The relations whose column lists a DDL text may change, by table name as the catalog keys
/// them, so that what the engine knows of them is read again: a bare name in a sub-select over
/// an unmapped table resolves to the outer mapped table while that table's columns are stale.
struct TableDdl {
  bool any = false;  ///< every relation may have changed (DROP SCHEMA ... CASCADE, DROP OWNED, DO)
  std::vector<std::string> tables;
  /// Created (CREATE TABLE [AS]): read again too, as the catalog may know the name as absent,
  /// but no columns of theirs can be stale, and an absent table's are unknown to the rewrite.
  std::vector<std::string> created;
};

/// The cheap test every text pays: false means certainly no ALTER, DROP, CREATE or DO.
bool may_change_columns(std::string_view sql);
/// The same, with the text's sole_statement_verb() already known.
bool may_change_columns(std::string_view sql, detail::SoleVerb verb);

/// What `sql` (a text may_change_columns let through) changes; empty when it changes no
/// column list or does not parse.
TableDdl table_ddl(std::string_view sql);
/// The same for one parsed statement, added to `ddl`.
void add_table_ddl(const detail::Node* stmt, TableDdl& ddl);

}  // namespace switchyard::rewrite
