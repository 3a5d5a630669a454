"""Every read gives, through Switchyard, what it gave before the migration began.

The contract of DESIGN §3, checked by running the statements themselves: a database `before`
holds the schema as the app knew it, and a database `app` the same rows with the new column
added and filled (N = to_new(O), as a backfill leaves it; a type change with transforms, and in
a third database a rename). Each read statement runs straight against `before` and through the
proxy against the other, under reads = "new" and then "old" (with N in the catalog). The two
answers must match: the same column names, the same column types, the same rows. A refusal
(0A000) is allowed, it is the documented answer to what the rewrite does not support (at most a
tenth of them); a different answer is a bug.

The statements are the read texts of the rewrite unit tests (tests/unit/rewrite/*.cpp: the
shapes the rules were written for; those that fail on `before` are skipped) and EXTRA below. The
rows are compared as sorted lists. Each statement goes through the proxy twice: with Parse, Bind
and Execute, and as a simple Query.

One difference is Postgres's own and not compared: a whole-row value (`row_to_json(u)`,
`SELECT u`) has a field for every column of the table, so once N is added it has N's field too,
with or without the proxy. JSON objects have N's key dropped before comparing, and a row of the
table's type is compared without its last field (N is the last column added).
"""

import os
import re
import sys
import unittest

import psycopg

from harness import postgres, proxy
from harness.base import IntegrationCase, requires_proxy
from test_rewrite import MigrationProxy

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz"))
from make_corpus import c_literals  # noqa: E402  (the unit tests' SQL, as the fuzz seeds take it)

UNIT_TESTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit", "rewrite")

# The rewrite unit tests' catalog (tests/unit/rewrite/rewrite_test_support.hpp), with rows.
BEFORE = """
CREATE TABLE users (id int PRIMARY KEY, status text, name varchar(40));
CREATE TABLE orders (id int PRIMARY KEY, user_id int, status text, total int);
CREATE TABLE accounts (id int PRIMARY KEY, owner int);
CREATE SCHEMA audit;
CREATE TABLE audit.users (id int, status text);
INSERT INTO users VALUES (1, 'active', 'ann'), (2, 'inactive', 'bob'), (3, NULL, 'cy'),
                         (4, 'active', NULL), (5, 'inactive', 'di');
INSERT INTO orders VALUES (10, 1, 'open', 5), (11, 1, 'active', 7), (12, 2, 'inactive', 9),
                          (13, 9, NULL, 1), (14, 4, 'active', 3);
INSERT INTO accounts VALUES (1, 1), (2, 3), (4, 4);
INSERT INTO audit.users VALUES (1, 'audited');
"""
# A type change with transforms, in the harness's database.
AFTER = BEFORE + """
ALTER TABLE users ADD COLUMN state smallint;
UPDATE users SET state = CASE status WHEN 'active' THEN 1 WHEN 'inactive' THEN 0 END;
"""
MIGRATION = {"name": "users-status-to-state", "table": "public.users", "old_column": "status",
             "new_column": "state", "writes": "both",
             "to_new": "CASE {value} WHEN 'active' THEN 1 WHEN 'inactive' THEN 0 END",
             "to_old": "CASE {value} WHEN 1 THEN 'active' WHEN 0 THEN 'inactive' END"}
# A rename, in a database of its own.
RENAMED = "renamed"
AFTER_RENAME = BEFORE + """
ALTER TABLE users ADD COLUMN state text;
UPDATE users SET state = status;
"""
RENAME = {"name": "users-status-renamed", "table": "public.users", "old_column": "status",
          "new_column": "state", "writes": "both"}

