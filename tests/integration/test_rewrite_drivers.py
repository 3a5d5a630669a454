"""Drivers that cache statement descriptions, and flag flips, through the rewrite (issue 3).

psycopg `prepare=True` (named statements, Bind only after the first run), pgbench
`-M prepared` with a custom script on the mapped tables, and libpq_client with migrations
active. The parameter count and types and the result columns of a rewritten statement never
change (compared with Postgres' own Describe), and after a flip Switchyard re-prepares stale
statements itself (DESIGN §3, §4). Flags change by editing the config and sending SIGHUP; a
session adopts the new generation at its next transaction boundary. The data is checked
straight in Postgres.
"""

import os
import re
import signal
import subprocess
import tempfile
import unittest

from psycopg import pq

from harness.base import libpq_client, requires_libpq_client, requires_proxy
from harness.postgres import PG_BIN, SUPERUSER
from harness.util import line_of, wait_until
from test_rewrite import (MAPPED, RENAME, TYPE_CHANGE, MigrationProxy, RewriteCase,
                          both_migrations, migration)

PGBENCH_SCRIPT = r"""
\set id random(1, 200)
\set v random(0, 1)
BEGIN;
UPDATE accounts SET status = CASE WHEN :v = 1 THEN 'active' ELSE 'inactive' END WHERE id = :id;
SELECT status, name FROM accounts WHERE id = :id;
INSERT INTO accounts AS a (id, name, status)
  VALUES (:id + 1000, 'pgbench', CASE WHEN :v = 0 THEN 'active' ELSE 'inactive' END)
  ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, name = a.name || '+';
UPDATE users SET state = CASE WHEN :v = 1 THEN 'active' ELSE 'suspended' END WHERE id = :id;
SELECT u.status, a.status FROM users u JOIN accounts a ON a.id = u.id WHERE u.id = :id;
END;
"""

# Rows whose two columns disagree (to_old / to_new as SQL functions from test_rewrite.SCHEMA).
DRIFT = {
    "accounts": "SELECT count(*) FROM accounts WHERE status IS DISTINCT FROM acc_to_old(state) "
                "OR state IS DISTINCT FROM acc_to_new(status)",
    "users": "SELECT count(*) FROM users WHERE status IS DISTINCT FROM state",
}


def describe_prepared(conn, name: bytes, text: str):
    """(parameter type OIDs, [(column name, type OID, typmod)]) of an unnamed-typed Parse."""
    result = conn.pgconn.prepare(name, text.encode())
    if result.status != pq.ExecStatus.COMMAND_OK:
        return ("error", result.error_field(pq.DiagnosticField.SQLSTATE),
                result.error_message.decode().splitlines()[0])
    desc = conn.pgconn.describe_prepared(name)
    return ([desc.param_type(i) for i in range(desc.nparams)],
            [(desc.fname(i).decode(), desc.ftype(i), desc.fmod(i)) for i in range(desc.nfields)])


