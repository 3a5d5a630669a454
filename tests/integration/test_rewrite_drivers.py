"""Drivers that cache statement descriptions keep working through the rewrite (issue 3).

psycopg `prepare=True` (named statements, Bind only after the first run), pgbench
`-M prepared` with a custom script on the mapped tables, and libpq_client with migrations
active. The parameter count and types and the result columns of a rewritten statement never
change, and after a flip Switchyard re-prepares stale statements itself (DESIGN §3, §4); the
data is then checked straight in Postgres.
"""

import os
import subprocess
import tempfile
import unittest

from harness.base import libpq_client, requires_libpq_client, requires_proxy
from harness.postgres import PG_BIN, SUPERUSER
from test_rewrite import MAPPED, RewriteCase, both_migrations

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

    @requires_libpq_client
    def test_libpq_client_checks_pass_with_migrations_active(self):
        proc = subprocess.run([libpq_client(), self.conninfo()], capture_output=True, text=True,
                              timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("all checks passed", proc.stdout)


if __name__ == "__main__":
    unittest.main()
