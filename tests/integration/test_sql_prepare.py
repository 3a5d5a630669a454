"""Statements prepared in SQL (PREPARE / EXECUTE) across a flip.

A statement prepared with SQL PREPARE keeps, on the server, the rewrite of the flags it was
prepared under: run as it was, a PREPARE made while writes were "old" would go on writing only
the old column once writes are "both" (drift). So a simple query that EXECUTEs one whose rewrite
changed gets DEALLOCATE and PREPARE in front of its text, their answers hidden (DESIGN §4: the
client notices nothing), and the proxy takes the statement for prepared again only once the
server answered both. Where statements cannot be put in front (an EXECUTE in a Parse, a Bind of
a statement prepared in SQL as libpq's PQexecPrepared, an SQL EXECUTE of a protocol-level
statement, a name prepared with two texts) the run is refused with the fix. A PREPARE or Parse
of a name the server has fails there (42P05) and leaves the statement it has: the proxy does not
take the failed text for the server's, nor a Parse or Close the server skipped after an error in
its batch. Checked in the table.
"""

import psycopg
from psycopg import pq

from harness import rawclient as wire
from harness.base import requires_proxy
from test_rewrite import RENAME, RewriteCase, both_migrations, migration

UPDATE = "PREPARE up(int, text) AS UPDATE users SET status = $2 WHERE id = $1"


