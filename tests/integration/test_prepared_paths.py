"""Prepared statements and COPY through the extended protocol, checked in the table.

Postgres analyzes a prepared statement (protocol Parse or SQL PREPARE) again when the session's
search_path changed since it was prepared: an unqualified `users` may then be another table. The
proxy rewrites such a statement again under the path in force and, when that changes its text,
prepares it again before it runs, as after a flip; a schema-per-tenant app (SET search_path per
request, prepared statements) would otherwise write one column of public.users, or read another
table's. A COPY FROM STDIN started by Execute gets the data rows of its rewritten column list,
and a CopyInResponse announces the client's own columns, not the rewritten list's.
"""

import struct

from harness import rawclient as wire
from harness.base import requires_proxy
from test_rewrite import RENAME, RewriteCase, migration

INSERT = "INSERT INTO users (id, status) VALUES ($1, $2)"


def copy_in_columns(payload: bytes):
    """(overall format, per-column format codes) of a CopyInResponse."""
    overall, count = struct.unpack_from("!bh", payload, 0)
    return overall, list(struct.unpack_from(f"!{count}h", payload, 3))


@requires_proxy
class PreparedPathsTest(RewriteCase):

    MIGRATIONS = [migration(RENAME, writes="both", reads="old")]

    @classmethod
    def prepare_database(cls):
        # A tenant schema whose users table is not mapped: rewriting it would be as wrong as
        # leaving public.users unrewritten.
        cls.pg.query("CREATE SCHEMA s7; "
                     "CREATE TABLE s7.users (id int PRIMARY KEY, status text, state text)")

    def setUp(self):
        super().setUp()
        self.proxy.reload(self.MIGRATIONS)
        self.direct("TRUNCATE s7.users")

    def run_ok(self, conn, data):
        conn.send(data)
        answer = conn.read_until_ready()
        self.assertEqual(wire.errors(answer), [])
        return answer

    def test_a_protocol_statement_follows_the_search_path(self):
        with self.raw_session() as conn:
            self.run_ok(conn, wire.query("SET search_path = s7, public"))
            self.run_ok(conn, wire.parse(INSERT, "ins") + wire.bind(("1", "tenant"), "", "ins") +
                        wire.execute() + wire.sync())
            self.run_ok(conn, wire.query("SET search_path = public"))
            self.run_ok(conn, wire.bind(("2", "public"), "", "ins") + wire.execute() +
                        wire.sync())
            self.run_ok(conn, wire.query("SET search_path = s7, public"))
            self.run_ok(conn, wire.describe(b"S", "ins") + wire.bind(("3", "tenant again"), "",
                                                                     "ins") +
                        wire.execute() + wire.sync())
        self.assertEqual(self.rows("users"), [(2, "public", "public")])
        self.assertEqual(self.rows("s7.users"), [(1, "tenant", None), (3, "tenant again", None)])

    def test_a_read_answers_from_the_table_the_path_names(self):
        self.proxy.reload([migration(RENAME, writes="new", reads="new")])
        self.direct("INSERT INTO users (id, status, state) VALUES (1, 'OLD', 'NEW')")
        self.direct("INSERT INTO s7.users (id, status, state) VALUES (1, 's7-status', 's7-state')")
        read = wire.bind(("1",), "", "get") + wire.execute() + wire.sync()
        with self.raw_session() as conn:
            self.run_ok(conn, wire.parse("SELECT status FROM users WHERE id = $1", "get") +
                        wire.sync())
            self.assertEqual(wire.rows(self.run_ok(conn, read)), [["NEW"]])
            self.run_ok(conn, wire.query("SET search_path = s7, public"))
            self.assertEqual(wire.rows(self.run_ok(conn, read)), [["s7-status"]])
            # A SET undone by ROLLBACK brings the statement back to public.users.
            self.run_ok(conn, wire.query("BEGIN; SET search_path = public"))
            self.assertEqual(wire.rows(self.run_ok(conn, read)), [["NEW"]])
            self.run_ok(conn, wire.query("ROLLBACK"))
            self.assertEqual(wire.rows(self.run_ok(conn, read)), [["s7-status"]])

    def test_an_sql_prepare_follows_the_search_path(self):
        with self.raw_session() as conn:
            self.run_ok(conn, wire.query("SET search_path = s7, public"))
            self.run_ok(conn, wire.query("PREPARE p1 (int, text) AS " + INSERT))
            self.run_ok(conn, wire.query("SET search_path = public"))
            answer = self.run_ok(conn, wire.query("EXECUTE p1 (2, 'public')"))
            self.assertEqual(wire.kinds(answer), b"CZ", "the re-prepare's answers are hidden")
            self.run_ok(conn, wire.query("SET search_path = s7, public"))
            self.run_ok(conn, wire.query("EXECUTE p1 (3, 'tenant')"))
            # A Parse of an EXECUTE cannot carry the re-prepare in front: refused, not run.
            self.run_ok(conn, wire.query("SET search_path = public"))
            conn.send(wire.parse("EXECUTE p1 (4, 'refused')") + wire.bind() + wire.execute() +
                      wire.sync())
            err = wire.errors(conn.read_until_ready())
            self.assertEqual(err[0]["C"], "0A000", err)
            self.assertIn("search_path", err[0]["M"])
        self.assertEqual(self.rows("users"), [(2, "public", "public")])
        self.assertEqual(self.rows("s7.users"), [(3, "tenant", None)])
