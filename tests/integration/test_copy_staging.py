"""COPY FROM staged through a temporary table, through the real proxy, checked in the DATA.

A COPY whose rows the proxy cannot rewrite on the data stream (a to_new/to_old transform, a
binary field no byte conversion serves, WHERE or FORCE_* options, a server-side file) is sent
as four statements in one simple Query: a temporary table of the COPY's columns, the COPY into
it, an INSERT ... SELECT into the table that the write rule rewrites, and a DROP
(rewrite/copy_staging.cpp). The client sees one COPY: its CopyInResponse, then "COPY n".
The schema and migrations are test_rewrite's: `accounts.status` text -> `accounts.state`
smallint with a CASE transform each way, `users.status` -> `users.state` renamed.
"""

import subprocess
from http.client import HTTPConnection

import psycopg

from harness import postgres, proxy
from harness import rawclient as wire
from harness.base import requires_proxy
from harness.postgres import PG_BIN
from harness.util import free_port
from test_rewrite import TYPE_CHANGE, MigrationProxy, RewriteCase, both_migrations


def tags(messages):
    """The CommandComplete tags among `messages`, in order."""
    return [wire.cstring(payload) for kind, payload in messages if kind == b"C"]


@requires_proxy
class CopyStagingTest(RewriteCase):
    MIGRATIONS = both_migrations(writes="both", reads="old")

    def assert_no_staging_table_left(self, conn):
        self.assertEqual(conn.execute("SELECT count(*) FROM pg_class "
                                      "WHERE relname LIKE '%(switchyard staging)'").fetchone(),
                         (0,))

    def test_text_and_csv_copy_with_a_transform_fills_the_new_column_through_it(self):
        with self.connect() as conn:
            cur = conn.cursor()
            with cur.copy("COPY accounts (id, name, status) FROM STDIN") as copy:
                copy.write(b"1\ta\tactive\n2\tb\t\\N\n")
                copy.write(b"3\tc\tinac")  # a row split over two CopyData messages
                copy.write(b"tive\n4\td\tsuspended\n")
            self.assertEqual(cur.statusmessage, "COPY 4")
            with cur.copy("COPY accounts (status, id) FROM STDIN (FORMAT csv, HEADER)") as copy:
                copy.write(b"status,id\ninactive,5\n\"active\",6\n")
            self.assertEqual(cur.statusmessage, "COPY 2")
            self.assert_no_staging_table_left(conn)
            # The session goes on as before, and a plain COPY still streams.
            with cur.copy("COPY orders (id, amount) FROM STDIN") as copy:
                copy.write(b"1\t10\n")
            self.assertEqual(cur.statusmessage, "COPY 1")
        # CASE gives NULL for a value it does not map, as the same INSERT would.
        self.assertEqual(self.rows("accounts"),
                         [(1, "active", 1), (2, None, None), (3, "inactive", 0),
                          (4, "suspended", None), (5, "inactive", 0), (6, "active", 1)])

    def test_the_updated_app_copying_the_new_column_fills_the_old_one_with_to_old(self):
        with self.connect() as conn:
            with conn.cursor().copy("COPY accounts (id, state) FROM STDIN") as copy:
                copy.write(b"1\t1\n2\t0\n3\t\\N\n")
        self.assertEqual(self.rows("accounts"),
                         [(1, "active", 1), (2, "inactive", 0), (3, None, None)])

    def test_binary_copy_across_a_type_change_goes_through_the_staging_table(self):
        # asyncpg and pgx copy in binary: a text field's bytes are no smallint, so no byte
        # conversion serves accounts; the staging table takes the bytes as text.
        with self.connect() as conn:
            cur = conn.cursor()
            with cur.copy("COPY accounts (id, status) FROM STDIN (FORMAT binary)") as copy:
                copy.set_types(["int4", "text"])
                copy.write_row((1, "active"))
                copy.write_row((2, None))
                copy.write_row((3, "inactive"))
            self.assertEqual(cur.statusmessage, "COPY 3")
        self.assertEqual(self.rows("accounts"),
                         [(1, "active", 1), (2, None, None), (3, "inactive", 0)])

    def test_a_bad_row_leaves_nothing_written_and_the_session_usable(self):
        with self.connect() as conn:
            with self.assertRaises(psycopg.errors.InvalidTextRepresentation) as raised:
                with conn.cursor().copy("COPY accounts (id, status) FROM STDIN") as copy:
                    copy.write(b"1\tactive\nnot-a-number\tactive\n")
            # The error names the table the row was for, and says it was staged.
            self.assertIn('invalid input syntax for type integer: "not-a-number"',
                          str(raised.exception))
            self.assertEqual(raised.exception.diag.context,
                             "COPY accounts (switchyard staging), line 2, column id: "
                             '"not-a-number"')
            self.assert_no_staging_table_left(conn)
            self.assertEqual(conn.execute("SELECT 'usable'").fetchone(), ("usable",))
            # A constraint of the table itself fails in the INSERT: all or nothing too.
            self.direct("INSERT INTO accounts (id, status, state) VALUES (2, 'active', 1)")
            with self.assertRaises(psycopg.errors.UniqueViolation):
                with conn.cursor().copy("COPY accounts (id, status) FROM STDIN") as copy:
                    copy.write(b"1\tactive\n2\tinactive\n")
            self.assert_no_staging_table_left(conn)
        self.assertEqual(self.rows("accounts"), [(2, "active", 1)])

    def test_inside_a_transaction_block_it_commits_and_rolls_back_with_it(self):
        with self.connect() as conn:
            conn.execute("BEGIN")
            with conn.cursor().copy("COPY accounts (id, status) FROM STDIN") as copy:
                copy.write(b"1\tactive\n")
            conn.execute("ROLLBACK")
            conn.execute("BEGIN")
            with conn.cursor().copy("COPY accounts (id, status) FROM STDIN") as copy:
                copy.write(b"2\tinactive\n")
            self.assertEqual(conn.execute("SELECT state FROM accounts").fetchall(), [(0,)])
            conn.execute("COMMIT")
            self.assert_no_staging_table_left(conn)
        self.assertEqual(self.rows("accounts"), [(2, "inactive", 0)])

    def test_the_count_is_the_rows_written_as_copy_counts_them(self):
        # A BEFORE trigger that skips a row: COPY counts only the rows it wrote, and so does
        # the INSERT whose count the client is told.
        self.direct("CREATE FUNCTION skip_odd() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN IF NEW.id % 2 = 1 THEN RETURN NULL; END IF; RETURN NEW; END $$")
        self.addCleanup(self.direct, "DROP FUNCTION skip_odd() CASCADE")
        self.direct("CREATE TRIGGER skip_odd BEFORE INSERT ON accounts FOR EACH ROW "
                    "EXECUTE FUNCTION skip_odd()")
        with self.connect() as conn:
            cur = conn.cursor()
            with cur.copy("COPY accounts (id, status) FROM STDIN") as copy:
                copy.write(b"1\tactive\n2\tinactive\n3\tactive\n")
            self.assertEqual(cur.statusmessage, "COPY 1")
        self.assertEqual(self.rows("accounts"), [(2, "inactive", 0)])

    def test_where_and_force_null_stay_on_the_staged_copy(self):
        with self.connect() as conn:
            cur = conn.cursor()
            with cur.copy("COPY users (id, status) FROM STDIN (FORMAT csv, FORCE_NULL (status)) "
                          "WHERE id > 1") as copy:
                copy.write(b'1,active\n2,""\n3,inactive\n')
            self.assertEqual(cur.statusmessage, "COPY 2")
        self.assertEqual(self.rows("users"), [(2, None, None), (3, "inactive", "inactive")])

    def test_a_server_side_file_goes_through_the_staging_table(self):
        path = self.pg.datadir + "/accounts.tsv"
        with open(path, "w") as f:
            f.write("1\tactive\n2\tinactive\n")
        with self.connect() as conn:  # the harness's user is a superuser
            conn.execute(f"COPY accounts (id, status) FROM '{path}'")
        self.assertEqual(self.rows("accounts"), [(1, "active", 1), (2, "inactive", 0)])

    def test_psql_copy_says_copy_n(self):
        run = subprocess.run(
            [f"{PG_BIN}/psql", "-X", "-v", "ON_ERROR_STOP=1", "-h", self.host, "-p",
             str(self.port), "-U", postgres.SUPERUSER, "-d", self.pg.dbname, "-c",
             r"\copy accounts (id, status) FROM STDIN"],
            input="1\tactive\n2\tinactive\n\\.\n", capture_output=True, text=True, timeout=60,
            env={"PGPASSWORD": self.pg.password, "PATH": "/usr/bin:/bin"})
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(run.stdout.strip(), "COPY 2")
        self.assertEqual(self.rows("accounts"), [(1, "active", 1), (2, "inactive", 0)])

    def test_statements_around_it_in_one_query_get_their_own_answers(self):
        with self.raw_session() as conn:
            conn.send(wire.query("SELECT 1; COPY accounts (id, status) FROM STDIN; "
                                 "UPDATE orders SET amount = 0"))
            head = []
            while not head or head[-1][0] != b"G":  # up to the CopyInResponse
                head.append(conn.read_message())
            conn.send(wire.copy_data(b"1\tactive\n2\tinactive\n") + wire.copy_done())
            messages = head + conn.read_until_ready()
        self.assertEqual(tags(messages), ["SELECT 1", "COPY 2", "UPDATE 0"])
        self.assertEqual(wire.kinds(messages), b"TDCGCCZ")
        self.assertEqual(self.rows("accounts"), [(1, "active", 1), (2, "inactive", 0)])

    def test_the_extended_protocol_is_refused_with_the_way_out(self):
        # A proxy of its own, with the admin endpoint: the refusal is counted as one.
        admin_port = free_port()
        counted = MigrationProxy(self.pg, self.MIGRATIONS,
                                 extra={"admin": {"address": f"127.0.0.1:{admin_port}"}})
        self.addCleanup(counted.close)
        counted.start()
        with wire.RawConnection(counted.host, counted.port) as conn:
            conn.start(postgres.SUPERUSER, self.pg.dbname, password=self.pg.password)
            conn.send(wire.parse("COPY accounts (id, status) FROM STDIN") + wire.bind()
                      + wire.execute() + wire.sync())
            messages = conn.read_until_ready()
            err = wire.errors(messages)[0]
            self.assertEqual(err["C"], "0A000")
            self.assertIn(TYPE_CHANGE, err["M"])
            self.assertIn("send this COPY as a simple query", err["M"])
            conn.send(wire.query("SELECT 1"))
            self.assertEqual(wire.kinds(conn.read_until_ready()), b"TDCZ")
        self.assertEqual(self.rows("accounts"), [])
        self.assertIn("event=statement_rejected session=", counted.log_text())
        http = HTTPConnection("127.0.0.1", admin_port, timeout=10)
        self.addCleanup(http.close)
        http.request("GET", "/metrics")
        metrics = http.getresponse().read().decode()
        self.assertIn(f'switchyard_migration_statements_total{{migration="{TYPE_CHANGE}",'
                      'outcome="rejected"} 1\n', metrics)
        self.assertIn(f'switchyard_migration_statements_total{{migration="{TYPE_CHANGE}",'
                      'outcome="rewritten"} 0\n', metrics)
        # on_unsupported = "passthrough": the COPY runs as the client wrote it (the old column
        # alone: the drift that setting accepts), logged.
        p = self.migration_proxy(both_migrations(writes="both", reads="old",
                                                 on_unsupported="passthrough"))
        with wire.RawConnection(p.host, p.port) as conn:
            conn.start(postgres.SUPERUSER, self.pg.dbname, password=self.pg.password)
            conn.send(wire.parse("COPY accounts (id, status) FROM STDIN") + wire.bind()
                      + wire.execute() + wire.sync())
            head = []
            while not head or head[-1][0] != b"G":
                head.append(conn.read_message())
            conn.send(wire.copy_data(b"1\tactive\n") + wire.copy_done() + wire.sync())
            self.assertEqual(tags(conn.read_until_ready()), ["COPY 1"])
        self.assertEqual(self.rows("accounts"), [(1, "active", None)])
        self.assertIn("event=unsupported_passthrough", p.log_text())

    def copy_error(self, conn, text, sql_before=None):
        """The error a COPY FROM STDIN of one row answers with on `conn`, after `sql_before`."""
        if sql_before:
            conn.execute(sql_before)
        with self.assertRaises(psycopg.Error) as raised:
            with conn.cursor().copy(text) as copy:
                copy.write(b"1\ta\tactive\n")
        conn.rollback()
        return raised.exception

    def test_a_role_without_temp_is_told_why_the_copy_needs_it(self):
        # REVOKE TEMPORARY ... FROM PUBLIC is common hardening. Straight to Postgres the COPY
        # runs; staged, it needs a temporary table, and the error says so.
        self.pg.create_role("no_temp", "pw")
        self.pg.query("REVOKE TEMPORARY ON DATABASE app FROM PUBLIC;"
                      "GRANT ALL ON accounts, users TO no_temp")
        self.addCleanup(self.pg.query, "GRANT TEMPORARY ON DATABASE app TO PUBLIC;"
                                       "DROP OWNED BY no_temp; DROP ROLE no_temp")
        with psycopg.connect(self.pg.conninfo(host=self.host, port=self.port, user="no_temp",
                                              password="pw", sslmode="disable")) as conn:
            err = self.copy_error(conn, "COPY accounts (id, name, status) FROM STDIN")
            self.assertEqual(err.sqlstate, "42501", str(err))
            self.assertIn("permission denied to create temporary tables", err.diag.message_primary)
            self.assertIn(f'migration "{TYPE_CHANGE}"', err.diag.message_detail)
            self.assertIn("temporary table", err.diag.message_detail)
            self.assertIn("TEMPORARY privilege", err.diag.message_hint)
            # The server's caret is under the hidden CREATE TEMP TABLE, not the client's text.
            self.assertIsNone(err.diag.statement_position)
            # A COPY the stream serves (the rename) needs no such privilege.
            with conn.cursor().copy("COPY users (id, name, status) FROM STDIN") as copy:
                copy.write(b"1\ta\tactive\n")
            conn.commit()
        self.assertEqual(self.rows("accounts"), [])
        self.assertEqual(self.rows("users"), [(1, "active", "active")])

    def test_a_read_only_transaction_refuses_the_copy_as_postgres_does(self):
        text = "COPY accounts (id, name, status) FROM STDIN"
        with self.pg.connect(autocommit=False) as conn:
            direct = self.copy_error(conn, text, "SET TRANSACTION READ ONLY")
        with self.connect(autocommit=False) as conn:
            through = self.copy_error(conn, text, "SET TRANSACTION READ ONLY")
        self.assertEqual((through.sqlstate, through.diag.message_primary),
                         (direct.sqlstate, direct.diag.message_primary))
        self.assertEqual(through.diag.message_primary,
                         "cannot execute COPY FROM in a read-only transaction")
        self.assertIn(f'migration "{TYPE_CHANGE}"', through.diag.message_detail)
        self.assertEqual(self.rows("accounts"), [])

    def test_the_dry_run_shows_the_staging(self):
        dry = subprocess.run([proxy.binary(), "rewrite", "--config", self.proxy.config_path,
                              "--sql", "COPY accounts (id, status) FROM STDIN"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(dry.returncode, 0, dry.stdout + dry.stderr)
        self.assertIn(f'-- migration "{TYPE_CHANGE}": COPY FROM with the migration\'s to_new '
                      "transform: the data rows go to a temporary table as sent", dry.stdout)
        self.assertIn('CREATE TEMP TABLE "accounts (switchyard staging)" (id integer, status '
                      'text) ON COMMIT DROP; COPY pg_temp."accounts (switchyard staging)" (id, '
                      'status) FROM STDIN; INSERT INTO accounts (id, status, state) OVERRIDING '
                      "SYSTEM VALUE", dry.stdout)

    def test_writes_new_copies_into_the_new_column_alone(self):
        p = self.migration_proxy(both_migrations(writes="new", reads="new"))
        with self.connect_to(p) as conn:
            with conn.cursor().copy("COPY accounts (id, status) FROM STDIN") as copy:
                copy.write(b"1\tactive\n2\tinactive\n")
        self.assertEqual(self.rows("accounts"), [(1, None, 1), (2, None, 0)])


@requires_proxy
class GeneratedColumnCopyTest(RewriteCase):
    """COPY leaves a generated column out when the statement names no columns."""

    MIGRATIONS = both_migrations(writes="both", reads="new")

    @classmethod
    def prepare_database(cls):
        with cls.pg.connect() as conn:
            conn.execute("ALTER TABLE users ADD COLUMN search tsvector GENERATED ALWAYS AS "
                         "(to_tsvector('simple', coalesce(name, ''))) STORED")

    def test_copy_without_a_column_list_skips_the_generated_column(self):
        with self.connect() as conn:
            cur = conn.cursor()
            with cur.copy("COPY users FROM STDIN") as copy:
                copy.write(b"1\tann\tactive\n")
            with cur.copy("COPY accounts FROM STDIN") as copy:
                copy.write(b"1\tbob\tinactive\n")
            out = []
            with cur.copy("COPY users TO STDOUT") as copy:
                for data in copy:
                    out.append(bytes(data))
        self.assertEqual(b"".join(out), b"1\tann\tactive\n")
        self.assertEqual(self.rows("users", "id, name, status, state, search::text"),
                         [(1, "ann", "active", "active", "'ann':1")])
        self.assertEqual(self.rows("accounts"), [(1, "inactive", 0)])