@requires_proxy
class FlipTest(RewriteCase):
    """Flags change by editing the config and sending SIGHUP (DESIGN §1, §4)."""

    MIGRATIONS = both_migrations(writes="old", reads="old")

    def setUp(self):
        super().setUp()
        self.proxy.reload(self.MIGRATIONS)

    def test_writes_flip_old_both_new_and_back(self):
        steps = (("old", "old", "active", None), ("both", "old", "active", 1),
                 ("both", "new", "inactive", 0), ("new", "new", None, 1),
                 ("both", "old", "active", 1))
        for i, (writes, reads, status, state) in enumerate(steps):
            with self.subTest(writes=writes, reads=reads):
                self.proxy.reload(both_migrations(writes=writes, reads=reads))
                value = "active" if state != 0 else "inactive"
                with self.connect() as conn:
                    conn.execute("INSERT INTO accounts (id, status) VALUES (%s, %s)", (i, value))
                self.assertEqual(self.direct("SELECT status, state FROM accounts WHERE id = %s",
                                             (i,)), [(status, state)])

    def test_reads_flip_to_new_and_back_is_instant(self):
        self.direct("INSERT INTO users VALUES (1, 'a', 'from-old', 'from-new')")
        with self.connect() as conn:
            for reads, served in (("old", "from-old"), ("new", "from-new"), ("old", "from-old")):
                self.proxy.reload(both_migrations(writes="both", reads=reads))
                # An idle session adopts the new generation at its next statement.
                self.assertEqual(conn.execute("SELECT status FROM users").fetchall(), [(served,)])

    def test_a_transaction_keeps_its_generation_until_it_ends(self):
        with self.connect(autocommit=False) as conn:
            conn.execute("INSERT INTO users (id, status) VALUES (1, 'active')")
            self.proxy.reload(both_migrations(writes="both"))
            conn.execute("INSERT INTO users (id, status) VALUES (2, 'active')")
            with self.connect() as other:
                other.execute("INSERT INTO users (id, status) VALUES (3, 'active')")
            conn.commit()
            conn.execute("INSERT INTO users (id, status) VALUES (4, 'active')")
            conn.commit()
        self.assertEqual(self.rows("users"), [(1, "active", None), (2, "active", None),
                                              (3, "active", "active"), (4, "active", "active")])

    def test_startup_refuses_a_migration_whose_new_column_is_missing(self):
        p = MigrationProxy(self.pg, [migration(RENAME, new_column="no_such_column")])
        self.addCleanup(p.close)
        with self.assertRaises(RuntimeError) as raised:
            p.start()
        self.assertIn("no_such_column", str(raised.exception))

    def test_ddl_through_the_proxy_refreshes_the_catalog(self):
        self.proxy.reload(both_migrations(writes="both", reads="new"))
        self.direct("INSERT INTO users VALUES (1, 'a', 'old', 'new')")
        try:
            with self.connect() as conn:
                conn.execute("ALTER TABLE users ADD COLUMN extra int DEFAULT 7")
                cur = conn.execute("SELECT * FROM users")
                self.assertEqual([d.name for d in cur.description],
                                 ["id", "name", "status", "extra"])
                self.assertEqual(cur.fetchall(), [(1, "a", "new", 7)])
                conn.execute("INSERT INTO users VALUES (2, 'b', 'active', 8)")
            self.assertEqual(self.rows("users", "id, status, state, extra"),
                             [(1, "old", "new", 7), (2, "active", "active", 8)])
        finally:
            with self.connect() as conn:
                conn.execute("ALTER TABLE users DROP COLUMN IF EXISTS extra")
        with self.connect() as conn:
            cur = conn.execute("SELECT * FROM users ORDER BY id")
            self.assertEqual([d.name for d in cur.description], ["id", "name", "status"])

    def test_a_reload_that_would_break_writes_is_refused_and_the_flags_stay(self):
        # Each config names what is wrong, at the line and key of the file that say it, as a
        # syntax error is; the running flags keep both columns written.
        bad = (
            ("a missing column", [migration(RENAME, writes="both", new_column="no_such_column"),
                                  migration(TYPE_CHANGE, writes="old")],
             "no_such_column", "migration[0].new_column", 'new_column = "no_such_column"'),
            ("to_new of the wrong type for the new column",
             [migration(RENAME, writes="both"),
              migration(TYPE_CHANGE, writes="both", to_new="upper({value})")],
             "is of type smallint but expression is of type text", "migration[1].to_new",
             'to_new = "upper({value})"'),
            ("to_old that does not apply to the new column",
             [migration(RENAME, writes="both"),
              migration(TYPE_CHANGE, writes="both", reads="new", to_old="{value} || 1")],
             "operator does not exist: smallint || integer", "migration[1].to_old",
             'to_old = "{value} || 1"'),
        )
        self.proxy.reload(both_migrations(writes="both"))
        for i, (what, migrations, expected, key, written) in enumerate(bad):
            with self.subTest(what):
                rejected_before = self.proxy.log_text().count("event=reload_rejected")
                self.proxy.migrations = migrations
                with open(self.proxy.config_path + ".tmp", "w") as f:
                    f.write(self.proxy.config_text())
                os.replace(self.proxy.config_path + ".tmp", self.proxy.config_path)
                self.proxy.signal(signal.SIGHUP)
                wait_until(lambda: self.proxy.log_text().count("event=reload_rejected")
                                 > rejected_before, 15, what="reload_rejected")
                self.assertIn(expected, self.proxy.log_text())
                line = line_of(self.proxy.config_path, written)
                self.assertRegex(self.proxy.log_text(),
                                 re.escape(f"{self.proxy.config_path}:{line}:") + r"\d+: "
                                 + re.escape(f"{key}: migration "))
                with self.connect() as conn:
                    conn.execute("INSERT INTO users (id, status) VALUES (%s, 'active')", (i,))
                    conn.execute("INSERT INTO accounts (id, status) VALUES (%s, 'active')", (i,))
                self.assertEqual(self.rows("users")[-1], (i, "active", "active"))
                self.assertEqual(self.rows("accounts")[-1], (i, "active", 1))

    def test_a_reload_whose_transforms_a_lock_keeps_unchecked_is_tried_again(self):
        # A transaction holds the table's lock while the file gets a to_new of the wrong type:
        # the check cannot run, and the reload must not pass as if it had (every rewritten write
        # would then fail). It fails, is tried again, and once the lock is gone the misfit is
        # found and refused; the running flags stay meanwhile.
        self.proxy.reload(both_migrations(writes="both"))
        locker = self.pg.connect()
        self.addCleanup(locker.close)
        locker.execute("BEGIN")
        locker.execute("LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE")
        failed_before = self.proxy.log_text().count("event=reload_retry")
        reloaded_before = self.proxy.log_text().count("event=config_reloaded")
        self.proxy.migrations = [migration(RENAME, writes="both"),
                                 migration(TYPE_CHANGE, writes="both", to_new=(
                                     "CASE {value} WHEN 'active' THEN 1 "
                                     "WHEN 'inactive' THEN 'zero' END"))]
        with open(self.proxy.config_path + ".tmp", "w") as f:
            f.write(self.proxy.config_text())
        os.replace(self.proxy.config_path + ".tmp", self.proxy.config_path)
        self.proxy.signal(signal.SIGHUP)
        wait_until(lambda: self.proxy.log_text().count("event=reload_retry") > failed_before, 15,
                   what="reload_retry")
        self.assertIn("could not check that the transforms fit the columns of public.accounts",
                      self.proxy.log_text())
        locker.execute("ROLLBACK")
        wait_until(lambda: "invalid input syntax for type integer" in self.proxy.log_text(), 20,
                   what="the misfit refused once the lock is gone")
        self.assertEqual(self.proxy.log_text().count("event=config_reloaded"), reloaded_before)
        with self.connect() as conn:
            conn.execute("INSERT INTO accounts (id, status) VALUES (41, 'active')")
        self.assertEqual(self.rows("accounts")[-1], (41, "active", 1))