@requires_proxy
class SqlPrepareTest(RewriteCase):

    def setUp(self):
        super().setUp()
        self.proxy.reload(both_migrations(writes="old", reads="old"))
        self.direct("INSERT INTO users (id, status, state) VALUES (1, 'a', 'a'), (2, 'b', 'b')")

    def prepared(self, conn, name="up"):
        """The server's own record of a prepared statement: its text and when it was prepared."""
        found = wire.rows(conn.simple(
            f"SELECT statement, prepare_time FROM pg_prepared_statements WHERE name = '{name}'"))
        return tuple(found[0]) if found else None

    def test_an_execute_whose_rewrite_changed_prepares_it_again(self):
        with self.raw_session() as conn:
            self.assertEqual(wire.kinds(conn.simple(UPDATE)), b"CZ")
            self.proxy.reload(both_migrations(writes="both", reads="old"))
            # The client sees its own answer only: the DEALLOCATE and PREPARE in front are hidden.
            self.assertEqual(wire.kinds(conn.simple("EXECUTE up(1, 'inactive')")), b"CZ")
            self.assertEqual(self.rows("users")[0], (1, "inactive", "inactive"))
            statement, prepared_at = self.prepared(conn)
            self.assertIn("state", statement, "the server has the rewritten statement")
            # Prepared again once: the next EXECUTE runs it as it is.
            self.assertEqual(wire.kinds(conn.simple("EXECUTE up(2, 'active')")), b"CZ")
            self.assertEqual(self.prepared(conn), (statement, prepared_at))

            # A text of several statements keeps its own answers, in order.
            answer = conn.simple("SELECT 7; EXECUTE up(1, 'x')")
            self.assertEqual(wire.kinds(answer), b"TDCCZ")
            self.assertEqual(wire.rows(answer), [["7"]])

            # The extended protocol cannot put statements in front of a Parse: refused there.
            self.proxy.reload(both_migrations(writes="old", reads="old"))
            conn.send(wire.parse("EXECUTE up(1, 'old')") + wire.bind() + wire.execute() +
                      wire.sync())
            err = wire.errors(conn.read_until_ready())
            self.assertEqual(err[0]["C"], "0A000", err)
            self.assertIn('prepared statement "up"', err[0]["M"])
            self.assertIn("DEALLOCATE up", err[0]["M"])
            # And prepared again for a simple EXECUTE: writes are "old" now, one column. A
            # leading comment (a tracing tag) stays first in the text the server runs.
            answer = conn.simple("/* app:web */ EXECUTE up(1, 'old'); SELECT current_query()")
            self.assertEqual(wire.kinds(answer), b"CTDCZ")
            ran = wire.rows(answer)[0][0]
            self.assertTrue(ran.startswith("/* app:web */ DEALLOCATE up;"), ran)
            # Prepared and run in one text: it runs what it just prepared.
            self.proxy.reload(both_migrations(writes="both", reads="old"))
            self.assertEqual(wire.errors(conn.simple(
                "DEALLOCATE up; " + UPDATE + "; EXECUTE up(2, 'both')")), [])
        self.assertEqual(self.rows("users"), [(1, "old", "x"), (2, "both", "both")])

    def test_a_prepare_again_that_fails_is_tried_again(self):
        # In a failed transaction the server refuses the DEALLOCATE in front (the client sees
        # its error, 25P02, as it would for its EXECUTE) and keeps the old statement: the proxy
        # must not take it for prepared again.
        with self.raw_session() as conn:
            self.assertEqual(wire.kinds(conn.simple(UPDATE)), b"CZ")
            self.proxy.reload(both_migrations(writes="both", reads="old"))
            self.assertEqual(wire.kinds(conn.simple("BEGIN")), b"CZ")
            self.assertEqual(wire.errors(conn.simple("SELECT 1/0"))[0]["C"], "22012")
            failed = conn.simple("EXECUTE up(1, 'inactive')")
            self.assertEqual(wire.kinds(failed), b"EZ")
            self.assertEqual(wire.errors(failed)[0]["C"], "25P02")
            self.assertEqual(wire.kinds(conn.simple("ROLLBACK")), b"CZ")
            self.assertEqual(wire.kinds(conn.simple("EXECUTE up(1, 'inactive')")), b"CZ")
            # An error of the client's own statement after a re-prepare that went through.
            self.proxy.reload(both_migrations(writes="old", reads="old"))
            failed = conn.simple("EXECUTE up('one', 'x')")
            self.assertEqual(wire.kinds(failed), b"EZ")
            self.assertEqual(wire.errors(failed)[0]["C"], "22P02")
            # Its position is in the client's text, as Postgres gives it: the quote of 'one'.
            self.assertEqual(wire.errors(failed)[0]["P"], "12")
            prepared_at = self.prepared(conn)[1]
            self.assertEqual(wire.kinds(conn.simple("EXECUTE up(2, 'old')")), b"CZ")
            self.assertEqual(self.prepared(conn)[1], prepared_at, "not prepared a second time")
        self.assertEqual(self.rows("users"), [(1, "inactive", "inactive"), (2, "old", "b")])

    def test_pipelined_executes_of_a_stale_statement(self):
        # Both queries are sent before any answer: each is prepared again in front (the second
        # before the first's re-prepare is answered), and each answer is the client's own.
        with self.raw_session() as conn:
            self.assertEqual(wire.kinds(conn.simple(UPDATE)), b"CZ")
            self.proxy.reload(both_migrations(writes="both", reads="old"))
            conn.send(wire.query("EXECUTE up(1, 'p')") + wire.query("EXECUTE up(2, 'q')"))
            answers = conn.read_until_ready() + conn.read_until_ready()
            self.assertEqual(wire.kinds(answers), b"CZCZ")
        self.assertEqual(self.rows("users"), [(1, "p", "p"), (2, "q", "q")])

    def test_psycopg_client_side_binding(self):
        # psycopg's ClientCursor binds values in the client and sends a simple Query.
        with self.connect_to(self.proxy, cursor_factory=psycopg.ClientCursor) as conn:
            conn.execute(UPDATE)
            self.proxy.reload(both_migrations(writes="both", reads="old"))
            conn.execute("EXECUTE up(%s, %s)", (1, "inactive"))
        self.assertEqual(self.rows("users")[0], (1, "inactive", "inactive"))

    def test_an_execute_whose_rewrite_did_not_change_runs(self):
        # A flip of the other migration leaves this statement's rewrite as it was.
        with self.raw_session() as conn:
            self.proxy.reload(both_migrations(writes="both", reads="old"))
            self.assertEqual(wire.kinds(conn.simple(UPDATE)), b"CZ")
            self.proxy.reload([migration(RENAME, writes="both"),
                               dict(both_migrations()[1], writes="both", reads="new")])
            self.assertEqual(wire.errors(conn.simple("EXECUTE up(1, 'inactive')")), [])
            # DISCARD ALL forgets it with the server: a later PREPARE of the name is new.
            self.assertEqual(wire.errors(conn.simple("DISCARD ALL")), [])
            self.assertEqual(wire.errors(conn.simple("EXECUTE up(1, 'x')"))[0]["C"], "26000")
        self.assertEqual(self.rows("users")[0], (1, "inactive", "inactive"))

    def test_a_bind_of_a_statement_prepared_in_sql_is_refused_when_its_rewrite_changed(self):
        # libpq documents it: PQexecPrepared and PQdescribePrepared may name a statement made
        # by SQL PREPARE. Its Bind must not run the old flags' rewrite either.
        with self.raw_session() as conn:
            self.assertEqual(wire.kinds(conn.simple(UPDATE)), b"CZ")
            self.proxy.reload(both_migrations(writes="both", reads="old"))
            conn.send(wire.bind(("1", "inactive"), statement="up") + wire.execute() + wire.sync())
            err = wire.errors(conn.read_until_ready())
            self.assertEqual(err[0]["C"], "0A000", err)
            self.assertIn('prepared statement "up"', err[0]["M"])
            self.assertEqual(self.rows("users"), [(1, "a", "a"), (2, "b", "b")], "nothing written")

            self.assertEqual(wire.kinds(conn.simple("DEALLOCATE up")), b"CZ")
            self.assertEqual(wire.kinds(conn.simple(UPDATE)), b"CZ")
            conn.send(wire.bind(("1", "inactive"), statement="up") + wire.execute() + wire.sync())
            self.assertEqual(wire.errors(conn.read_until_ready()), [])
        self.assertEqual(self.rows("users")[0], (1, "inactive", "inactive"))

    def test_an_sql_execute_of_a_statement_prepared_through_the_protocol(self):
        # The reverse mix: a statement of the protocol's Parse, run by SQL EXECUTE, which
        # Switchyard cannot prepare again in front of. Refused while the server has the old
        # flags' text; a Bind prepares it again, and EXECUTE runs it from then on.
        with self.raw_session() as conn:
            conn.send(wire.parse("UPDATE users SET status = $2 WHERE id = $1", name="up",
                                 param_types=(23, 25)) + wire.sync())
            self.assertEqual(wire.errors(conn.read_until_ready()), [])
            self.proxy.reload(both_migrations(writes="both", reads="old"))
            refused = conn.simple("EXECUTE up(1, 'inactive')")
            self.assertEqual(wire.kinds(refused), b"EZ")
            self.assertEqual(wire.errors(refused)[0]["C"], "0A000")
            self.assertIn('prepared statement "up"', wire.errors(refused)[0]["M"])
            self.assertEqual(self.rows("users"), [(1, "a", "a"), (2, "b", "b")], "nothing written")

            conn.send(wire.bind(("1", "inactive"), statement="up") + wire.execute() + wire.sync())
            self.assertEqual(wire.errors(conn.read_until_ready()), [])
            self.assertEqual(wire.errors(conn.simple("EXECUTE up(2, 'active')")), [])
        self.assertEqual(self.rows("users"), [(1, "inactive", "inactive"), (2, "active", "active")])

    def test_a_protocol_close_forgets_a_statement_prepared_in_sql(self):
        # Close drops a statement of either kind on the server: one parsed again under the name
        # is the protocol's, prepared under the new flags, and runs.
        with self.raw_session() as conn:
            self.assertEqual(wire.kinds(conn.simple(UPDATE)), b"CZ")
            self.proxy.reload(both_migrations(writes="both", reads="old"))
            conn.send(wire.close(b"S", "up") + wire.sync())
            self.assertEqual(wire.errors(conn.read_until_ready()), [])
            # Its own batch: one that began before the flip was adopted keeps the old flags.
            conn.send(wire.parse("UPDATE users SET status = $2 WHERE id = $1", name="up",
                                 param_types=(23, 25)) + wire.sync())
            self.assertEqual(wire.errors(conn.read_until_ready()), [])
            self.assertEqual(wire.errors(conn.simple("EXECUTE up(2, 'active')")), [])
        self.assertEqual(self.rows("users")[1], (2, "active", "active"))

    def test_libpq_exec_prepared_of_a_statement_prepared_in_sql(self):
        # The libpq call itself (PQexecPrepared, through psycopg's binding of it).
        with self.connect_to(self.proxy) as conn:
            self.simple(conn, UPDATE)
            self.proxy.reload(both_migrations(writes="both", reads="old"))
            result = conn.pgconn.exec_prepared(b"up", [b"1", b"inactive"])
            self.assertEqual(result.status, pq.ExecStatus.FATAL_ERROR)
            self.assertEqual(result.error_field(pq.DiagnosticField.SQLSTATE), b"0A000")
            self.assertIn(b"DEALLOCATE up", result.error_message)
            self.assertEqual(self.rows("users")[0], (1, "a", "a"), "nothing written")
            self.simple(conn, "DEALLOCATE up")
            self.simple(conn, UPDATE)
            result = conn.pgconn.exec_prepared(b"up", [b"1", b"inactive"])
            self.assertEqual(result.status, pq.ExecStatus.COMMAND_OK, result.error_message)
        self.assertEqual(self.rows("users")[0], (1, "inactive", "inactive"))

    def test_a_prepare_of_a_name_the_server_has_leaves_the_old_statement(self):
        # The server refuses a PREPARE of a name it has (42P05) and keeps the statement it has:
        # an app that prepares on every request and ignores that error runs the statement of
        # the first PREPARE, with the flags of then. Its PREPARE is the same text each time:
        # prepared again in front of the EXECUTE.
        with self.raw_session() as conn:
            self.assertEqual(wire.kinds(conn.simple(UPDATE)), b"CZ")
            self.proxy.reload(both_migrations(writes="both", reads="old"))
            self.assertEqual(wire.errors(conn.simple(UPDATE))[0]["C"], "42P05")
            self.assertEqual(wire.kinds(conn.simple("EXECUTE up(1, 'inactive')")), b"CZ")
            self.assertEqual(self.rows("users")[0], (1, "inactive", "inactive"))

            # A PREPARE of another text under the name: which one the server has is not known,
            # so an EXECUTE after the flip is refused.
            self.assertEqual(wire.errors(conn.simple("DEALLOCATE up; " + UPDATE)), [])
            self.proxy.reload(both_migrations(writes="old", reads="old"))
            self.assertEqual(wire.errors(conn.simple(UPDATE + " AND true"))[0]["C"], "42P05")
            refused = conn.simple("EXECUTE up(2, 'x')")
            self.assertEqual(wire.errors(refused)[0]["C"], "0A000", refused)
            self.assertIn("DEALLOCATE up", wire.errors(refused)[0]["M"])
            self.assertEqual(self.rows("users")[1], (2, "b", "b"), "nothing written")
            self.assertEqual(wire.errors(conn.simple("DEALLOCATE up; " + UPDATE)), [])
            self.assertEqual(wire.errors(conn.simple("EXECUTE up(2, 'x')")), [])
        self.assertEqual(self.rows("users")[1], (2, "x", "b"))

    def test_a_parse_of_a_name_the_server_has_leaves_the_old_statement(self):
        # The same through the protocol: a Parse of a name prepared in SQL fails (42P05), and
        # a Bind of the name must not run the old flags' statement the server kept.
        with self.raw_session() as conn:
            self.assertEqual(wire.kinds(conn.simple(UPDATE)), b"CZ")
            self.proxy.reload(both_migrations(writes="both", reads="old"))
            conn.send(wire.parse("UPDATE users SET status = $2 WHERE id = $1", name="up",
                                 param_types=(23, 25)) + wire.sync())
            self.assertEqual(wire.errors(conn.read_until_ready())[0]["C"], "42P05")
            # Switchyard prepares the name again before the Bind: the client's text, rewritten.
            conn.send(wire.bind(("1", "inactive"), statement="up") + wire.execute() + wire.sync())
            self.assertEqual(wire.errors(conn.read_until_ready()), [])
        self.assertEqual(self.rows("users")[0], (1, "inactive", "inactive"))

    def test_a_second_parse_of_a_protocol_statement_leaves_the_first(self):
        # A named statement is not replaced by a Parse of its name (42P05) either.
        parse = wire.parse("UPDATE users SET status = $2 WHERE id = $1", name="up",
                           param_types=(23, 25)) + wire.sync()
        with self.raw_session() as conn:
            conn.send(parse)
            self.assertEqual(wire.errors(conn.read_until_ready()), [])
            self.proxy.reload(both_migrations(writes="both", reads="old"))
            conn.send(parse)
            self.assertEqual(wire.errors(conn.read_until_ready())[0]["C"], "42P05")
            conn.send(wire.bind(("1", "inactive"), statement="up") + wire.execute() + wire.sync())
            self.assertEqual(wire.errors(conn.read_until_ready()), [])
        self.assertEqual(self.rows("users")[0], (1, "inactive", "inactive"))

    def test_a_refused_parse_of_another_text_leaves_the_first_after_a_flip(self):
        # The second Parse of the name fails (42P05): the server keeps the first statement, and
        # after the flip the name is prepared again from the first text, not the refused one.
        status = wire.parse("UPDATE users SET status = $2 WHERE id = $1", name="w",
                            param_types=(23, 25))
        name = wire.parse("UPDATE users SET name = $2 WHERE id = $1", name="w",
                          param_types=(23, 25))
        read = wire.parse("SELECT status FROM users WHERE id = $1", name="r", param_types=(23,))
        self.direct("UPDATE users SET state = 'new-b' WHERE id = 2")
        with self.raw_session() as conn:
            conn.send(status + read + wire.sync())
            self.assertEqual(wire.errors(conn.read_until_ready()), [])
            conn.send(name + wire.sync())
            self.assertEqual(wire.errors(conn.read_until_ready())[0]["C"], "42P05")
            conn.send(wire.parse("SELECT name FROM users WHERE id = $1", name="r") + wire.sync())
            self.assertEqual(wire.errors(conn.read_until_ready())[0]["C"], "42P05")
            self.proxy.reload(both_migrations(writes="both", reads="new"))
            conn.send(wire.bind(("1", "inactive"), statement="w") + wire.execute() +
                      wire.bind(("2",), statement="r") + wire.execute() + wire.sync())
            answer = conn.read_until_ready()
            self.assertEqual(wire.errors(answer), [])
            self.assertEqual(wire.rows(answer), [["new-b"]], "the first text, read from N")
        self.assertEqual(self.rows("users", "id, name, status, state"),
                         [(1, None, "inactive", "inactive"), (2, None, "b", "new-b")])

    def test_a_bind_pipelined_behind_a_refused_parse_runs_the_first_text(self):
        # The Bind comes after the Parse's Sync, before its answer: the server runs the first
        # statement, stale since the flip, so it is prepared again from the first text.
        with self.raw_session() as conn:
            conn.send(wire.parse("UPDATE users SET status = $2 WHERE id = $1", name="w",
                                 param_types=(23, 25)) + wire.sync())
            self.assertEqual(wire.errors(conn.read_until_ready()), [])
            self.proxy.reload(both_migrations(writes="both", reads="old"))
            conn.send(wire.parse("UPDATE users SET name = $2 WHERE id = $1", name="w",
                                 param_types=(23, 25)) + wire.sync() +
                      wire.bind(("1", "inactive"), statement="w") + wire.execute() + wire.sync())
            self.assertEqual(wire.errors(conn.read_until_ready())[0]["C"], "42P05")
            self.assertEqual(wire.errors(conn.read_until_ready()), [])
        self.assertEqual(self.rows("users", "id, name, status, state")[0],
                         (1, None, "inactive", "inactive"))

    def test_a_close_and_parse_skipped_after_an_error_leave_the_statement(self):
        # A driver replaces a cached statement with Close and Parse in one batch; an error
        # earlier in the batch makes the server skip both, so it keeps the first statement.
        status = wire.parse("UPDATE users SET status = $2 WHERE id = $1", name="s",
                            param_types=(23, 25))
        replace = (wire.close(b"S", "s") +
                   wire.parse("UPDATE users SET name = $2 WHERE id = $1", name="s",
                              param_types=(23, 25)))
        with self.raw_session() as conn:
            conn.send(status + wire.sync())
            self.assertEqual(wire.errors(conn.read_until_ready()), [])
            conn.send(wire.parse("SELECT 1/0") + wire.bind() + wire.execute() + replace +
                      wire.sync())
            self.assertEqual(wire.errors(conn.read_until_ready())[0]["C"], "22012")
            self.proxy.reload(both_migrations(writes="both", reads="old"))
            conn.send(wire.bind(("1", "inactive"), statement="s") + wire.execute() + wire.sync())
            self.assertEqual(wire.errors(conn.read_until_ready()), [])
            self.assertEqual(self.rows("users", "id, name, status, state")[0],
                             (1, None, "inactive", "inactive"))

            # Without the error the server replaces it, and a Bind in the same batch runs the
            # new text; so does one after the next flip.
            conn.send(replace + wire.bind(("2", "n2"), statement="s") + wire.execute() +
                      wire.sync())
            self.assertEqual(wire.errors(conn.read_until_ready()), [])
            self.proxy.reload(both_migrations(writes="old", reads="old"))
            conn.send(wire.bind(("1", "n1"), statement="s") + wire.execute() + wire.sync())
            self.assertEqual(wire.errors(conn.read_until_ready()), [])
        self.assertEqual(self.rows("users", "id, name, status, state"),
                         [(1, "n1", "inactive", "inactive"), (2, "n2", "b", "b")])

    def test_many_failed_prepares_of_one_name(self):
        # Past eight texts under one name the proxy keeps none, only that the oldest is of the
        # first flags: the name still runs until a flip, and is refused after it.
        with self.raw_session() as conn:
            self.assertEqual(wire.kinds(conn.simple(UPDATE)), b"CZ")
            for i in range(10):
                failed = conn.simple(f"{UPDATE} AND {i} = {i}")
                self.assertEqual(wire.errors(failed)[0]["C"], "42P05")
            self.assertEqual(wire.errors(conn.simple("EXECUTE up(2, 'x')")), [])
            self.proxy.reload(both_migrations(writes="both", reads="old"))
            self.assertEqual(wire.errors(conn.simple("EXECUTE up(1, 'inactive')"))[0]["C"],
                             "0A000")
        self.assertEqual(self.rows("users"), [(1, "a", "a"), (2, "x", "b")])

    def test_a_prepare_again_that_needs_the_catalog(self):
        # An unqualified name beside a table the migrations do not map needs that table's
        # columns, which the proxy reads from the catalog after the flip before it decides.
        self.direct("CREATE TABLE IF NOT EXISTS notes (id int PRIMARY KEY, user_id int, body text)")
        self.direct("DELETE FROM notes")
        self.direct("INSERT INTO notes VALUES (10, 1, 'hi')")
        self.direct("UPDATE users SET state = 'new-a' WHERE id = 1")
        select = ("PREPARE sel(int) AS SELECT status FROM users JOIN notes ON notes.user_id = "
                  "users.id WHERE notes.id = $1")
        with self.raw_session() as conn:
            self.assertEqual(wire.kinds(conn.simple(select)), b"CZ")
            self.assertEqual(wire.rows(conn.simple("EXECUTE sel(10)")), [["a"]])
            self.proxy.reload(both_migrations(writes="both", reads="new"))
            answer = conn.simple("EXECUTE sel(10)")
            self.assertEqual(wire.errors(answer), [])
            self.assertEqual(wire.rows(answer), [["new-a"]], "read from the new column")