# Shapes applications and query builders send that the unit tests do not spell out.
EXTRA = [
    "SELECT * FROM users",
    "TABLE users",
    "TABLE users ORDER BY id LIMIT 2",
    "select*from users",
    "SELECT u.* FROM users u WHERE u.status = 'active'",
    "SELECT * FROM orders o JOIN users u ON u.id = o.user_id",
    "SELECT * FROM users a, users b WHERE a.id = b.id",
    "SELECT * FROM users NATURAL JOIN orders",
    "SELECT * FROM users u LEFT JOIN orders o USING (status)",
    "SELECT status, count(*) FROM users GROUP BY status",
    "SELECT status, count(*) FROM users GROUP BY 1 ORDER BY 2 DESC",
    "SELECT DISTINCT status FROM users",
    "SELECT DISTINCT ON (status) id, status FROM users ORDER BY status, id DESC",
    "SELECT id FROM users WHERE status IN ('active', 'x') ORDER BY status NULLS FIRST, id",
    "SELECT id FROM users WHERE status IS NULL",
    "SELECT id, coalesce(status, 'none') AS status FROM users",
    "SELECT upper(status) AS s, length(status) FROM users",
    "SELECT (status = 'active')::int AS a FROM users",
    "SELECT CASE WHEN status = 'active' THEN 'yes' ELSE 'no' END FROM users",
    "SELECT status, rank() OVER (PARTITION BY status ORDER BY id) FROM users",
    "SELECT string_agg(status, ',' ORDER BY id) FROM users",
    "SELECT count(*) FILTER (WHERE status = 'active') FROM users",
    "SELECT status FROM users UNION SELECT status FROM orders",
    "SELECT status FROM users INTERSECT SELECT status FROM orders",
    "SELECT id FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.status = u.status)",
    "SELECT id FROM users WHERE status = ANY (SELECT status FROM orders)",
    "SELECT u.id, (SELECT count(*) FROM orders o WHERE o.user_id = u.id) FROM users u",
    "SELECT u.status, l.total FROM users u, LATERAL (SELECT total FROM orders o "
    "WHERE o.user_id = u.id ORDER BY id DESC LIMIT 1) l",
    "WITH a AS (SELECT * FROM users WHERE status = 'active') SELECT a.status, count(*) FROM a "
    "GROUP BY a.status",
    "WITH RECURSIVE r AS (SELECT id, status FROM users WHERE id = 1 UNION ALL SELECT u.id, "
    "u.status FROM users u JOIN r ON u.id = r.id + 1) SELECT * FROM r",
    "SELECT * FROM (SELECT status, count(*) AS n FROM users GROUP BY status) s WHERE n > 1",
    "SELECT jsonb_build_object('id', id, 'status', status) FROM users",
    "SELECT json_agg(json_build_object('s', status) ORDER BY id) FROM users",
    "SELECT row_to_json(u) FROM users u",
    "SELECT ROW(u.*) FROM users u",
    "SELECT \"status\" FROM \"users\" WHERE \"users\".\"status\" = 'inactive'",
    "SELECT public.users.status FROM public.users",
    "SELECT users.status AS users_status, count(users.id) AS count_1 FROM users "
    "GROUP BY users.status",
    "SELECT count(*) AS count_1 FROM (SELECT users.id AS users_id, users.status AS "
    "users_status FROM users WHERE users.status = 'active') AS anon_1",
    "SELECT c0.id, c0.status FROM users AS c0 WHERE (c0.status = 'inactive')",
    "SELECT status FROM users ORDER BY status COLLATE \"C\"",
    "SELECT status FROM users GROUP BY GROUPING SETS ((status), ())",
    "VALUES ((SELECT status FROM users WHERE id = 2))",
    "SELECT o.*, u.status AS customer_status FROM orders o JOIN users u ON u.id = o.user_id",
]

# Reads only: a text that writes, locks, samples or asks for something volatile is not compared.
NOT_A_READ = re.compile(
    r"\b(state|insert|update|delete|merge|copy|into|for\s+update|for\s+share|tablesample|"
    r"random|now|clock_timestamp|nextval|setval|pg_sleep|gen_random_uuid|txid\w*|xmin|ctid|"
    r"set_config|discard|reset|set)\b|\$\d|\{value\}", re.I)
READ = re.compile(r"^\s*(\(\s*)*(select|with|table|values)\b", re.I)


def statements():
    texts = set(EXTRA)
    for name in sorted(os.listdir(UNIT_TESTS)):
        if name.endswith(".cpp"):
            with open(os.path.join(UNIT_TESTS, name), encoding="utf-8") as f:
                texts.update(t for t in c_literals(f.read())
                             if READ.match(t) and not NOT_A_READ.search(t))
    return sorted(texts)


def without_new_column(value):
    """A value with N's field taken out of whole rows (see the module's docstring)."""
    if isinstance(value, dict):
        return {k: without_new_column(v) for k, v in value.items() if k != "state"}
    if isinstance(value, list):
        return [without_new_column(v) for v in value]
    return value