@requires_proxy
class PreparedDriversTest(RewriteCase):
    MIGRATIONS = both_migrations(writes="both", reads="old")

    def setUp(self):
        super().setUp()
        # Tests flip flags on the class proxy; each starts from the class's flags.
        self.proxy.reload(self.MIGRATIONS)

    def assert_no_drift(self):
        for table, text in DRIFT.items():
            self.assertEqual(self.direct(text), [(0,)], table)

    def test_psycopg_prepared_writes_and_reads(self):
        with self.connect() as conn:
            for t in MAPPED:
                for i in range(1, 41):
                    value = ("active", "inactive")[i % 2]
                    conn.execute(f"INSERT INTO {t.table} (id, name, status) VALUES (%s, %s, %s)",
                                 (i, f"n{i}", value), prepare=True)
                for i in range(1, 41, 3):
                    conn.execute(f"UPDATE {t.table} SET status = %s WHERE id = %s",
                                 ("active", i), prepare=True)
                for i in range(35, 46):
                    conn.execute(f"INSERT INTO {t.table} (id, status) VALUES (%s, %s) ON CONFLICT "
                                 "(id) DO UPDATE SET status = EXCLUDED.status",
                                 (i, "inactive"), prepare=True)
                for i in range(1, 46, 5):
                    cur = conn.execute(f"SELECT id, status FROM {t.table} WHERE id = %s", (i,),
                                       prepare=True)
                    self.assertEqual([d.name for d in cur.description], ["id", "status"])
                    self.assertEqual(cur.fetchone(), self.direct(
                        f"SELECT id, status FROM {t.table} WHERE id = %s", (i,))[0])
                self.assertEqual(self.direct(f"SELECT count(*) FROM {t.table}"), [(45,)])
        self.assert_no_drift()

    def test_rewritten_parse_sent_with_its_batch_short_and_long(self):
        # psycopg sends Parse, Bind, Describe, Execute and Sync together. The rewritten Parse
        # goes out with the rest copied beside it while the batch is short (up to 4 KiB; 10
        # rows), as a list of buffers past that (250 rows), and alone when the Bind does not
        # fit in the same read (700 rows): each must reach Postgres whole and in order.
        self.proxy.reload(both_migrations(writes="both", reads="old"))
        with self.connect() as conn:
            for first, rows in ((1, 10), (101, 250), (401, 700)):
                values = ", ".join(["(%s, %s)"] * rows)
                params = [v for i in range(first, first + rows)
                          for v in (i, ("active", "inactive")[i % 2])]
                cur = conn.execute(f"INSERT INTO accounts (id, status) VALUES {values}", params)
                self.assertEqual(cur.rowcount, rows)
        self.assertEqual(self.direct("SELECT count(*), count(state), sum(state) FROM accounts"),
                         [(960, 960, 5 + 125 + 350)])
        self.assert_no_drift()

    def test_psycopg_prepared_statements_across_flips(self):
        self.direct("INSERT INTO accounts VALUES (100, 'seed', 'inactive', 1)")
        steps = (  # writes, reads, (status, state) of an insert of 'active', served value
            ("old", "old", ("active", None), "inactive"),
            ("both", "new", ("active", 1), "active"),
            ("new", "new", (None, 1), "active"),
            ("both", "old", ("active", 1), "inactive"),
        )
        with self.connect() as conn:
            for i, (writes, reads, stored, served) in enumerate(steps, start=1):
                with self.subTest(writes=writes, reads=reads):
                    self.proxy.reload(both_migrations(writes=writes, reads=reads))
                    conn.execute("INSERT INTO accounts (id, status) VALUES (%s, %s)",
                                 (i, "active"), prepare=True)
                    cur = conn.execute("SELECT status FROM accounts WHERE id = %s", (100,),
                                       prepare=True)
                    self.assertEqual([d.name for d in cur.description], ["status"])
                    self.assertEqual(cur.fetchall(), [(served,)])
                    cur = conn.execute("SELECT * FROM accounts WHERE id = %s", (100,),
                                       prepare=True)
                    self.assertEqual([d.name for d in cur.description], ["id", "name", "status"])
                    self.assertEqual(cur.fetchall(), [(100, "seed", served)])
                    self.assertEqual(self.direct("SELECT status, state FROM accounts "
                                                 "WHERE id = %s", (i,)), [stored])

    def test_statement_prepared_before_any_migration_is_prepared_again_when_one_is_added(self):
        # The usual start of a migration: the app runs, then the operator adds the migration to
        # the config. A statement prepared before must not keep writing only the old column.
        p = self.migration_proxy([])
        with self.connect_to(p) as conn:
            insert = "INSERT INTO accounts (id, status) VALUES (%s, %s)"
            conn.execute(insert, (1, "active"), prepare=True)
            p.reload(both_migrations(writes="both", reads="old"))
            conn.execute(insert, (2, "inactive"), prepare=True)
            conn.execute("UPDATE accounts SET status = %s WHERE id = %s", ("inactive", 1),
                         prepare=True)
        self.assertEqual(self.direct("SELECT id, status, state FROM accounts ORDER BY id"),
                         [(1, "inactive", 0), (2, "inactive", 0)])
        self.assertIn("event=reprepare", p.log_text())

    def test_psycopg_prepared_in_a_pipeline(self):
        with self.connect() as conn:
            with conn.pipeline():
                for i in range(1, 101):
                    conn.execute("INSERT INTO users (id, status) VALUES (%s, %s)",
                                 (i, ("active", "suspended")[i % 2]), prepare=True)
                    if i % 10 == 0:
                        conn.execute("UPDATE users SET status = %s WHERE id = %s",
                                     ("inactive", i - 5), prepare=True)
                cur = conn.execute("SELECT count(*) FROM users WHERE status = %s", ("inactive",),
                                   prepare=True)
            self.assertEqual(cur.fetchone(), (10,))
        self.assertEqual(self.direct("SELECT count(*) FROM users WHERE state = 'inactive'"),
                         [(10,)])
        self.assert_no_drift()

    def pgbench(self, *args):
        env = dict(os.environ, PGPASSWORD=self.pg.password, PGSSLMODE="disable",
                   PGCONNECT_TIMEOUT="10")
        return subprocess.Popen([os.path.join(PG_BIN, "pgbench"), "-h", self.host, "-p",
                                 str(self.port), "-U", SUPERUSER, *args, self.pg.dbname],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env=env)

    def test_pgbench_prepared_custom_script_with_read_flips(self):
        self.direct("INSERT INTO accounts (id, name, status, state) SELECT i, 'a', 'active', 1 "
                    "FROM generate_series(1, 200) i")
        self.direct("INSERT INTO users (id, name, status, state) SELECT i, 'u', 'active', "
                    "'active' FROM generate_series(1, 200) i")
        with tempfile.TemporaryDirectory() as directory:
            script = os.path.join(directory, "mapped.sql")
            with open(script, "w") as f:
                f.write(PGBENCH_SCRIPT)
            proc = self.pgbench("-n", "-M", "prepared", "-f", script, "-c", "4", "-j", "2",
                                "-t", "150")
            try:
                # Reads flips while the run is going: prepared statements get re-prepared.
                for reads in ("new", "old", "new"):
                    self.proxy.reload(both_migrations(writes="both", reads=reads))
                output, _ = proc.communicate(timeout=120)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.communicate()
        self.assertEqual(proc.returncode, 0, output)
        self.assertIn("number of failed transactions: 0 ", output)
        self.assertIn("number of transactions actually processed: 600/600", output)
        self.assert_no_drift()
        self.assertGreater(self.direct("SELECT count(*) FROM accounts WHERE id > 1000")[0][0], 0)
        self.assertGreater(self.direct("SELECT count(*) FROM users WHERE state = 'suspended'")
                           [0][0], 0)

    def test_described_parameters_and_columns_match_postgres(self):
        # What a driver caches from Parse + Describe: parameter types, and each result column's
        # name, type and type modifier. Compared with the statement prepared directly; a `*`
        # is compared with the column list the table had before the migration began.
        statements = (
            ("SELECT * FROM accounts WHERE id = $1",
             "SELECT id, name, status FROM accounts WHERE id = $1"),
            ("SELECT a.*, u.status FROM accounts a JOIN users u ON u.id = a.id "
             "WHERE a.status = $1",
             "SELECT a.id, a.name, a.status, u.status FROM accounts a JOIN users u "
             "ON u.id = a.id WHERE a.status = $1"),
            ("SELECT status, count(*) FROM users WHERE status <> $1 GROUP BY status", None),
            ("INSERT INTO accounts (id, status) VALUES ($1, $2) RETURNING *",
             "INSERT INTO accounts (id, status) VALUES ($1, $2) RETURNING id, name, status"),
            ("INSERT INTO accounts (id, state) VALUES ($1, $2) RETURNING status, state", None),
            ("INSERT INTO accounts VALUES ($1, $2, $3)", None),
            ("UPDATE accounts SET status = $1 WHERE id = $2 RETURNING status", None),
            ("UPDATE accounts SET state = $1 WHERE status = $2", None),
            ("INSERT INTO users (id, status) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE "
             "SET status = EXCLUDED.status RETURNING id, status", None),
            ("DELETE FROM users WHERE status = $1 RETURNING *",
             "DELETE FROM users WHERE status = $1 RETURNING id, name, status"),
        )
        reads_new = self.migration_proxy(both_migrations(writes="both", reads="new"))
        writes_new = self.migration_proxy(both_migrations(writes="new", reads="new"))
        with self.pg.connect() as direct:
            for p in (reads_new, writes_new):
                with self.connect_to(p) as conn:
                    for i, (text, direct_text) in enumerate(statements):
                        with self.subTest(writes=p.migrations[0]["writes"], sql=text):
                            name = f"s{i}".encode()
                            expected = describe_prepared(direct, name, direct_text or text)
                            direct.pgconn.exec_(b"DEALLOCATE " + name)
                            self.assertEqual(describe_prepared(conn, name, text), expected)

    @requires_libpq_client
    def test_libpq_client_checks_pass_with_migrations_active(self):
        proc = subprocess.run([libpq_client(), self.conninfo()], capture_output=True, text=True,
                              timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("all checks passed", proc.stdout)


if __name__ == "__main__":
    unittest.main()
