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

    def test_a_set_is_followed_when_it_runs_not_when_it_is_parsed(self):
        # psycopg 3 and pgbench -M prepared prepare a SET search_path once and then only bind
        # it; a SET only parsed (a describe) changes nothing on the server.
        tenant = wire.bind((), "", "to_s7") + wire.execute() + wire.sync()
        public = wire.bind((), "", "to_public") + wire.execute() + wire.sync()
        insert = lambda i, v: (wire.bind((str(i), v), "", "ins") + wire.execute() + wire.sync())
        with self.raw_session() as conn:
            self.run_ok(conn, wire.parse("SET search_path = s7, public", "to_s7") +
                        wire.parse("SET search_path = public", "to_public") +
                        wire.parse(INSERT, "ins") + wire.sync())
            for i in range(1, 7, 2):
                self.run_ok(conn, tenant)
                self.run_ok(conn, insert(i, "tenant"))
                self.run_ok(conn, public)
                self.run_ok(conn, insert(i + 1, "public"))
            self.run_ok(conn, wire.parse("SET search_path = s7, public") + wire.sync())
            self.run_ok(conn, insert(10, "public, the SET only parsed"))
        self.assertEqual(self.rows("users"), [(2, "public", "public"), (4, "public", "public"),
                                              (6, "public", "public"),
                                              (10, "public, the SET only parsed",
                                               "public, the SET only parsed")])
        self.assertEqual(self.rows("s7.users"), [(1, "tenant", None), (3, "tenant", None),
                                                 (5, "tenant", None)])

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

    def test_a_deallocation_the_server_does_not_run_leaves_the_statements(self):
        # A DEALLOCATE or DISCARD ALL the server skips (after an error before it) or refuses (in
        # a transaction block, in a pipeline) drops nothing: each statement below is still the
        # server's, prepared before the flip to write both columns, so the proxy must prepare
        # it again at its next Bind. A proxy that forgot the statements when the deallocation
        # was sent let the server run the old text: the new column stayed empty (drift).
        self.proxy.reload([migration(RENAME, writes="old", reads="old")])
        ext = lambda text: wire.parse(text) + wire.bind() + wire.execute()
        not_run = {
            "in_block": wire.query("BEGIN; DISCARD ALL"),
            "skipped_text": wire.query("SELECT 1/0; DEALLOCATE ALL"),
            "skipped_batch": ext("SELECT 1/0") + ext("DEALLOCATE skipped_batch") + wire.sync(),
            "pipelined": ext("SELECT 1") + ext("DISCARD ALL") + wire.sync(),
            "bound_not_run": wire.parse("DEALLOCATE bound_not_run", "dealloc") +
                             wire.bind((), "", "dealloc") + wire.sync(),
            "sql_prepared": wire.query("SELECT 1/0; DEALLOCATE sql_prepared"),
        }
        with self.raw_session() as conn:
            for name in not_run:
                if name == "sql_prepared":
                    self.run_ok(conn, wire.query(
                        f"PREPARE {name} (int, text) AS " + INSERT))
                else:
                    self.run_ok(conn, wire.parse(INSERT, name) + wire.sync())
            for name, data in not_run.items():
                conn.send(data)
                conn.read_until_ready()
                conn.simple("ROLLBACK")  # the first, in a transaction block
                self.assertEqual(wire.rows(conn.simple(
                    f"SELECT count(*) FROM pg_prepared_statements WHERE name = '{name}'")),
                    [["1"]], f"{name}: the server still has it")
            self.proxy.reload([migration(RENAME, writes="both", reads="old")])
            for i, name in enumerate(not_run, start=401):
                if name == "sql_prepared":
                    self.run_ok(conn, wire.query(f"EXECUTE {name} ({i}, '{name}')"))
                else:
                    self.run_ok(conn, wire.bind((str(i), name), "", name) + wire.execute() +
                                wire.sync())
        self.assertEqual(self.rows("users"),
                         [(i, name, name) for i, name in enumerate(not_run, start=401)])

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
            # A SET and an EXECUTE in one text: checked under the path before the text, run
            # under the new one: refused, nothing run.
            self.run_ok(conn, wire.query("SET search_path = s7, public"))
            err = wire.errors(conn.simple("SET search_path = public; EXECUTE p1 (5, 'one text')"))
            self.assertEqual(err[0]["C"], "0A000", err)
            self.assertIn("query of its own", err[0]["M"])
            self.run_ok(conn, wire.query("EXECUTE p1 (6, 'tenant')"))
        self.assertEqual(self.rows("users"), [(2, "public", "public")])
        self.assertEqual(self.rows("s7.users"), [(3, "tenant", None), (6, "tenant", None)])

    def start_copy(self, conn, data):
        """Sends what starts a COPY FROM STDIN; returns its CopyInResponse's column formats."""
        conn.send(data)
        kind, payload = conn.read_message()
        while kind == b"2":  # BindComplete
            kind, payload = conn.read_message()
        self.assertEqual(kind, b"G", wire.parse_fields(payload) if kind == b"E" else kind)
        return copy_in_columns(payload)

    def finish_copy(self, conn, rows, sync=False):
        conn.send(wire.copy_data(rows) + wire.copy_done() + (wire.sync() if sync else b""))
        answer = conn.read_until_ready()
        self.assertEqual(wire.errors(answer), [])
        return wire.cstring(answer[0][1])

    def test_a_copy_started_by_execute_gets_its_rows_rewritten(self):
        with self.raw_session() as conn:
            self.run_ok(conn, wire.parse("COPY users (id, status) FROM STDIN", "cp") +
                        wire.describe(b"S", "cp") + wire.sync())
            # As tokio-postgres' copy_in: Bind, Execute, Sync (which the server ignores in
            # COPY), then the data, CopyDone and Sync.
            self.assertEqual(self.start_copy(conn, wire.bind((), "", "cp") + wire.execute() +
                                             wire.sync()), (0, [0, 0]))
            self.assertEqual(self.finish_copy(conn, b"1\tone\n2\ttwo\n", sync=True), "COPY 2")
            # The same statement again, in a named portal, with Flush.
            self.assertEqual(self.start_copy(conn, wire.bind((), "p", "cp") +
                                             wire.execute("p") + wire.flush()), (0, [0, 0]))
            self.assertEqual(self.finish_copy(conn, b"3\tthree\n", sync=True), "COPY 1")
            # After a flip the statement is prepared again, and its rows follow the new list.
            self.proxy.reload([migration(RENAME, writes="new", reads="new")])
            self.start_copy(conn, wire.bind((), "", "cp") + wire.execute() + wire.sync())
            self.assertEqual(self.finish_copy(conn, b"4\tfour\n", sync=True), "COPY 1")
            # A run refused before its data (a Bind with a parameter too many): the next
            # messages are handled as ever, and the next run gets its rows rewritten.
            self.proxy.reload(self.MIGRATIONS)
            conn.send(wire.bind(("1",), "", "cp") + wire.execute() + wire.sync())
            self.assertEqual(wire.errors(conn.read_until_ready())[0]["C"], "08P01")
            self.start_copy(conn, wire.bind((), "", "cp") + wire.execute() + wire.sync())
            self.assertEqual(self.finish_copy(conn, b"5\tfive\n", sync=True), "COPY 1")
        self.assertEqual(self.rows("users"), [(1, "one", "one"), (2, "two", "two"),
                                              (3, "three", "three"), (4, None, "four"),
                                              (5, "five", "five")])

    def test_a_copy_in_response_announces_the_clients_columns(self):
        with self.raw_session() as conn:
            # The server is asked for (status, id, state); the client named two columns.
            self.assertEqual(self.start_copy(conn, wire.query(
                "COPY users (status, id) FROM STDIN")), (0, [0, 0]))
            self.assertEqual(self.finish_copy(conn, b"one\t1\n"), "COPY 1")
            self.assertEqual(self.start_copy(conn, wire.query(
                "COPY users (status, id) FROM STDIN (FORMAT binary)")), (1, [1, 1]))
            row = (struct.pack("!h", 2) + struct.pack("!i", 3) + b"two" +
                   struct.pack("!i", 4) + struct.pack("!i", 2))
            data = b"PGCOPY\n\xff\r\n\0" + struct.pack("!ii", 0, 0) + row + struct.pack("!h", -1)
            self.assertEqual(self.finish_copy(conn, data), "COPY 1")
        self.assertEqual(self.rows("users"), [(1, "one", "one"), (2, "two", "two")])