class Endpoint:
    """One side of the comparison: a connection made again if a statement broke it."""

    def __init__(self, connect):
        self.connect = connect
        self.conn = connect()

    def answer(self, sql, simple=False):
        """("ok", [(name, type)], sorted rows) or ("error", SQLSTATE, message). `simple`: sent
        as a simple Query (psycopg's ClientCursor), else with Parse, Bind and Execute."""
        try:
            with self.conn.transaction(force_rollback=True):
                if simple:
                    cur = psycopg.ClientCursor(self.conn).execute(sql)
                else:
                    cur = self.conn.execute(sql, prepare=False)
                if cur.description is None:
                    return ("ok", None, None)
                columns = [(d.name, d.type_code) for d in cur.description]
                rows = [tuple(without_new_column(v) for v in row) for row in cur.fetchall()]
                return ("ok", columns, sorted(rows, key=repr))
        except psycopg.Error as e:
            if e.sqlstate is None or self.conn.broken:
                self.close()
                self.conn = self.connect()
            return ("error", e.sqlstate, str(e).splitlines()[0] if str(e) else "")

    def close(self):
        try:
            self.conn.close()
        except psycopg.Error:
            pass


@requires_proxy
class ReadEquivalenceTest(IntegrationCase):

    @classmethod
    def setUpClass(cls):
        if not proxy.binary():
            raise unittest.SkipTest("needs SWITCHYARD_BIN: rewriting is the proxy's job")
        cls.pg = postgres.start_for_class(cls)
        with cls.pg.connect(dbname="postgres") as conn:
            conn.execute("CREATE DATABASE before")
        with cls.pg.connect(dbname="before") as conn:
            conn.execute(BEFORE)
            # The table's row type as the app knew it, for comparing a row of it.
            cls.row_type = conn.execute("SELECT 'users'::regtype::oid").fetchone()[0]
        with cls.pg.connect() as conn:
            conn.execute(AFTER)
            conn.execute(f"CREATE DATABASE {RENAMED}")
        cls.new_row_types = set()
        for dbname, schema in ((cls.pg.dbname, None), (RENAMED, AFTER_RENAME)):
            with cls.pg.connect(dbname=dbname) as conn:
                if schema:
                    conn.execute(schema)
                cls.new_row_types.add(conn.execute("SELECT 'users'::regtype::oid").fetchone()[0])
        cls.before = Endpoint(lambda: cls.pg.connect(dbname="before"))
        cls.addClassCleanup(cls.before.close)

    def compare(self, reads, migration=MIGRATION, dbname=None):
        dbname = dbname or self.pg.dbname
        p = MigrationProxy(self.pg, [dict(migration, reads=reads)],
                           upstream={"database": dbname})
        self._test_proxies.append(p)
        self.addCleanup(p.close)
        p.start()
        through = Endpoint(lambda: psycopg.connect(
            self.conninfo(host=p.host, port=p.port, dbname=dbname), autocommit=True))
        self.addCleanup(through.close)
        compared, refused, wrong = 0, [], []
        for sql in statements():
            expected = self.before.answer(sql)
            if expected[0] != "ok":
                continue  # not a statement of this schema
            expected = self.normalise_row_type(expected, self.row_type)
            compared += 1
            for simple in (False, True):
                got = self.normalise_row_type(through.answer(sql, simple))
                if got == expected:
                    continue
                if got[0] == "error" and got[1] == "0A000":
                    refused.append((sql, got[2])) if not simple else None
                else:
                    wrong.append((sql + (" (simple Query)" if simple else ""), expected, got))
        report = "\n".join(f"{sql}\n  before: {e}\n  proxy:  {g}" for sql, e, g in wrong)
        self.assertEqual(wrong, [], f"{len(wrong)} reads answered differently under "
                                    f"reads = {reads}:\n{report}")
        # Not vacuous: most of the statements ran, and most were served.
        self.assertGreaterEqual(compared, 200)
        self.assertLessEqual(len(refused), compared // 10, refused)
        return compared, refused

    def normalise_row_type(self, answer, row_type=None):
        """A column of the table's row type as text without its last field (N), named by one
        type on both sides."""
        if answer[0] != "ok" or answer[1] is None:
            return answer
        types = self.new_row_types | {row_type}
        rows = answer[2]
        columns = answer[1]
        for i, (name, oid) in enumerate(columns):
            if oid in types:
                columns = columns[:i] + [(name, "users")] + columns[i + 1:]
                if oid in self.new_row_types:
                    rows = [row[:i] + (re.sub(r",[^,]*\)$", ")", row[i]),) + row[i + 1:]
                            if isinstance(row[i], str) else row for row in rows]
        return ("ok", columns, sorted(rows, key=repr))

    def test_reads_new_answers_as_before(self):
        self.compare("new")

    def test_reads_old_with_the_new_column_present_answers_as_before(self):
        self.compare("old")

    def test_a_rename_answers_as_before(self):
        for reads in ("new", "old"):
            with self.subTest(reads=reads):
                self.compare(reads, RENAME, RENAMED)
