"""The position of an error answering a rewritten statement, through the real proxy.

Postgres gives the position (ErrorResponse field 'P', in characters) into the text it ran; for
a text the proxy rewrote, that is the rewritten text, longer than the client's. The proxy tells
it in the client's text (psql's caret then points where it would straight to Postgres): a
stretch the rewrite kept maps exactly, a copy of the client's value inside the rewrite's own
text maps to that value, the rest of the rewrite's own text to the point of its insertion.
Each case is compared with the same text sent straight to Postgres, where a direct run errs
too, and the table is checked unchanged in Postgres.
The schema is test_rewrite's, plus `acc.n` int -> `acc.n_big` bigint (no transform).
"""

import os
import subprocess

import psycopg

from harness import rawclient as wire
from harness.base import requires_proxy
from harness.postgres import PG_BIN
from test_rewrite import TYPE_CHANGE, RewriteCase, both_migrations, migration

ACC = {"name": "acc-n-to-n-big", "table": "public.acc", "old_column": "n",
       "new_column": "n_big", "writes": "both", "reads": "old"}


@requires_proxy
class ErrorPositionTest(RewriteCase):
    MIGRATIONS = both_migrations(writes="both", reads="old") + [ACC]

    @classmethod
    def prepare_database(cls):
        cls.pg.query("CREATE TABLE acc (id int PRIMARY KEY, n int);"
                     "ALTER TABLE acc ADD COLUMN n_big bigint")

    def setUp(self):
        super().setUp()
        self.pg.query("TRUNCATE acc; INSERT INTO acc VALUES (1, 7, 7)")

    def direct_position(self, text):
        """The position Postgres gives straight for `text`, and its SQLSTATE."""
        with self.pg.connect() as conn:
            try:
                conn.pgconn.exec_(b"BEGIN")
                result = conn.pgconn.exec_(text.encode())
                self.assertEqual(result.status, psycopg.pq.ExecStatus.FATAL_ERROR, text)
                return (result.error_field(psycopg.pq.DiagnosticField.STATEMENT_POSITION).decode(),
                        result.error_field(psycopg.pq.DiagnosticField.SQLSTATE).decode())
            finally:
                conn.pgconn.exec_(b"ROLLBACK")

    def proxy_error(self, text, extended=False):
        """The one ErrorResponse the proxy answers `text` with (simple Query or Parse)."""
        with self.raw_session() as conn:
            if extended:
                conn.send(wire.parse(text) + wire.bind() + wire.execute() + wire.sync())
                messages = conn.read_until_ready()
            else:
                messages = conn.simple(text)
            errors = wire.errors(messages)
            self.assertEqual(len(errors), 1, messages)
            # The session goes on.
            self.assertEqual(wire.rows(conn.simple("SELECT 1")), [["1"]])
            return errors[0]

    def assert_as_direct(self, text, extended=False):
        position, code = self.direct_position(text)
        error = self.proxy_error(text, extended)
        self.assertEqual((error.get("P"), error["C"]), (position, code), text)
        self.assertLessEqual(int(error["P"]), len(text) + 1)
        return error

    def test_a_value_the_rewrite_writes_twice_is_pointed_at_where_the_client_wrote_it(self):
        # Sent as `... n = 'abc', n_big = 'abc'::integer ...`: Postgres errs at the second.
        for extended in (False, True):
            with self.subTest(extended=extended):
                self.assert_as_direct("update acc set n = 'abc' where id = 1", extended)
        self.assertEqual(self.pg.query("SELECT id, n, n_big FROM acc"), [(1, 7, 7)])

    def test_an_error_in_a_volatile_value_moved_into_a_cte_is_told_where_it_was_written(self):
        # Sent as `WITH switchyard_value1 AS MATERIALIZED (SELECT <value> AS v) insert ...`.
        for text in ("insert into acc(id, n) values (9, (random() * 0)::int + 'abc')",
                     "/* é */ insert into acc(id, n) values (8, 1), (9, random()::int + nosuch())"):
            with self.subTest(text=text):
                self.assert_as_direct(text)
        self.assertEqual(self.pg.query("SELECT id, n, n_big FROM acc"), [(1, 7, 7)])

    def test_a_latin1_session_is_told_positions_counted_as_postgres_counts_them(self):
        # `\xb0` is one LATIN1 character (`°`); UTF-8 counting would see none.
        text = "update acc set n = '\xb0\xb0\xb0\xb0' where id = 1 returning nosuch".encode("latin-1")

        def position(conn):
            conn.pgconn.exec_(b"BEGIN")
            result = conn.pgconn.exec_(text)
            conn.pgconn.exec_(b"ROLLBACK")
            field = result.error_field(psycopg.pq.DiagnosticField.STATEMENT_POSITION)
            return field and field.decode()

        with self.pg.connect(options="-c client_encoding=LATIN1") as direct, \
                self.connect(options="-c client_encoding=LATIN1") as proxied:
            self.assertEqual(position(proxied), position(direct))
            self.assertEqual(position(direct), "50")
        self.assertEqual(self.pg.query("SELECT id, n, n_big FROM acc"), [(1, 7, 7)])

    def test_psql_puts_its_caret_where_it_would_straight_to_postgres(self):
        text = "update acc set n = 'xyz' where id = 1 and true"
        env = dict(os.environ, PGPASSWORD=self.pg.password, PGCONNECT_TIMEOUT="10")

        def psql(conninfo):
            return subprocess.run([os.path.join(PG_BIN, "psql"), "-X", "-c", text, conninfo],
                                  capture_output=True, text=True, timeout=60, env=env).stderr

        through = psql(self.pg.conninfo(host=self.host, port=self.port, sslmode="disable"))
        direct = psql(self.pg.conninfo())
        self.assertIn("^", direct)
        self.assertEqual(through, direct)

    def test_an_error_in_returning_after_a_rewritten_insert(self):
        self.assert_as_direct("insert into acc (id, n) values (3, 4) returning id, n, nosuch + 1")
        self.assert_as_direct("insert into acc values (4, 'abc') returning id, n, id + 1 as nx",
                              extended=True)
        self.assertEqual(self.pg.query("SELECT id, n, n_big FROM acc"), [(1, 7, 7)])

    def test_an_error_in_a_later_statement_of_a_rewritten_text(self):
        text = "update users set status = 'x' where id = 1; select status, nosuch from users"
        self.assert_as_direct(text)

    def test_an_error_inside_a_transforms_text_is_told_at_its_point_of_insertion(self):
        # A to_new naming a function dropped since the proxy checked it: Postgres points at
        # the function's name, inside the text the rewrite added after the value; the client
        # is pointed just after the value, where that text went.
        self.pg.query("CREATE FUNCTION gone_soon(text) RETURNS smallint LANGUAGE sql "
                      "IMMUTABLE AS $$ SELECT 1::smallint $$")
        p = self.migration_proxy([migration(TYPE_CHANGE, writes="both", reads="old",
                                            to_new="gone_soon({value})")])
        self.pg.query("DROP FUNCTION gone_soon(text)")
        text = "update accounts set status = 'active' where id = 1"
        with self.connect_to(p) as conn:
            result = conn.pgconn.exec_(text.encode())
        self.assertEqual(result.error_field(psycopg.pq.DiagnosticField.SQLSTATE), b"42883")
        self.assertEqual(result.error_field(psycopg.pq.DiagnosticField.STATEMENT_POSITION),
                         str(len("update accounts set status = 'active'") + 1).encode())

    def test_a_text_filled_in_from_the_rewrite_of_its_shape(self):
        # The rewrite of `update acc set n = '...' where id = ... or id = ...` is made once and
        # filled in with each later text's constants, of other lengths: the position is told
        # through the shape's map and the text's own literals.
        self.assert_as_direct("update acc set n = 'first' where id = 2 or id = 3")
        self.assert_as_direct("update acc set n = 'second one' where id = 3 or id = 4")
        self.assert_as_direct("update acc set n = 'x' where id = 33333 or id = 'é'")
        self.assert_as_direct("update acc set n = 'é' where id = 3 or id = 4", extended=True)
        # An error past literals of other lengths than the first text's.
        self.assert_as_direct("update acc set n = 5 where id = 1 returning id, nosuch")
        self.assert_as_direct("update acc set n = 123456 where id = 987654 returning id, nosuch")
        self.assert_as_direct("update acc set n = 1 where id = 'é' returning id, nosuch")