@requires_proxy
class CurrentUserTest(RewriteCase):
    """"$user" in the search_path is current_user, which SET ROLE and SET SESSION AUTHORIZATION
    change: the superuser's own schema has a users table that is not mapped, alice has none."""

    MIGRATIONS = [migration(RENAME, writes="both", reads="old")]

    @classmethod
    def prepare_database(cls):
        cls.pg.create_role("alice", "alice-pw")
        cls.pg.query("CREATE SCHEMA postgres; "
                     "CREATE TABLE postgres.users (id int PRIMARY KEY, status text, state text); "
                     "GRANT ALL ON public.users TO alice")

    def setUp(self):
        super().setUp()
        self.direct("TRUNCATE postgres.users")

    def run_ok(self, conn, data):
        conn.send(data)
        answer = conn.read_until_ready()
        self.assertEqual(wire.errors(answer), [])
        return answer

    def insert(self, conn, row_id, status):
        self.run_ok(conn, wire.query(f"INSERT INTO users (id, status) VALUES ({row_id}, "
                                     f"'{status}')"))

    def test_writes_follow_the_role_that_user_stands_for(self):
        with self.raw_session() as conn:
            self.run_ok(conn, wire.parse(INSERT, "ins") + wire.sync())
            self.insert(conn, 1, "own schema")
            self.run_ok(conn, wire.query("SET ROLE alice"))
            self.insert(conn, 2, "set role")
            self.run_ok(conn, wire.bind(("3", "prepared"), "", "ins") + wire.execute() +
                        wire.sync())
            self.run_ok(conn, wire.query("RESET ROLE"))
            self.insert(conn, 4, "reset role")
            self.run_ok(conn, wire.query("SET SESSION AUTHORIZATION alice"))
            self.insert(conn, 5, "session authorization")
            self.run_ok(conn, wire.query("RESET SESSION AUTHORIZATION"))
            # Undone with its transaction, as the server undoes it.
            self.run_ok(conn, wire.query("BEGIN; SET ROLE alice"))
            self.run_ok(conn, wire.query("ROLLBACK"))
            self.insert(conn, 6, "rolled back")
            self.run_ok(conn, wire.query("BEGIN; SET LOCAL ROLE alice"))
            self.insert(conn, 7, "local role")
            self.run_ok(conn, wire.query("COMMIT"))
            self.insert(conn, 8, "after local")
            self.run_ok(conn, wire.bind(("9", "prepared again"), "", "ins") + wire.execute() +
                        wire.sync())
            # In one text the rewrite cannot follow the change for the statements after it.
            err = wire.errors(conn.simple(
                "SET ROLE alice; INSERT INTO users (id, status) VALUES (10, 'one text')"))
            self.assertEqual(err[0]["C"], "0A000", err)
            self.assertIn("query of its own", err[0]["M"])
            self.run_ok(conn, wire.query("SET ROLE alice; SELECT 1"))
            self.insert(conn, 11, "after both")
        self.assertEqual(self.rows("public.users"), [(2, "set role", "set role"),
                                                     (3, "prepared", "prepared"),
                                                     (5, "session authorization",
                                                      "session authorization"),
                                                     (7, "local role", "local role"),
                                                     (11, "after both", "after both")])
        self.assertEqual(self.rows("postgres.users"),
                         [(1, "own schema", None), (4, "reset role", None),
                          (6, "rolled back", None), (8, "after local", None),
                          (9, "prepared again", None)])

    def test_role_changes_among_savepoints_in_one_text_are_followed_in_order(self):
        # Each text ends its transaction's last savepoint or chain with current_user known:
        # alice writes public.users (both columns), the superuser its own postgres.users.
        self.addCleanup(self.direct, "DELETE FROM public.users WHERE id > 20")
        with self.raw_session() as conn:
            self.run_ok(conn, wire.query("BEGIN; SAVEPOINT a; SET ROLE alice; ROLLBACK TO a"))
            self.insert(conn, 21, "rolled back to before the role")
            self.run_ok(conn, wire.query("COMMIT"))
            self.run_ok(conn, wire.query(
                "BEGIN; SET ROLE alice; SAVEPOINT a; RESET ROLE; ROLLBACK TO a"))
            self.insert(conn, 22, "rolled back to after the role")
            self.run_ok(conn, wire.query("COMMIT; RESET ROLE"))
            # The chain commits the role; the rollback after it is the next transaction's.
            self.run_ok(conn, wire.query("BEGIN; SET ROLE alice; COMMIT AND CHAIN"))
            self.run_ok(conn, wire.query("ROLLBACK"))
            self.insert(conn, 23, "committed by the chain")
            self.run_ok(conn, wire.query("RESET ROLE"))
            # Behind an error the role is never set.
            answer = conn.simple("SELECT 1/0; SET ROLE alice")
            self.assertEqual(wire.errors(answer)[0]["C"], "22012")
            self.insert(conn, 24, "behind an error")
        self.assertEqual(self.rows("public.users WHERE id > 20"),
                         [(22, "rolled back to after the role", "rolled back to after the role"),
                          (23, "committed by the chain", "committed by the chain")])
        self.assertEqual(self.rows("postgres.users WHERE id > 20"),
                         [(21, "rolled back to before the role", None),
                          (24, "behind an error", None)])
