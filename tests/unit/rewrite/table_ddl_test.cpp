// may_change_columns and table_ddl: a text in, the relations whose column lists it may change
// out (every relation where it cannot tell), so the engine reads them again.

#include "rewrite/table_ddl.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchyard::rewrite {
namespace {

struct TableDdlCase {
  const char* sql;
  bool may_change;
  bool any;
  std::vector<std::string> tables;
  std::vector<std::string> created = {};
};

TEST(TableDdlTest, Table) {
  const TableDdlCase cases[] = {
      {"SELECT status FROM tags", false, false, {}},
      {"UPDATE users SET name = 'x' WHERE id IN (SELECT id FROM tags)", false, false, {}},
      {"ALTER TABLE tags ADD COLUMN status text DEFAULT 'zzz'", true, true, {"tags"}},
      {"  /* c */ alter table other.Extra drop column n", true, true, {"extra"}},
      {"ALTER TABLE tags RENAME COLUMN kind TO status", true, true, {"tags"}},
      {"ALTER TABLE tags RENAME TO labels", true, false, {"tags"}},
      {"ALTER TABLE tags SET SCHEMA s2", true, false, {"tags"}},
      {"ALTER TYPE ttype ADD ATTRIBUTE state text CASCADE", true, true, {"ttype"}},
      {"DROP TABLE IF EXISTS tags, s2.more CASCADE", true, false, {"tags", "more"}},
      {"DROP VIEW v", true, false, {"v"}},
      {"CREATE TABLE s2.tags (id int, status text)", true, false, {}, {"tags"}},
      {"CREATE TEMP TABLE stage (LIKE users) ON COMMIT DROP", true, false, {}, {"stage"}},
      {"DO $$BEGIN ALTER TABLE tags ADD COLUMN state text; END$$", true, true, {}},
      {"SELECT 1; DO $$BEGIN ALTER TABLE tags ADD COLUMN state text; END$$", true, true, {}},
      {"SELECT 1; SELECT 2 AS done", false, false, {}},
      {"CREATE OR REPLACE VIEW v AS SELECT * FROM tags", true, false, {"v", "tags"}},
      {"CREATE TABLE t2 AS SELECT x FROM tags", true, false, {}, {"t2"}},
      {"CREATE INDEX ON tags (name)", true, false, {}},
      {"CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'select 1'", true, false, {}},
      {"DROP SCHEMA s2 CASCADE", true, true, {}},
      {"DROP TYPE mood CASCADE", true, true, {}},
      {"DROP TYPE mood", true, false, {}},
      {"ALTER SCHEMA s2 RENAME TO s3", true, true, {}},
      {"DROP OWNED BY app", true, true, {}},
      {"BEGIN; ALTER TABLE tags ADD COLUMN status text; COMMIT", true, true, {"tags"}},
      {"ALTER TABLE tags ADD COLUMN (", true, false, {}},  // does not parse: the server says so
  };
  for (const TableDdlCase& c : cases) {
    SCOPED_TRACE(c.sql);
    EXPECT_EQ(may_change_columns(c.sql), c.may_change);
    if (c.may_change) {
      const TableDdl ddl = table_ddl(c.sql);
      EXPECT_EQ(ddl.any, c.any);
      EXPECT_EQ(ddl.tables, c.tables);
      EXPECT_EQ(ddl.created, c.created);
    }
  }
}

}  // namespace
}  // namespace switchyard::rewrite
