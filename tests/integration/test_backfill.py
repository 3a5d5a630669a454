"""switchyard backfill / verify / status (issue 5) against a real PostgreSQL 15.

Every assertion is checked in the DATA (straight from Postgres over the unix socket) or in the
exit status and output of the commands. One cluster for the module's classes; the commands
connect straight to it with the config's [upstream] credentials, while the application-side
writes of the dual-write test go through a Switchyard proxy with writes = "both" (the
MigrationProxy helper of test_rewrite).

Tables are created per test, small enough to keep the module around a minute on two cores;
only the dual-write test uses the issue's 300k rows.
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

import psycopg

from harness import pgbouncer, postgres, proxy
from harness.base import IntegrationCase
from harness.util import wait_until
from test_admin import MigrationProxy as AdminProxy
from test_rewrite import PASSWORD_ENV, MigrationProxy

TO_NEW = "CASE {value} WHEN 'active' THEN 1 WHEN 'inactive' THEN 0 END"
TO_OLD = "CASE {value} WHEN 1 THEN 'active' WHEN 0 THEN 'inactive' END"
SQL_TO_NEW = "CASE status WHEN 'active' THEN 1 WHEN 'inactive' THEN 0 END"


def pgbench_binary():
    for path in (os.path.join(postgres.PG_BIN, "pgbench"), "/usr/bin/pgbench"):
        if os.path.exists(path):
            return path
    return None


def type_change(name, table, writes="both", reads="old", **extra):
    entry = {"name": name, "table": f"public.{table}", "old_column": "status",
             "new_column": "state", "writes": writes, "reads": reads,
             "to_new": TO_NEW, "to_old": TO_OLD}
    entry.update(extra)
    return entry


def rename(name, table, writes="both", reads="old", **extra):
    entry = {"name": name, "table": f"public.{table}", "old_column": "status",
             "new_column": "state", "writes": writes, "reads": reads}
    entry.update(extra)
    return entry


class Run:
    """A finished command: exit status, stdout, stderr."""

    def __init__(self, args, proc):
        self.args = args
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def __str__(self):
        return (f"$ switchyard {' '.join(self.args)} -> {self.code}\n--- stdout ---\n"
                f"{self.out[-4000:]}\n--- stderr ---\n{self.err[-4000:]}")


@unittest.skipUnless(proxy.binary(), "needs SWITCHYARD_BIN: backfill is a switchyard command")
class BackfillCase(IntegrationCase):
    """One cluster per class; helpers to write configs and run the commands."""

    @classmethod
    def setUpClass(cls):
        cls.pg = postgres.start_for_class(cls)
        os.environ[PASSWORD_ENV] = cls.pg.password
        cls.directory = tempfile.mkdtemp(prefix="switchyard-backfill-")
        cls.addClassCleanup(shutil.rmtree, cls.directory, True)

    def write_config(self, migrations, name="switchyard.toml", database=None, port=None):
        path = os.path.join(self.directory, name)
        text = proxy.render_config({
            "listen": {"address": "127.0.0.1:0"},
            "upstream": {"address": f"127.0.0.1:{port or self.pg.port}", "tls": "disable",
                         "user": postgres.SUPERUSER, "password_env": PASSWORD_ENV,
                         "database": database or self.pg.dbname},
            "migration": migrations,
        })
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def command(self, config, *args, timeout=120):
        full = [args[0], "--config", config, *args[1:]]
        proc = subprocess.run([proxy.binary(), *full], capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
        return Run(full, proc)

    def start_app_proxy(self, migrations):
        """A proxy the test's app writes through; its config file serves the commands too."""
        app_proxy = MigrationProxy(self.pg, migrations)
        self._test_proxies.append(app_proxy)
        self.addCleanup(app_proxy.close)
        app_proxy.start()
        return app_proxy

    def through(self, app_proxy):
        """An autocommit psycopg connection through `app_proxy`, as the application has."""
        return psycopg.connect(self.pg.conninfo(host=app_proxy.host, port=app_proxy.port,
                                                sslmode="disable"), autocommit=True)

    def start_command(self, config, *args):
        """A command left running (stderr to a file, for its log lines)."""
        log = tempfile.NamedTemporaryFile(prefix="backfill-", suffix=".log", dir=self.directory,
                                          delete=False)
        proc = subprocess.Popen([proxy.binary(), args[0], "--config", config, *args[1:]],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
        return proc, log.name

    def make_table(self, table, rows, status_sql="CASE WHEN g % 2 = 0 THEN 'active' ELSE "
                   "'inactive' END", state_type="smallint", extra=""):
        self.pg.query(f"DROP TABLE IF EXISTS {table}")
        self.pg.query(f"CREATE TABLE {table} (id int PRIMARY KEY, status text, "
                      f"other int NOT NULL DEFAULT 0{extra})")
        self.pg.query(f"INSERT INTO {table} (id, status) SELECT g, {status_sql} "
                      f"FROM generate_series(1, {rows}) g")
        # Step 1 of the recipe: the new column arrives after the data, nullable.
        self.pg.query(f"ALTER TABLE {table} ADD COLUMN state {state_type}")
        self.pg.query(f"ANALYZE {table}")

    def one(self, text, params=None):
        return self.pg.query(text, params)[0][0]

    def progress(self, migration):
        """(rows_walked, rows_updated, batches, state, last_key) or None before any run."""
        if not self.one("SELECT to_regclass('switchyard.backfill_progress') IS NOT NULL"):
            return None
        rows = self.pg.query("SELECT rows_walked, rows_updated, batches, state, last_key "
                             "FROM switchyard.backfill_progress WHERE migration = %s",
                             (migration,))
        return rows[0] if rows else None

    def backend_gone(self, application_name):
        return self.one("SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = %s",
                        (application_name,))


@unittest.skipUnless(pgbouncer.available(), "needs pgbouncer")
class PooledServerSessionTest(BackfillCase):
    """Through a pooler the server session outlives the command and serves the next client:
    the command must leave nothing of its own on it (the docs still send the commands straight
    to Postgres or through a session-mode pooler)."""

    def setUp(self):
        super().setUp()
        self.bouncer = pgbouncer.PgBouncer(self.pg)
        self.addCleanup(self.bouncer.stop)
        self.bouncer.start()

    def pooled_setting(self, name):
        with psycopg.connect(self.pg.conninfo(host=self.bouncer.host, port=self.bouncer.port,
                                              sslmode="disable"), autocommit=True) as conn:
            return conn.execute(f"SHOW {name}").fetchone()[0]

    def test_backfill_releases_its_advisory_lock_on_the_pooled_session(self):
        self.make_table("pooled_lock", 500)
        migration = type_change("pooled-lock", "pooled_lock")
        pooled = self.write_config([migration], name="pooled.toml", port=self.bouncer.port)
        direct = self.write_config([migration], name="direct.toml")
        for args in ((), ()):  # the second run only says "already finished"
            run = self.command(pooled, "backfill", "--migration", "pooled-lock", *args)
            self.assertEqual(run.code, 0, run)
            self.assertEqual(self.one("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"),
                             0, "the backfill's lock is left on the pooled server session")
        run = self.command(direct, "backfill", "--migration", "pooled-lock", "--restart")
        self.assertEqual(run.code, 0, run)
        self.assertEqual(self.one("SELECT count(*) FROM pooled_lock WHERE state IS DISTINCT FROM "
                                  f"{SQL_TO_NEW}"), 0)

    def test_dry_run_leaves_no_statement_timeout_on_the_pooled_session(self):
        self.make_table("pooled_dry", 300)
        pooled = self.write_config([type_change("pooled-dry", "pooled_dry")], name="dry.toml",
                                   port=self.bouncer.port)
        before = self.pooled_setting("statement_timeout")
        run = self.command(pooled, "backfill", "--migration", "pooled-dry", "--dry-run",
                           "--statement-timeout", "1234ms")
        self.assertEqual(run.code, 0, run)
        self.assertIn("pending: 300 of 300", run.out)
        self.assertEqual(self.pooled_setting("statement_timeout"), before)

    def test_verify_stopped_by_a_failing_transform_leaves_no_statement_timeout(self):
        self.make_table("pooled_verify", 200, status_sql="g::text")
        self.pg.query("UPDATE pooled_verify SET status = 'x' WHERE id = 150")
        failing = type_change("pooled-verify", "pooled_verify", to_new="({value})::smallint",
                              to_old="({value})::text")
        pooled = self.write_config([failing], name="verify.toml", port=self.bouncer.port)
        before = self.pooled_setting("statement_timeout")
        run = self.command(pooled, "verify", "--migration", "pooled-verify",
                           "--statement-timeout", "1234ms")
        self.assertEqual(run.code, 1, run)
        self.assertIn("id=150", run.err)
        self.assertEqual(self.pooled_setting("statement_timeout"), before)


class BackfillUnderDualWritesTest(BackfillCase):
    """The issue's main scenario: 300k rows, pgbench writes through Switchyard meanwhile."""

    ROWS = 300_000

    @unittest.skipUnless(pgbench_binary(), "needs pgbench")
    def test_backfill_during_pgbench_dual_writes_then_verify_agrees(self):
        self.make_table("big", self.ROWS)
        app_proxy = self.start_app_proxy([type_change("big-status", "big")])
        config = app_proxy.config_path

        # Updates of old rows (both values), inserts of new rows and upserts, all written by an
        # "old app" that only knows the status column: the proxy adds state.
        script = os.path.join(self.directory, "writes.sql")
        with open(script, "w") as f:
            # Random values are drawn by pgbench: INSERT ... VALUES (random()) is refused by the
            # rewrite, rightly (its VALUES row cannot compute a value once for two columns).
            f.write("\\set id random(1, 300000)\n"
                    "\\set nid random(300001, 320000)\n"
                    "\\set flip random(0, 1)\n"
                    "UPDATE big SET status = CASE WHEN :flip = 0 THEN 'active' "
                    "ELSE 'inactive' END, other = other + 1 WHERE id = :id;\n"
                    "INSERT INTO big (id, status) VALUES (:nid, 'active') "
                    "ON CONFLICT (id) DO UPDATE SET status = 'inactive';\n")
        bench_log = os.path.join(self.directory, "pgbench.log")
        with open(bench_log, "w") as out:
            bench = subprocess.Popen(
                [pgbench_binary(), "-h", app_proxy.host, "-p", str(app_proxy.port),
                 "-U", postgres.SUPERUSER, "-n", "-f", script, "-c", "3", "-j", "1",
                 "-T", "120", "-P", "1", self.pg.dbname],
                env=dict(os.environ, PGPASSWORD=self.pg.password), stdout=out,
                stderr=subprocess.STDOUT)
        self.addCleanup(lambda: bench.poll() is None and (bench.kill(), bench.wait()))
        # The writes must be flowing before the backfill starts, and still flow after it.
        wait_until(lambda: self.one("SELECT count(*) FROM big WHERE id > %s", (self.ROWS,)) > 20,
                   30, what="pgbench writes through the proxy")

        run = self.command(config, "backfill", "--migration", "big-status", "--batch-size",
                           "2000", "--max-rate", "60000", "--progress", "log",
                           "--log-interval", "1s")
        self.assertEqual(run.code, 0, str(run))
        self.assertIn("event=backfill_done", run.err, str(run))
        self.assertIn("event=backfill_progress", run.err, str(run))  # periodic lines, no TTY
        written_during = self.one("SELECT sum(other) FROM big")
        bench.send_signal(signal.SIGINT)
        bench.wait(30)
        with open(bench_log) as f:
            bench_output = f.read()
        # pgbench prints a client's failure as it happens ("client 1 aborted ... ERROR: ...").
        self.assertNotIn("aborted", bench_output)
        self.assertNotIn("ERROR", bench_output)
        self.assertGreater(written_during, 50, "pgbench did not overlap the backfill")

        drift = self.one(f"SELECT count(*) FROM big WHERE state IS DISTINCT FROM ({SQL_TO_NEW})")
        self.assertEqual(drift, 0)
        run = self.command(config, "verify", "--migration", "big-status")
        self.assertEqual(run.code, 0, str(run))
        self.assertRegex(run.out, r"\b3\d{5} rows checked, 0 disagree")
        self.assertIn("OK: the columns agree", run.out)

        progress = self.progress("big-status")
        self.assertEqual(progress[3], "done")
        self.assertGreaterEqual(progress[0], self.ROWS)
        status = self.command(config, "status")
        self.assertEqual(status.code, 0, str(status))
        self.assertIn("backfill: done", status.out)
        self.assertIn("verify:   agree", status.out)
        self.assertIn('step 5: set reads = "new"', status.out)


class ResumeTest(BackfillCase):
    ROWS = 100_000
    BATCH = 1000

    def test_sigkill_mid_run_then_rerun_resumes_without_repeating_work(self):
        # A trigger counts how often each row is updated: the proof of "no work twice".
        self.make_table("resume_t", self.ROWS, state_type="text",
                        extra=", touched int NOT NULL DEFAULT 0")
        self.pg.query("""
            CREATE FUNCTION count_touch() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN NEW.touched := OLD.touched + 1; RETURN NEW; END $$;
            CREATE TRIGGER touch BEFORE UPDATE ON resume_t
              FOR EACH ROW EXECUTE FUNCTION count_touch();""")
        config = self.write_config([rename("resume", "resume_t")])

        proc, log = self.start_command(config, "backfill", "--migration", "resume",
                                       "--batch-size", str(self.BATCH), "--max-rate", "20000",
                                       "--progress", "log")
        wait_until(lambda: (self.progress("resume") or (0,))[0] >= 30_000 or proc.poll(), 60,
                   what="the backfill to pass 30k rows")
        self.assertIsNone(proc.poll(), "the backfill finished before it could be killed")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        wait_until(lambda: self.backend_gone("switchyard-backfill"), 30,
                   what="the killed backfill's backend to end")
        walked_before, updated_before, _, state, _ = self.progress("resume")
        self.assertEqual(state, "running")
        self.assertLess(walked_before, self.ROWS)
        # What the progress row says is exactly what is in the table: batch and progress
        # commit together.
        self.assertEqual(self.one("SELECT count(*) FROM resume_t WHERE touched > 0"),
                         updated_before)

        run = self.command(config, "backfill", "--migration", "resume", "--batch-size",
                           str(self.BATCH), "--progress", "log")
        self.assertEqual(run.code, 0, str(run))
        self.assertIn("event=backfill_resume", run.err)
        walked, updated, _, state, _ = self.progress("resume")
        self.assertEqual(state, "done")
        self.assertEqual(updated, self.ROWS)
        self.assertLessEqual(walked, self.ROWS + self.BATCH)
        self.assertEqual(self.one("SELECT max(touched) FROM resume_t"), 1)
        self.assertEqual(self.one("SELECT count(*) FROM resume_t WHERE touched = 1"), self.ROWS)
        self.assertEqual(self.one("SELECT count(*) FROM resume_t WHERE state IS DISTINCT FROM "
                                  "status"), 0)

        # A third run has nothing left to do and says so.
        again = self.command(config, "backfill", "--migration", "resume")
        self.assertEqual(again.code, 0, str(again))
        self.assertIn("already finished", again.out)
        self.assertEqual(self.one("SELECT max(touched) FROM resume_t"), 1)


class LocksTest(BackfillCase):
    ROWS = 60_000
    LOCK_TIMEOUT_S = 0.5
    TARGET_BATCH_S = 0.5

    def test_a_held_backfill_lock_names_the_server_pid_holding_it(self):
        # h16 #12: after a kill -9 the holder is a server session, not a process to look for.
        self.make_table("lk_t", 10)
        config = self.write_config([type_change("lk", "lk_t")])
        with self.pg.connect() as holder:
            holder.execute("SELECT pg_advisory_lock(hashtext('switchyard backfill'), "
                           "hashtext('lk'))")
            pid = holder.execute("SELECT pg_backend_pid()").fetchone()[0]
            run = self.command(config, "backfill", "--migration", "lk")
        self.assertEqual(run.code, 1, str(run))
        self.assertIn("another backfill", run.err)
        self.assertIn(f"server pid {pid}", run.err)
        self.assertEqual(self.one("SELECT count(*) FROM lk_t WHERE state IS NULL"), 10)

    def test_concurrent_updates_in_the_batch_range_wait_at_most_lock_timeout_plus_a_batch(self):
        self.make_table("lock_t", self.ROWS)
        config = self.write_config([type_change("locks", "lock_t")])
        # Another session holds one row for much longer than lock_timeout, so the backfill
        # must give up its batch, retry smaller and go on, never queueing others behind it.
        holder = self.pg.connect(autocommit=False)
        self.addCleanup(holder.close)
        holder.execute("SELECT * FROM lock_t WHERE id = 20000 FOR UPDATE")

        proc, log = self.start_command(
            config, "backfill", "--migration", "locks", "--batch-size", "2000",
            "--max-rate", "15000", "--lock-timeout", "500ms", "--target-batch-time", "500ms",
            "--progress", "log")
        latencies = []
        with self.pg.connect() as writer:
            released = False
            deadline = time.monotonic() + 60
            while proc.poll() is None and time.monotonic() < deadline:
                row = self.progress("locks")
                last = int(row[4][0]) if row and row[4] else 0
                if not released and last >= 18_000:
                    time.sleep(3 * self.LOCK_TIMEOUT_S)  # keep the lock: force retries
                    holder.rollback()
                    released = True
                # A row just ahead of the last committed key: in the batch being written.
                target = min(self.ROWS, last + 50)
                started = time.monotonic()
                writer.execute("UPDATE lock_t SET other = other + 1 WHERE id = %s", (target,))
                latencies.append(time.monotonic() - started)
        code = proc.wait(30)
        with open(log) as f:
            text = f.read()
        self.assertEqual(code, 0, text[-4000:])
        self.assertIn("event=backfill_retry", text)
        self.assertIn("sqlstate=55P03", text)
        self.assertGreater(len(latencies), 10)
        bound = self.LOCK_TIMEOUT_S + 2 * self.TARGET_BATCH_S
        self.assertLess(max(latencies), bound, sorted(latencies)[-5:])
        self.assertEqual(self.one(f"SELECT count(*) FROM lock_t WHERE state IS DISTINCT FROM "
                                  f"({SQL_TO_NEW})"), 0)


class VerifyTest(BackfillCase):

    def test_verify_names_a_corrupted_rows_key_and_status_says_do_not_flip(self):
        self.make_table("ver_t", 20_000)
        config = self.write_config([type_change("ver", "ver_t")])
        self.assertEqual(self.command(config, "backfill", "--migration", "ver").code, 0)
        self.assertEqual(self.command(config, "verify", "--migration", "ver").code, 0)
        # Drift written behind the proxy's back: the new column alone, and the old alone.
        self.pg.query("UPDATE ver_t SET state = 1 WHERE id = 4243")  # 4243 is inactive
        self.pg.query("UPDATE ver_t SET status = 'gone' WHERE id = 17001")
        run = self.command(config, "verify", "--migration", "ver", "--chunk-size", "3000")
        self.assertEqual(run.code, 1, str(run))
        self.assertIn("20000 rows checked, 2 disagree", run.out)
        self.assertIn("to-new 2, to-old 2", run.out)
        self.assertIn("id=4243: status='inactive' state='1'", run.out)
        self.assertIn("id=17001", run.out)
        only_old = self.command(config, "verify", "--migration", "ver", "--direction", "to-new")
        self.assertEqual(only_old.code, 1)
        status = self.command(config, "status", "--migration", "ver")
        self.assertEqual(status.code, 1, str(status))
        self.assertIn("verify:   disagree", status.out)
        self.assertIn("do not switch reads", status.out)

    def test_defaults_that_disagree_are_named_with_the_fix_and_the_fix_holds(self):
        # The old column has a default and the new one none: an INSERT through the proxy that
        # names neither column stores 'active' and NULL. Status must say so before verify does.
        self.make_table("def_t", 100)
        self.pg.query("ALTER TABLE def_t ALTER COLUMN status SET DEFAULT 'active'")
        app_proxy = self.start_app_proxy([type_change("def", "def_t")])
        config = app_proxy.config_path
        self.assertEqual(self.command(config, "backfill", "--migration", "def").code, 0)

        def insert_through_proxy(row_id):
            with self.through(app_proxy) as conn:
                conn.execute("INSERT INTO def_t (id) VALUES (%s)", (row_id,))
            return self.pg.query("SELECT status, state FROM def_t WHERE id = %s", (row_id,))[0]

        self.assertEqual(insert_through_proxy(1001), ("active", None))
        # The proxy said so when it loaded the config, and so does check.
        self.assertEqual(app_proxy.log_text().count("event=migration_warning"), 1,
                         app_proxy.log_tail())
        self.assertIn("state no default: they disagree", app_proxy.log_text())
        check = self.command(config, "check")
        self.assertEqual(check.code, 0, str(check))
        self.assertIn('warning: migration "def": the columns\' defaults', check.out)
        status = self.command(config, "status", "--migration", "def")
        self.assertEqual(status.code, 1, str(status))
        self.assertIn("defaults: status DEFAULT 'active'::text, state no default: they disagree.",
                      status.out)
        self.assertIn("the defaults disagree", status.out)
        fix = re.search(r"Make them agree: (ALTER TABLE .*)", status.out)
        self.assertIsNotNone(fix, str(status))
        run = self.command(config, "verify", "--migration", "def")
        self.assertEqual(run.code, 1, str(run))
        self.assertIn("1 disagree", run.out)
        self.assertIn("likely cause, the defaults:", run.out)

        # The ALTER status printed, run as printed, makes new rows agree.
        self.pg.query(fix.group(1))
        self.assertEqual(insert_through_proxy(1002), ("active", 1))
        app_proxy.reload(migrations=[type_change("def", "def_t")])
        self.assertEqual(app_proxy.log_text().count("event=migration_warning"), 1,
                         app_proxy.log_tail())
        self.assertNotIn("warning", self.command(config, "check").out)
        self.assertEqual(self.command(config, "backfill", "--restart", "--migration", "def").code,
                         0)
        self.assertEqual(self.command(config, "verify", "--migration", "def").code, 0)
        status = self.command(config, "status", "--migration", "def")
        self.assertEqual(status.code, 0, str(status))
        self.assertIn(": they agree.", status.out)

    def test_a_sequence_default_is_named_and_not_consumed(self):
        self.make_table("seq_t", 10)
        self.pg.query("DROP SEQUENCE IF EXISTS seq_t_status")
        self.pg.query("CREATE SEQUENCE seq_t_status")
        self.pg.query("ALTER TABLE seq_t ALTER COLUMN status SET DEFAULT "
                      "nextval('seq_t_status')::text")
        config = self.write_config([rename("seq", "seq_t")])
        status = self.command(config, "status", "--migration", "seq")
        self.assertIn("status's default gives a new value each time", status.out, str(status))
        self.assertIn("BEFORE INSERT trigger", status.out)
        # Evaluated read-only: the sequence was not advanced.
        self.assertFalse(self.one("SELECT is_called FROM seq_t_status"))

    def test_what_the_database_runs_on_the_old_column_is_named_before_writes_new(self):
        # A view and a NOT NULL old column: harmless while both columns are written, wrong
        # under writes = "new" (the view goes stale, every INSERT fails).
        self.make_table("dep_t", 10)
        self.pg.query("ALTER TABLE dep_t ALTER COLUMN status SET NOT NULL")
        self.pg.query("CREATE VIEW dep_active AS SELECT id FROM dep_t WHERE status = 'active'")
        self.addCleanup(self.pg.query, "DROP VIEW IF EXISTS dep_active")
        both = self.write_config([type_change("dep", "dep_t", reads="new")], "dep-both.toml")
        self.assertEqual(self.command(both, "backfill", "--migration", "dep", "--direction",
                                      "to-new").code, 0)
        self.assertEqual(self.command(both, "verify", "--migration", "dep").code, 0)
        status = self.command(both, "status", "--migration", "dep")
        self.assertEqual(status.code, 0, str(status))
        self.assertIn("depends:  view dep_active uses status.", status.out)
        self.assertIn('recreate them on state before writes = "new"', status.out)
        self.assertIn("Before that step: ALTER TABLE", status.out)
        self.assertIn("step 6, after one fix", status.out)

        new = self.write_config([type_change("dep", "dep_t", writes="new", reads="new")],
                                "dep-new.toml")
        status = self.command(new, "status", "--migration", "dep")
        self.assertEqual(status.code, 1, str(status))
        self.assertIn("they read stale values now", status.out)
        self.assertIn("every INSERT leaves it out and fails", status.out)
        check = self.command(new, "check")
        self.assertIn('warning: migration "dep": view dep_active uses status.', check.out)

        # A unique index over the old column and not over the new one: nothing would keep the
        # new column unique once the old one is left out.
        self.pg.query("CREATE UNIQUE INDEX dep_t_id_status ON dep_t (id, status)")
        status = self.command(new, "status", "--migration", "dep")
        self.assertIn("unique index dep_t_id_status over status has no counterpart over state",
                      status.out)
        self.pg.query("CREATE UNIQUE INDEX dep_t_id_state ON dep_t (id, state)")

        # With the view on the new column and NOT NULL dropped, writes = "new" is clean.
        self.pg.query("CREATE OR REPLACE VIEW dep_active AS SELECT id FROM dep_t "
                      "WHERE state = 1")
        self.pg.query("ALTER TABLE dep_t ALTER COLUMN status DROP NOT NULL")
        status = self.command(new, "status", "--migration", "dep")
        self.assertEqual(status.code, 0, str(status))
        self.assertNotIn("depends:", status.out)
        self.assertIn("step 7:", status.out)

        # PL/pgSQL is opaque to pg_depend: functions that name the column are a guess, shown
        # but not counted against the migration.
        self.pg.query("CREATE FUNCTION dep_norm() RETURNS trigger LANGUAGE plpgsql AS "
                      "$$ BEGIN NEW.status := lower(NEW.status); RETURN NEW; END $$")
        self.pg.query("CREATE TRIGGER dep_norm_t BEFORE UPDATE ON dep_t FOR EACH ROW "
                      "EXECUTE FUNCTION dep_norm()")
        self.pg.query("CREATE FUNCTION dep_set(i int, s text) RETURNS void LANGUAGE plpgsql AS "
                      "$$ BEGIN UPDATE dep_t SET status = s WHERE id = i; END $$")
        self.pg.query("CREATE FUNCTION dep_other() RETURNS bigint LANGUAGE plpgsql AS "
                      "$$ BEGIN RETURN (SELECT count(*) FROM pg_class WHERE relname = 'status'); "
                      "END $$")
        self.addCleanup(self.pg.query, "DROP FUNCTION IF EXISTS dep_norm, dep_set, dep_other "
                        "CASCADE")
        status = self.command(new, "status", "--migration", "dep")
        self.assertEqual(status.code, 0, str(status))
        self.assertIn("functions whose source names status: dep_norm() (trigger dep_norm_t), "
                      "dep_set(integer,text).", status.out)
        self.assertNotIn("dep_other", status.out)

    def test_foreign_and_partition_keys_over_the_old_column_are_named_before_writes_new(self):
        # Under writes = "new" rows leave the old column out: a foreign key over it (either
        # side) checks nothing of them, and a partition key over it routes them by NULL.
        for sql in (
                "DROP TABLE IF EXISTS fk_ref, fk_child, fk_parent, pk_t, pe_t CASCADE",
                "CREATE TABLE fk_parent (id int PRIMARY KEY, code text UNIQUE, code2 text UNIQUE)",
                "CREATE TABLE fk_child (id int PRIMARY KEY, a_id int REFERENCES fk_parent(id), "
                "a_ref int)",
                "CREATE TABLE fk_ref (id int, code text REFERENCES fk_parent(code))",
                "CREATE TABLE pk_t (id int, o text, n text) PARTITION BY LIST (o)",
                "CREATE TABLE pk_t_a PARTITION OF pk_t FOR VALUES IN ('a')",
                "CREATE TABLE pk_t_def PARTITION OF pk_t DEFAULT",
                "CREATE TABLE pe_t (id int, o text, n text) PARTITION BY RANGE (id)",
                "CREATE TABLE pe_t1 PARTITION OF pe_t FOR VALUES FROM (0) TO (10) "
                "PARTITION BY LIST (lower(o))",
                "CREATE TABLE pe_t1_a PARTITION OF pe_t1 FOR VALUES IN ('a')"):
            self.pg.query(sql)

        def rename(name, table, old, new):
            return {"name": name, "table": f"public.{table}", "old_column": old,
                    "new_column": new, "writes": "new", "reads": "new"}

        migrations = [rename("fk", "fk_child", "a_id", "a_ref"),
                      rename("code", "fk_parent", "code", "code2"),
                      rename("pk", "pk_t", "o", "n"), rename("pe", "pe_t", "o", "n")]
        config = self.write_config(migrations, "keys.toml")
        said = {
            "fk": "foreign key fk_child_a_id_fkey on fk_child over a_id has no counterpart over "
                  'a_ref: under writes = "new" rows leave a_id out, and the server checks no '
                  "reference of theirs now",
            "code": "foreign key fk_ref_code_fkey on fk_ref over code has no counterpart over "
                    "code2",
            "pk": 'pk_t is partitioned by o: under writes = "new" rows leave o out, so the server '
                  "routes them by NULL",
            "pe": "pe_t1 is partitioned by o",
        }
        for name, words in said.items():
            status = self.command(config, "status", "--migration", name)
            self.assertEqual(status.code, 1, str(status))
            self.assertIn("depends:  " + words, status.out)
        self.assertIn('a partition key column cannot be migrated with writes = "new" (nor '
                      'dropped): keep writes = "both"', status.out)
        self.assertIn("recreate it on a_ref: ADD FOREIGN KEY ... NOT VALID, then VALIDATE "
                      "CONSTRAINT", self.command(config, "status", "--migration", "fk").out)
        served = AdminProxy(self.pg, migrations=migrations)
        self._test_proxies.append(served)
        self.addCleanup(served.close)
        served.start()
        messages = {w["migration"]: w["message"] for w in served.config_page()["warnings"]}
        for name, words in said.items():
            self.assertIn(words, messages.get(name, ""))

        # The foreign keys recreated on the new columns are their counterparts.
        self.pg.query("ALTER TABLE fk_child ADD FOREIGN KEY (a_ref) REFERENCES fk_parent(id) "
                      "NOT VALID")
        self.pg.query("ALTER TABLE fk_child VALIDATE CONSTRAINT fk_child_a_ref_fkey")
        self.pg.query("ALTER TABLE fk_ref ADD FOREIGN KEY (code) REFERENCES fk_parent(code2)")
        for name in ("fk", "code"):
            status = self.command(config, "status", "--migration", name)
            self.assertNotIn("depends:", status.out)

    def test_an_updatable_view_that_shows_the_old_column_is_named_while_both_are_written(self):
        # A write through such a view names the view, not the table: not rewritten, it sets the
        # old column alone. The proxy names the view when it loads writes = "both"; a view that
        # only filters on the old column, or cannot be written through, is not named.
        self.make_table("wv_t", 10)
        self.pg.query("CREATE VIEW wv_shows AS SELECT id, status AS s FROM wv_t")
        self.pg.query("CREATE VIEW wv_filters AS SELECT id, other FROM wv_t "
                      "WHERE status = 'active'")
        self.pg.query("CREATE VIEW wv_counts AS SELECT status, count(*) FROM wv_t "
                      "GROUP BY status")
        self.addCleanup(self.pg.query, "DROP VIEW IF EXISTS wv_shows, wv_filters, wv_counts")
        app_proxy = self.start_app_proxy([type_change("wv", "wv_t")])
        config = app_proxy.config_path
        warning = ("An INSERT or UPDATE through view wv_shows that sets status is not rewritten "
                   "(it names the view, not the table): it sets status alone, and state drifts "
                   "for those rows")
        self.assertEqual(app_proxy.log_text().count("event=migration_warning"), 1,
                         app_proxy.log_tail())
        self.assertIn(warning, app_proxy.log_text())
        check = self.command(config, "check")
        self.assertEqual(check.code, 0, str(check))
        self.assertIn(f'warning: migration "wv": {warning}', check.out)
        self.assertNotIn("wv_filters", check.out)
        self.assertNotIn("wv_counts", check.out)
        self.assertEqual(self.command(config, "backfill", "--migration", "wv").code, 0)

        # What it warns of, through the proxy: the write through the table fills both columns,
        # the one through the view the old column alone, and verify counts that row.
        with self.through(app_proxy) as conn:
            conn.execute("UPDATE wv_t SET status = 'inactive' WHERE id = 2")
            conn.execute("UPDATE wv_shows SET s = 'inactive' WHERE id = 4")
        self.assertEqual(self.pg.query("SELECT id, status, state FROM wv_t WHERE id IN (2, 4) "
                                       "ORDER BY id"),
                         [(2, "inactive", 0), (4, "inactive", 1)])
        run = self.command(config, "verify", "--migration", "wv")
        self.assertEqual(run.code, 1, str(run))
        self.assertIn("1 disagree", run.out)
        status = self.command(config, "status", "--migration", "wv")
        self.assertIn(warning, status.out)

        # A view recreated without the old column is no longer named.
        self.pg.query("DROP VIEW wv_shows")
        self.pg.query("CREATE VIEW wv_shows AS SELECT id, other FROM wv_t")
        app_proxy.reload(migrations=[type_change("wv", "wv_t", reads="new")])
        self.assertEqual(app_proxy.log_text().count("event=migration_warning"), 1,
                         app_proxy.log_tail())
        self.assertNotIn("warning", self.command(config, "check").out)

    def test_rollback_from_writes_new_backfills_the_old_column_and_never_the_new(self):
        # Steps 3-6 done; under writes = "new" the app changes rows the old column no longer
        # follows. Backfilling the new column from the old now would erase those changes.
        self.make_table("rb_t", 50)
        # A value to_new does not map: the new column holds NULL for it, and the old column is
        # its only copy. The way back must not overwrite it with to_old(NULL).
        self.pg.query("INSERT INTO rb_t (id, status) VALUES (1000, 'pending')")
        both_new = [type_change("rb", "rb_t", reads="new")]
        config = self.write_config(both_new, "rb-both.toml")
        run = self.command(config, "backfill", "--migration", "rb")
        self.assertEqual(run.code, 1, str(run))
        self.assertIn("say which column to fill", run.err)
        self.assertEqual(self.command(config, "backfill", "--migration", "rb", "--direction",
                                      "to-new").code, 0)
        app_proxy = self.start_app_proxy([type_change("rb", "rb_t", writes="new", reads="new")])
        with self.through(app_proxy) as conn:
            conn.execute("UPDATE rb_t SET status = 'inactive' WHERE id <= 10")
        written = self.pg.query("SELECT id, status, state FROM rb_t WHERE id <= 10 ORDER BY id")
        self.assertEqual({r[2] for r in written}, {0})
        self.assertIn("active", {r[1] for r in written}, "the old column went stale, as it should")

        for args in ((), ("--direction", "to-new"), ("--direction", "to-old"), ("--restart",)):
            run = self.command(app_proxy.config_path, "backfill", "--migration", "rb", *args)
            self.assertEqual(run.code, 1, str(run))
            self.assertIn('writes = "new"', run.err)
        self.assertEqual(self.pg.query("SELECT id, status, state FROM rb_t WHERE id <= 10 "
                                       "ORDER BY id"), written, "a refused backfill wrote")

        # The rollback: writes = "both" again (reads still "new"), then backfill fills the old
        # column from the new one, verify agrees, and reads = "old" serves the app's writes.
        # Status never sends reads back to the stale old column before that.
        run = self.command(config, "verify", "--migration", "rb")
        self.assertEqual(run.code, 1, str(run))
        status = self.command(config, "status", "--migration", "rb")
        self.assertEqual(status.code, 1, str(status))
        self.assertIn('writes = "new" was in force since the old column was last made current: '
                      'keep reads = "new", run switchyard backfill --direction to-old', status.out)
        self.assertNotIn('Set reads = "old"', status.out)
        run = self.command(config, "backfill", "--migration", "rb", "--progress", "log",
                           "--direction", "to-old")
        self.assertEqual(run.code, 0, str(run))
        self.assertIn("fills=status", run.err)
        self.assertEqual(self.pg.query("SELECT DISTINCT status, state FROM rb_t WHERE id <= 10"),
                         [("inactive", 0)])
        self.assertEqual(self.one("SELECT count(*) FROM rb_t WHERE state IS DISTINCT FROM "
                                  f"({SQL_TO_NEW})"), 0)
        self.assertEqual(self.pg.query("SELECT status, state FROM rb_t WHERE id = 1000"),
                         [("pending", None)])
        run = self.command(config, "verify", "--migration", "rb")
        self.assertIn("1 disagree (direction both: to-new 0, to-old 1)", run.out)
        self.pg.query("DELETE FROM rb_t WHERE id = 1000")
        self.assertEqual(self.command(config, "verify", "--migration", "rb").code, 0)
        status = self.command(config, "status", "--migration", "rb")
        self.assertEqual(status.code, 0, str(status))
        self.assertIn('reads = "old" is safe now', status.out)

    def test_a_json_column_without_equality_is_compared_by_its_text(self):
        self.pg.query("DROP TABLE IF EXISTS json_t")
        self.pg.query("CREATE TABLE json_t (id int PRIMARY KEY, body text)")
        self.pg.query("INSERT INTO json_t SELECT g, '{\"n\":' || g || '}' "
                      "FROM generate_series(1, 300) g")
        self.pg.query("ALTER TABLE json_t ADD COLUMN doc json")
        config = self.write_config([{
            "name": "json", "table": "public.json_t", "old_column": "body",
            "new_column": "doc", "writes": "both", "reads": "old",
            "to_new": "{value}::json", "to_old": "{value}::text"}])
        run = self.command(config, "backfill", "--migration", "json")
        self.assertEqual(run.code, 0, str(run))
        self.assertEqual(self.one("SELECT count(*) FROM json_t WHERE doc::text = body"), 300)
        self.assertEqual(self.command(config, "verify", "--migration", "json").code, 0)
        self.pg.query("UPDATE json_t SET doc = '{\"n\": 7}' WHERE id = 7")
        run = self.command(config, "verify", "--migration", "json")
        self.assertEqual(run.code, 1, str(run))
        self.assertIn("300 rows checked, 1 disagree", run.out)
        self.assertIn("id=7:", run.out)

    def test_a_json_array_column_is_compared_by_its_text(self):
        # An array's equality is found when planned and fails when run if its element has none:
        # verify blamed the transform on the first row.
        self.pg.query("DROP TABLE IF EXISTS jsons_t")
        self.pg.query("CREATE TABLE jsons_t (id int PRIMARY KEY, docs json[], docs_v2 json[])")
        self.pg.query("""INSERT INTO jsons_t VALUES (1, ARRAY['{"a": 1}']::json[], NULL), """
                      """(2, ARRAY['{"a": 2}']::json[], NULL)""")
        config = self.write_config([{
            "name": "docs", "table": "public.jsons_t", "old_column": "docs",
            "new_column": "docs_v2", "writes": "both", "reads": "old"}])
        run = self.command(config, "backfill", "--migration", "docs")
        self.assertEqual(run.code, 0, str(run))
        self.assertEqual(self.command(config, "verify", "--migration", "docs").code, 0)
        self.pg.query("""UPDATE jsons_t SET docs_v2 = ARRAY['{"a": 3}']::json[] WHERE id = 2""")
        run = self.command(config, "verify", "--migration", "docs")
        self.assertEqual(run.code, 1, str(run))
        self.assertIn("2 rows checked, 1 disagree", run.out)
        self.assertIn("id=2:", run.out)

    def test_columns_of_different_collations_are_filled_and_compared(self):
        # Two columns of different non-default collations have no collation in common: a bare
        # comparison of them fails ("could not determine which collation to use").
        self.pg.query("DROP TABLE IF EXISTS coll_t")
        self.pg.query('CREATE TABLE coll_t (id int PRIMARY KEY, word text COLLATE "C", '
                      'word_icu text COLLATE "und-x-icu")')
        self.pg.query("INSERT INTO coll_t SELECT g, CASE WHEN g % 2 = 0 THEN 'Apple' "
                      "ELSE 'apple' END || g FROM generate_series(1, 300) g")
        config = self.write_config([{
            "name": "coll", "table": "public.coll_t", "old_column": "word",
            "new_column": "word_icu", "writes": "both", "reads": "old"}])
        run = self.command(config, "backfill", "--migration", "coll")
        self.assertEqual(run.code, 0, str(run))
        self.assertEqual(self.one("SELECT count(*) FROM coll_t WHERE word_icu = word COLLATE "
                                  '"C"'), 300)
        run = self.command(config, "verify", "--migration", "coll")
        self.assertEqual(run.code, 0, str(run))
        self.assertIn("300 rows checked, 0 disagree", run.out)
        self.pg.query("UPDATE coll_t SET word_icu = upper(word_icu) WHERE id = 8")
        run = self.command(config, "verify", "--migration", "coll")
        self.assertEqual(run.code, 1, str(run))
        self.assertIn("300 rows checked, 1 disagree", run.out)
        self.assertIn("id=8:", run.out)

    def test_values_equal_under_a_loose_equality_but_different_to_readers_disagree(self):
        # A nondeterministic collation, citext, interval, float8 and jsonb call these pairs
        # equal, but an app reading the new column sees the other value: verify said "agree".
        self.pg.query("DROP TABLE IF EXISTS loose_t")
        self.pg.query("CREATE EXTENSION IF NOT EXISTS citext")
        self.pg.query("CREATE COLLATION IF NOT EXISTS ci_t (provider = icu, "
                      "locale = 'und-u-ks-level2', deterministic = false)")
        cases = [("w", "text COLLATE ci_t", "'ABC'", "'abc'"),
                 ("c", "citext", "'ABC'", "'abc'"),
                 ("i", "interval", "'1 mon'", "'30 days'"),
                 ("f", "float8", "'-0'", "'0'"),
                 ("j", "jsonb", """'{"a": 1.0}'""", """'{"a": 1}'""")]
        self.pg.query("CREATE TABLE loose_t (id int PRIMARY KEY, " +
                      ", ".join(f"{c}_old {t}, {c}_new {t}" for c, t, _, _ in cases) + ")")
        # Row 1 holds the same value in both columns, row 2 the two that only look equal.
        self.pg.query("INSERT INTO loose_t VALUES (1, " +
                      ", ".join(f"{a}, {a}" for _, _, a, _ in cases) + "), (2, " +
                      ", ".join(f"{a}, {b}" for _, _, a, b in cases) + ")")
        config = self.write_config([{
            "name": c, "table": "public.loose_t", "old_column": f"{c}_old",
            "new_column": f"{c}_new", "writes": "both", "reads": "old"} for c, _, _, _ in cases])
        for c, _, _, _ in cases:
            with self.subTest(column=c):
                run = self.command(config, "verify", "--migration", c)
                self.assertEqual(run.code, 1, str(run))
                self.assertIn("2 rows checked, 1 disagree", run.out)
                self.assertIn("id=2:", run.out)
                # Backfill makes them the same value, and then verify agrees.
                self.assertEqual(self.command(config, "backfill", "--migration", c).code, 0)
                self.assertEqual(self.command(config, "verify", "--migration", c).code, 0)
        self.assertEqual(self.pg.query("SELECT c_new::text, i_new::text, f_new::text, "
                                       "j_new::text FROM loose_t WHERE id = 2"),
                         [("ABC", "1 mon", "-0", '{"a": 1.0}')])

    def test_a_timestamp_to_timestamptz_change_without_a_zone_is_warned_about(self):
        # Converted in each session's TimeZone: an app in New York and verify in UTC disagree
        # on every row, and agree again once backfill has converted them in UTC.
        self.pg.query("DROP TABLE IF EXISTS tz_t")
        self.pg.query("CREATE TABLE tz_t (id int PRIMARY KEY, at timestamp, at_tz timestamptz)")
        plain = {"name": "tz", "table": "public.tz_t", "old_column": "at", "new_column": "at_tz",
                 "writes": "both", "reads": "old"}
        app_proxy = self.start_app_proxy([plain])
        self.assertEqual(app_proxy.log_text().count("event=migration_warning"), 1,
                         app_proxy.log_tail())
        self.assertIn("convert in each session's TimeZone", app_proxy.log_text())
        self.assertIn("AT TIME ZONE 'UTC'", app_proxy.log_text())
        with self.through(app_proxy) as conn:
            conn.execute("SET TimeZone = 'America/New_York'")
            conn.execute("INSERT INTO tz_t (id, at) VALUES (1, '2024-01-01 10:00')")
        self.assertEqual(self.command(app_proxy.config_path, "verify", "--migration", "tz").code,
                         1)
        # Named, the warning goes and every session converts alike.
        zoned = dict(plain, to_new="{value} AT TIME ZONE 'UTC'",
                     to_old="{value} AT TIME ZONE 'UTC'")
        app_proxy = self.start_app_proxy([zoned])
        self.assertNotIn("event=migration_warning", app_proxy.log_text())
        with self.through(app_proxy) as conn:
            conn.execute("SET TimeZone = 'America/New_York'")
            conn.execute("INSERT INTO tz_t (id, at) VALUES (2, '2024-01-01 10:00')")
        self.assertEqual(self.one("SELECT at_tz = '2024-01-01 10:00Z' FROM tz_t WHERE id = 2"),
                         True)

    def test_transforms_an_apps_session_may_run_otherwise_are_warned_about(self):
        # A date read from text under DateStyle, a function another schema also holds (found
        # by the server's own resolution), and a date made timestamptz with the advice for it.
        self.pg.query("DROP TABLE IF EXISTS style_t, names_t, day_t")
        self.pg.query("DROP SCHEMA IF EXISTS tenant CASCADE")
        self.pg.query("CREATE TABLE style_t (id int PRIMARY KEY, o text, n date)")
        self.pg.query("CREATE TABLE names_t (id int PRIMARY KEY, o text, n text)")
        self.pg.query("CREATE TABLE day_t (id int PRIMARY KEY, o date, n timestamptz)")
        self.pg.query("CREATE OR REPLACE FUNCTION public.norm(text) RETURNS text LANGUAGE sql "
                      "IMMUTABLE AS $$ SELECT upper($1) $$")
        self.pg.query("CREATE SCHEMA tenant")
        self.pg.query("CREATE FUNCTION tenant.norm(text) RETURNS text LANGUAGE sql IMMUTABLE "
                      "AS $$ SELECT 'T:' || $1 $$")
        base = {"old_column": "o", "new_column": "n", "writes": "both", "reads": "old"}
        app_proxy = self.start_app_proxy([
            dict(base, name="style", table="public.style_t", to_new="{value}::date",
                 to_old="to_char({value}, 'MM/DD/YYYY')"),
            dict(base, name="names", table="public.names_t", to_new="norm({value})",
                 to_old="lower({value})"),
            dict(base, name="day", table="public.day_t")])
        log = app_proxy.log_text()
        self.assertIn("to_new from text to date depends on the session's DateStyle", log)
        self.assertIn("to_date({value}, 'YYYY-MM-DD')", log)
        self.assertIn("to_new names the function norm without its schema (2 schemas hold one)",
                      log)
        self.assertIn("write public.norm in the transform", log)
        self.assertIn("({value})::timestamp AT TIME ZONE 'UTC'", log)
        # Qualified, the names warning goes; the advised date transforms convert alike in
        # every zone.
        app_proxy = self.start_app_proxy([
            dict(base, name="names", table="public.names_t", to_new="public.norm({value})",
                 to_old="lower({value})"),
            dict(base, name="day", table="public.day_t",
                 to_new="({value})::timestamp AT TIME ZONE 'UTC'",
                 to_old="({value} AT TIME ZONE 'UTC')::date")])
        self.assertNotIn("event=migration_warning", app_proxy.log_text())
        with self.through(app_proxy) as conn:
            conn.execute("SET TimeZone = 'Asia/Tokyo'")
            conn.execute("INSERT INTO day_t (id, o) VALUES (1, '2024-06-01')")
        self.assertEqual(self.one("SELECT n = '2024-06-01 00:00Z' FROM day_t WHERE id = 1"),
                         True)

    def test_status_names_a_not_null_new_column_and_defaults_agreeing_in_one_zone(self):
        self.pg.query("DROP TABLE IF EXISTS nn_t, zone_t")
        self.pg.query("CREATE TABLE nn_t (id int PRIMARY KEY, o int, n int NOT NULL DEFAULT 0)")
        self.pg.query("CREATE TABLE zone_t (id int PRIMARY KEY, o timestamp DEFAULT "
                      "LOCALTIMESTAMP, n timestamptz DEFAULT now())")
        base = {"old_column": "o", "new_column": "n", "writes": "both", "reads": "old"}
        utc = "{value} AT TIME ZONE 'UTC'"
        config = self.write_config([
            dict(base, name="nn", table="public.nn_t"),
            dict(base, name="zone", table="public.zone_t", to_new=utc, to_old=utc)])
        status = self.command(config, "status", "--migration", "nn")
        self.assertIn("n is NOT NULL and o is not: a write of NULL to o", status.out, str(status))
        self.assertIn('ALTER COLUMN "n" DROP NOT NULL, ALTER COLUMN "n" DROP DEFAULT', status.out)
        status = self.command(config, "status", "--migration", "zone")
        self.assertIn("They agree under TimeZone 'UTC', not under 'Asia/Tokyo'", status.out,
                      str(status))
        self.assertNotIn("they agree.", status.out)

    def test_a_row_never_filled_is_filled_where_to_old_maps_null_to_its_old_value(self):
        # to_old gives 'inactive' for NULL, so (inactive, NULL) agreed "to old" and the
        # both-ways rule skipped it on every run, while verify counted it (to-new) forever.
        self.pg.query("DROP TABLE IF EXISTS else_t")
        self.pg.query("CREATE TABLE else_t (id int PRIMARY KEY, status text, state int)")
        self.pg.query("INSERT INTO else_t VALUES (1, 'active', NULL), (2, 'inactive', NULL)")
        config = self.write_config([{
            "name": "else", "table": "public.else_t", "old_column": "status",
            "new_column": "state", "writes": "both", "reads": "old",
            "to_new": "CASE {value} WHEN 'active' THEN 1 WHEN 'inactive' THEN 0 END",
            "to_old": "CASE {value} WHEN 1 THEN 'active' ELSE 'inactive' END"}])
        run = self.command(config, "backfill", "--migration", "else")
        self.assertEqual(run.code, 0, str(run))
        self.assertEqual(self.pg.query("SELECT id, state FROM else_t ORDER BY id"),
                         [(1, 1), (2, 0)])
        self.assertEqual(self.command(config, "verify", "--migration", "else").code, 0)

    def test_backfill_keeps_a_value_an_updated_app_wrote_to_the_new_column(self):
        # Under writes = "both" an updated app writes state = 2; to_old has no value for it, so
        # the proxy stores status = NULL beside it. That pair is current: status is what the
        # proxy derived from state. Filling state from status would erase the app's write.
        self.make_table("upd_t", 20)
        app_proxy = self.start_app_proxy([type_change("upd", "upd_t")])
        with self.through(app_proxy) as conn:
            conn.execute("UPDATE upd_t SET state = 2 WHERE id = 5")
        self.assertEqual(self.pg.query("SELECT status, state FROM upd_t WHERE id = 5"),
                         [(None, 2)])
        run = self.command(app_proxy.config_path, "backfill", "--migration", "upd",
                           "--progress", "log")
        self.assertEqual(run.code, 0, str(run))
        self.assertIn("rows_updated=19", run.err)
        self.assertEqual(self.pg.query("SELECT status, state FROM upd_t WHERE id = 5"),
                         [(None, 2)])
        self.assertEqual(self.one("SELECT count(*) FROM upd_t WHERE id <> 5 AND state IS "
                                  f"DISTINCT FROM ({SQL_TO_NEW})"), 0)

    def test_step_8_the_proxy_loads_and_writes_once_the_old_column_is_dropped(self):
        # The load-time checks use the old column as a stand-in for its type; once it is
        # dropped they must step aside, not refuse the config.
        self.make_table("gone_t", 10)
        self.pg.query(f"UPDATE gone_t SET state = {SQL_TO_NEW}")
        self.pg.query("ALTER TABLE gone_t DROP COLUMN status")
        app_proxy = self.start_app_proxy([type_change("gone", "gone_t", writes="new",
                                                      reads="new")])
        with self.through(app_proxy) as conn:
            conn.execute("INSERT INTO gone_t (id, status) VALUES (100, 'inactive')")
            read = conn.execute("SELECT status FROM gone_t WHERE id = 100").fetchall()
        self.assertEqual(read, [("inactive",)])
        self.assertEqual(self.pg.query("SELECT state FROM gone_t WHERE id = 100"), [(0,)])
        self.assertNotIn("event=migration_warning", app_proxy.log_text())
        status = self.command(app_proxy.config_path, "status", "--migration", "gone")
        self.assertEqual(status.code, 0, str(status))
        self.assertIn("step 8:", status.out)
        # Step 8 itself: removing the migration is the runbook's end, not a lost save.
        app_proxy.reload([])
        # Logged after the reload's own line, which is all reload() waits for.
        app_proxy.wait_for_log("event=migration_removed", 10)
        self.assertIn("step 8 is complete", app_proxy.log_text())
        self.assertNotIn("event=active_migration_removed", app_proxy.log_text())

    def test_text_keys_in_samples_are_quoted_so_no_line_passes_for_another_row(self):
        self.pg.query("DROP TABLE IF EXISTS tk_t")
        self.pg.query("CREATE TABLE tk_t (k text PRIMARY KEY, status text, state text)")
        self.pg.query("INSERT INTO tk_t VALUES (E'line1\\nline2 k=x: status=''1', '1', '2'),"
                      " ('a b', '1', '1'), ('plain', '1', '3')")
        config = self.write_config([rename("tk", "tk_t")], name="tk.toml")
        run = self.command(config, "verify", "--migration", "tk")
        self.assertEqual(run.code, 1, str(run))
        self.assertIn("k=E'line1\\nline2 k=x: status=\\'1': status='1' state='2'", run.out)
        self.assertIn("k=plain: status='1' state='3'", run.out)
        self.assertEqual(len([line for line in run.out.splitlines() if "state=" in line]), 2)
        status = self.command(config, "status", "--migration", "tk")
        self.assertIn("e.g. k=E'line1\\nline2", status.out)

    def test_composite_key_walk_and_corruption(self):
        self.pg.query("DROP TABLE IF EXISTS comp_t")
        self.pg.query("CREATE TABLE comp_t (region text, id int, status text, "
                      "PRIMARY KEY (region, id))")
        self.pg.query("INSERT INTO comp_t SELECT r, g, 'v' || g FROM unnest(ARRAY['eu', 'us', "
                      "'ap']) r, generate_series(1, 3000) g")
        self.pg.query("ALTER TABLE comp_t ADD COLUMN state text")
        config = self.write_config([rename("comp", "comp_t")])
        run = self.command(config, "backfill", "--migration", "comp", "--batch-size", "250")
        self.assertEqual(run.code, 0, str(run))
        self.assertEqual(self.one("SELECT count(*) FROM comp_t WHERE state IS DISTINCT FROM "
                                  "status"), 0)
        self.assertEqual(self.progress("comp")[0], 9000)
        self.pg.query("UPDATE comp_t SET state = 'x' WHERE region = 'eu' AND id = 7")
        run = self.command(config, "verify", "--migration", "comp", "--chunk-size", "500")
        self.assertEqual(run.code, 1, str(run))
        self.assertIn("region=eu, id=7: status='v7' state='x'", run.out)

    def test_transform_failing_on_a_row_names_the_key(self):
        self.make_table("bad_t", 10_000, status_sql="g::text", state_type="integer")
        self.pg.query("UPDATE bad_t SET status = 'oops' WHERE id = 7777")
        config = self.write_config([{
            "name": "bad", "table": "public.bad_t", "old_column": "status",
            "new_column": "state", "writes": "both", "to_new": "CAST({value} AS integer)",
            "to_old": "CAST({value} AS text)"}])
        run = self.command(config, "backfill", "--migration", "bad", "--batch-size", "1000")
        self.assertEqual(run.code, 1, str(run))
        self.assertIn("row id=7777", run.err)
        self.assertIn('invalid input syntax for type integer: "oops"', run.err)
        self.assertIn("22P02", run.err)
        # The batches before the bad row are committed and recorded; nothing after it.
        self.assertEqual(self.progress("bad")[3], "failed")
        self.assertEqual(self.one("SELECT max(id) FROM bad_t WHERE state IS NOT NULL"), 7000)
        run = self.command(config, "verify", "--migration", "bad")
        self.assertEqual(run.code, 1, str(run))
        self.assertIn("row id=7777", run.err)
        dry = self.command(config, "backfill", "--migration", "bad", "--dry-run")
        self.assertEqual(dry.code, 1, str(dry))
        self.assertIn("row id=7777", dry.err)
        status = self.command(config, "status", "--migration", "bad")
        self.assertEqual(status.code, 1, str(status))
        self.assertIn("backfill: failed", status.out)
        self.assertIn("id=7777", status.out)

        # Fixed row: the rerun resumes after the last committed batch and finishes.
        self.pg.query("UPDATE bad_t SET status = '7777' WHERE id = 7777")
        run = self.command(config, "backfill", "--migration", "bad", "--progress", "log")
        self.assertEqual(run.code, 0, str(run))
        self.assertIn('after_key="id=7000"', run.err)
        self.assertEqual(self.one("SELECT count(*) FROM bad_t WHERE state IS DISTINCT FROM "
                                  "status::int"), 0)


class FlagsAndDirectionsTest(BackfillCase):
    """The backfill needs dual writes; one-way disagreement is the transforms' (hunt h3-1/2)."""

    def drift(self, table):
        return self.one(f"SELECT count(*) FROM {table} WHERE state IS DISTINCT FROM "
                        f"({SQL_TO_NEW})")

    def test_backfill_refuses_writes_old_and_a_verify_under_it_is_not_counted(self):
        self.make_table("wo_t", 900)
        old = self.write_config([type_change("wo", "wo_t", writes="old")], name="wo.toml")
        refused = self.command(old, "backfill", "--migration", "wo", "--restart")
        self.assertEqual(refused.code, 1, str(refused))
        self.assertIn('writes = "old"', refused.err)
        self.assertIn('Set writes = "both", reload every instance', refused.err)
        self.assertEqual(self.one("SELECT count(state) FROM wo_t"), 0)
        self.assertIsNone(self.progress("wo"))
        self.assertIn("step 2:", self.command(old, "status").out)

        # Backfilled under dual writes, then writes went back to "old" for a while: a verify
        # then agrees, and the app's writes of the old column alone make it untrue.
        both = self.write_config([type_change("wo", "wo_t")], name="wo.toml")
        self.assertEqual(self.command(both, "backfill", "--migration", "wo").code, 0)
        old = self.write_config([type_change("wo", "wo_t", writes="old")], name="wo.toml")
        verified = self.command(old, "verify", "--migration", "wo")
        self.assertEqual(verified.code, 0, str(verified))
        self.assertIn('note: writes = "old"', verified.out)
        self.pg.query("UPDATE wo_t SET status = 'inactive' WHERE id IN (2, 4, 6)")
        self.assertEqual(self.drift("wo_t"), 3)
        both = self.write_config([type_change("wo", "wo_t")], name="wo.toml")
        status = self.command(both, "status")
        self.assertEqual(status.code, 0, str(status))
        self.assertIn('[under writes = "old"', status.out)
        self.assertIn("step 4: switchyard verify", status.out)
        self.assertNotIn("step 5:", status.out)
        self.assertEqual(self.command(both, "verify", "--migration", "wo").code, 1)
        status = self.command(both, "status")
        self.assertEqual(status.code, 1, str(status))
        self.assertIn("backfill --restart", status.out)
        self.assertEqual(self.command(both, "backfill", "--migration", "wo", "--restart").code, 0)
        self.assertEqual(self.drift("wo_t"), 0)
        self.assertEqual(self.command(both, "verify", "--migration", "wo").code, 0)
        self.assertIn("step 5:", self.command(both, "status").out)

    def test_a_transaction_begun_before_the_flip_is_named_before_the_backfill_starts(self):
        # Hunt h3-3: a session keeps the flags its transaction began under (writes = "old"), so
        # what it writes to the old column after the backfill passed its row stays behind.
        self.make_table("ot_t", 50)
        app_proxy = self.start_app_proxy([type_change("ot", "ot_t", writes="old")])
        held = psycopg.connect(self.pg.conninfo(host=app_proxy.host, port=app_proxy.port,
                                                sslmode="disable", application_name="held-app"))
        self.addCleanup(held.close)
        held.execute("SELECT 1")  # psycopg's implicit BEGIN, under writes = "old"
        time.sleep(0.05)
        app_proxy.reload([type_change("ot", "ot_t")])
        run = self.command(app_proxy.config_path, "backfill", "--migration", "ot")
        self.assertEqual(run.code, 0, str(run))  # a warning, not a refusal
        output = run.out + run.err
        self.assertIn("event=backfill_old_transactions", output)
        self.assertRegex(output, r'pid \d+ \(application_name \\?"held-app\\?", \d+ s\)')
        self.assertIn("verify", output)
        held.execute("UPDATE ot_t SET status = 'inactive' WHERE id = 2")
        held.commit()
        self.assertEqual(self.drift("ot_t"), 1)  # what the warning was about
        self.assertEqual(self.command(app_proxy.config_path, "verify", "--migration", "ot").code,
                         1)
        # Once no transaction is older than the file, the backfill says nothing of the kind.
        run = self.command(app_proxy.config_path, "backfill", "--migration", "ot", "--restart")
        self.assertEqual(run.code, 0, str(run))
        self.assertNotIn("backfill_old_transactions", run.out + run.err)
        self.assertEqual(self.drift("ot_t"), 0)

    def test_the_proxy_is_asked_when_the_file_keeps_an_older_mtime(self):
        # Hunt h5-7: a file deployed with its mtime kept (cp -p, rsync -t, tar) looks saved
        # before the held transaction began; the proxy's [admin] endpoint counts it exactly.
        self.make_table("om_t", 20)
        app_proxy = AdminProxy(self.pg, migrations=[type_change("om", "om_t", writes="old")])
        self._test_proxies.append(app_proxy)
        self.addCleanup(app_proxy.close)
        app_proxy.start()
        held = psycopg.connect(self.pg.conninfo(host=app_proxy.host, port=app_proxy.port,
                                                sslmode="disable", application_name="held-app"))
        self.addCleanup(held.close)
        held.execute("SELECT 1")  # psycopg's implicit BEGIN, under writes = "old"
        generation = app_proxy.generation()
        app_proxy.migrations[0]["writes"] = "both"
        app_proxy.write_config()
        app_proxy.wait_for_generation(generation + 1)
        os.utime(app_proxy.config_path, (time.time() - 3600, time.time() - 3600))
        # The dry run rehearses the run: the same warning, nothing written.
        dry = self.command(app_proxy.config_path, "backfill", "--migration", "om", "--dry-run")
        self.assertEqual(dry.code, 0, str(dry))
        self.assertIn("event=backfill_old_transactions", dry.out + dry.err)
        self.assertIn("sessions_on_old_generation=1", dry.out + dry.err)
        self.assertEqual(self.drift("om_t"), 20)
        run = self.command(app_proxy.config_path, "backfill", "--migration", "om")
        self.assertEqual(run.code, 0, str(run))
        output = run.out + run.err
        self.assertIn("event=backfill_old_transactions", output)
        self.assertIn("sessions_on_old_generation=1", output)
        held.execute("UPDATE om_t SET status = 'inactive' WHERE id = 2")
        held.commit()
        self.assertEqual(self.drift("om_t"), 1)  # what the warning was about
        # The proxy answers 0 now: no warning, whatever the file's mtime.
        run = self.command(app_proxy.config_path, "backfill", "--migration", "om", "--restart")
        self.assertEqual(run.code, 0, str(run))
        self.assertNotIn("backfill_old_transactions", run.out + run.err)
        self.assertEqual(self.drift("om_t"), 0)

    def test_a_proxy_whose_last_reload_failed_is_named_before_the_backfill(self):
        # h16 #8: the file's transforms changed in a save the proxy refused; it still writes by
        # the old ones, so a backfill by the file's fills values no proxy writes.
        self.make_table("rf_t", 20)
        app_proxy = AdminProxy(self.pg, migrations=[type_change("rf", "rf_t")])
        self._test_proxies.append(app_proxy)
        self.addCleanup(app_proxy.close)
        app_proxy.start()
        run = self.command(app_proxy.config_path, "backfill", "--migration", "rf")
        self.assertEqual(run.code, 0, str(run))
        self.assertNotIn("backfill_proxy_config_differs", run.out + run.err)
        text = app_proxy.config_text().replace("THEN 1", "THEN 2").replace("WHEN 1", "WHEN 2")
        text = text.replace(f"{app_proxy.host}:{app_proxy.port}", f"127.0.0.1:{self.pg.port}")
        app_proxy.write_config(text)
        wait_until(lambda: app_proxy.config_page()["last_reload"]["result"] == "failed", 15,
                   what="the reload to fail")
        run = self.command(app_proxy.config_path, "backfill", "--migration", "rf",
                           "--progress", "log")
        self.assertIn("event=backfill_proxy_config_differs", run.err, str(run))
        self.assertIn("last reload failed", run.err)

    def test_a_new_column_added_again_is_backfilled_again(self):
        self.make_table("ra_t", 300)
        config = self.write_config([type_change("ra", "ra_t")], name="ra.toml")
        self.assertEqual(self.command(config, "backfill", "--migration", "ra").code, 0)
        self.assertEqual(self.command(config, "verify", "--migration", "ra").code, 0)
        self.assertIn("step 5:", self.command(config, "status").out)
        # A DBA re-creates the new column: every value the backfill wrote is gone.
        self.pg.query("ALTER TABLE ra_t DROP COLUMN state")
        self.pg.query("ALTER TABLE ra_t ADD COLUMN state smallint")
        self.assertEqual(self.drift("ra_t"), 300)
        status = self.command(config, "status")
        self.assertIn("[for an older table/column/key/transform]", status.out)
        self.assertIn("step 3: switchyard backfill", status.out)
        reading_new = self.write_config([type_change("ra", "ra_t", reads="new")],
                                        name="ra-new.toml")
        status = self.command(reading_new, "status")
        self.assertEqual(status.code, 1, str(status))
        self.assertIn("no backfill has finished", status.out)
        run = self.command(config, "backfill", "--migration", "ra", "--progress", "log")
        self.assertEqual(run.code, 0, str(run))
        self.assertIn("event=backfill_restart", run.err)
        self.assertIn("rows_updated=300", run.err)
        self.assertEqual(self.drift("ra_t"), 0)
        self.assertEqual(self.command(config, "verify", "--migration", "ra").code, 0)
        self.assertIn("step 5:", self.command(config, "status").out)

    def test_a_flip_to_writes_new_during_the_backfill_stops_it_before_it_overwrites(self):
        self.make_table("fl_t", 20_000)
        app_proxy = self.start_app_proxy([type_change("fl", "fl_t")])
        proc, log = self.start_command(app_proxy.config_path, "backfill", "--migration", "fl",
                                       "--batch-size", "500", "--max-rate", "2000",
                                       "--progress", "log")

        def walked():
            return (self.progress("fl") or (0,))[0]

        wait_until(lambda: walked() >= 1000 or proc.poll() is not None, 30,
                   what="the backfill to pass 1000 rows")
        # Reads flipped: backfill warned about that at start, but it is no reason to stop.
        app_proxy.reload([type_change("fl", "fl_t", reads="new")])
        past = walked() + 1000
        wait_until(lambda: walked() >= past or proc.poll() is not None, 30,
                   what="the backfill to go on under reads = new")
        self.assertIsNone(proc.poll(), "the backfill stopped or finished under reads = new")
        app_proxy.reload([type_change("fl", "fl_t", writes="new", reads="new")])
        with self.through(app_proxy) as conn:
            conn.execute("UPDATE fl_t SET status = 'inactive' WHERE id = 19990")
        self.assertEqual(proc.wait(30), 1)
        with open(log) as f:
            output = f.read()
        self.assertIn("event=backfill_stopped", output)
        self.assertIn('writes = \\"new\\"', output)
        # The app's write under writes = "new" is in the new column alone, and stays there.
        self.assertEqual(self.pg.query("SELECT status, state FROM fl_t WHERE id = 19990"),
                         [("active", 0)])
        self.assertEqual(self.progress("fl")[3], "running")
        self.assertLess(walked(), 19990)

    def test_no_walk_fills_a_column_from_one_stale_since_writes_new(self):
        # h16 #5, #10, #9, #11: a to-new walk stopped by writes = "new", then a rollback that
        # set writes = "both" and reads = "old" in one save; later a second writes = "new" period.
        self.make_table("st_t", 4000)
        app_proxy = self.start_app_proxy([type_change("st", "st_t", reads="new")])
        config = app_proxy.config_path
        proc, _ = self.start_command(config, "backfill", "--migration", "st", "--direction",
                                     "to-new", "--batch-size", "200", "--max-rate", "1000",
                                     "--progress", "log")
        wait_until(lambda: (self.progress("st") or (0,))[0] >= 1000 or proc.poll() is not None,
                   30, what="the backfill to pass 1000 rows")
        app_proxy.reload([type_change("st", "st_t", writes="new", reads="new")])
        self.assertEqual(proc.wait(30), 1)
        stopped_at = self.progress("st")[0]
        self.assertLess(stopped_at, 3000)
        with self.through(app_proxy) as conn:
            conn.execute("UPDATE st_t SET status = 'inactive' WHERE id > 3000 AND id % 2 = 0")
        written = "SELECT count(*) FROM st_t WHERE id > 3000 AND id % 2 = 0 AND state = 0"
        self.assertEqual(self.one(written), 500)

        app_proxy.reload([type_change("st", "st_t")])  # writes "both" and reads "old" at once
        app_proxy.wait_for_log("event=stale_old_column_read", 10)  # taken, with a warning
        for args in ((), ("--restart",)):
            run = self.command(config, "backfill", "--migration", "st", *args)
            self.assertEqual(run.code, 1, str(run))
            self.assertIn("the old column is stale", run.err)
            self.assertIn("--direction to-old", run.err)
        run = self.command(config, "backfill", "--migration", "st", "--direction", "to-old")
        self.assertEqual(run.code, 1, str(run))
        self.assertIn('set reads = "new" and reload now', run.err)
        self.assertEqual(self.one(written), 500, "a refused backfill overwrote the app's writes")
        self.assertEqual(self.one("SELECT count(*) FROM st_t WHERE status IS NULL"), 0)
        status = self.command(config, "status", "--migration", "st")
        self.assertEqual(status.code, 1, str(status))
        self.assertIn('set reads = "new" and reload now', status.out)

        # The rollback by the book: reads = "new", then the old column filled from the new one.
        app_proxy.reload([type_change("st", "st_t", reads="new")])
        run = self.command(config, "backfill", "--migration", "st", "--direction", "to-old")
        self.assertEqual(run.code, 0, str(run))
        self.assertEqual(self.one(written), 500)
        self.assertEqual(self.one("SELECT count(*) FROM st_t WHERE id > 3000 AND id % 2 = 0 "
                                  "AND status = 'inactive'"), 500)
        # Rows the stopped walk never filled keep their only copy, in the old column.
        self.assertEqual(self.one("SELECT count(*) FROM st_t WHERE status IS NULL"), 0)
        unfilled = self.one("SELECT count(*) FROM st_t WHERE state IS NULL")
        self.assertGreater(unfilled, 0)
        run = self.command(config, "verify", "--migration", "st")
        self.assertEqual(run.code, 1, str(run))
        run = self.command(config, "backfill", "--migration", "st", "--direction", "to-new")
        self.assertEqual(run.code, 0, str(run))
        self.assertEqual(self.one("SELECT count(*) FROM st_t WHERE state IS NULL"), 0)
        self.assertEqual(self.one(written), 500)
        run = self.command(config, "backfill", "--migration", "st", "--direction", "to-old")
        self.assertEqual(run.code, 0, str(run))
        self.assertEqual(self.command(config, "verify", "--migration", "st").code, 0)
        status = self.command(config, "status", "--migration", "st")
        self.assertIn('reads = "old" is safe now', status.out)

        # A second writes = "new" period (status saw it): the first rollback counts no more.
        app_proxy.reload([type_change("st", "st_t", writes="new", reads="new")])
        run = self.command(config, "verify", "--migration", "st")
        self.assertIn("stale by design", run.out)
        status = self.command(config, "status", "--migration", "st")
        self.assertEqual(status.code, 0, str(status))
        self.assertIn("step 7", status.out)
        with self.through(app_proxy) as conn:
            conn.execute("UPDATE st_t SET status = 'active' WHERE id <= 100")
        app_proxy.reload([type_change("st", "st_t", reads="new")])
        status = self.command(config, "status", "--migration", "st")
        self.assertEqual(status.code, 1, str(status))
        self.assertNotIn('reads = "old" is safe now', status.out)
        self.assertIn("--direction to-old", status.out)
        run = self.command(config, "backfill", "--migration", "st", "--direction", "to-old",
                           "--progress", "log")
        self.assertEqual(run.code, 0, str(run))
        self.assertNotIn("already finished", run.out)
        self.assertEqual(self.one("SELECT count(*) FROM st_t WHERE id <= 100 AND "
                                  "(status, state) = ('active', 1)"), 100)
        self.assertEqual(self.command(config, "verify", "--migration", "st").code, 0)
        status = self.command(config, "status", "--migration", "st")
        self.assertEqual(status.code, 0, str(status))
        self.assertIn('reads = "old" is safe now', status.out)

    def test_sighup_stops_the_walk_at_a_batch_boundary_unless_ignored(self):
        self.make_table("hup_t", 20_000)
        config = self.write_config([type_change("hup", "hup_t")], name="hup.toml")
        args = ("backfill", "--migration", "hup", "--batch-size", "500", "--max-rate", "2000",
                "--progress", "log")

        def walked():
            return (self.progress("hup") or (0,))[0]

        # Under nohup SIGHUP is ignored, and stays so: the walk goes on.
        ignoring = subprocess.Popen([proxy.binary(), args[0], "--config", config, *args[1:]],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL,
                                    preexec_fn=lambda: signal.signal(signal.SIGHUP,
                                                                     signal.SIG_IGN))
        self.addCleanup(lambda: ignoring.poll() is None and (ignoring.kill(), ignoring.wait()))
        wait_until(lambda: walked() >= 1000 or ignoring.poll() is not None, 30,
                   what="the backfill to pass 1000 rows")
        ignoring.send_signal(signal.SIGHUP)
        past = walked() + 1000
        wait_until(lambda: walked() >= past or ignoring.poll() is not None, 30,
                   what="the backfill to go on after an ignored SIGHUP")
        self.assertIsNone(ignoring.poll())
        ignoring.send_signal(signal.SIGINT)
        self.assertEqual(ignoring.wait(30), 130)

        # An ssh session that drops: stopped between batches, with the hint, and resumable.
        proc, log = self.start_command(config, *args)
        past = walked() + 1000
        wait_until(lambda: walked() >= past or proc.poll() is not None, 30,
                   what="the resumed backfill to go on")
        proc.send_signal(signal.SIGHUP)
        self.assertEqual(proc.wait(30), 130)
        with open(log) as f:
            self.assertIn("event=backfill_interrupted", f.read())
        walked_so_far, updated, _, state, _ = self.progress("hup")
        self.assertEqual(state, "running")
        self.assertLess(walked_so_far, 20_000)
        self.assertEqual(self.one("SELECT count(state) FROM hup_t"), updated)

    def test_verify_runs_of_an_earlier_version_are_read_and_upgraded(self):
        self.make_table("ev_t", 50)
        config = self.write_config([type_change("ev", "ev_t")], name="ev.toml")
        self.assertEqual(self.command(config, "backfill", "--migration", "ev").code, 0)
        self.assertEqual(self.command(config, "verify", "--migration", "ev").code, 0)
        # The table as the first version created it; status creates nothing, so it must read it.
        self.pg.query("ALTER TABLE switchyard.verify_runs DROP COLUMN writes, "
                      "DROP COLUMN either_mismatches")
        status = self.command(config, "status", "--migration", "ev")
        self.assertEqual(status.code, 0, str(status))
        self.assertIn("step 5:", status.out)
        self.assertEqual(self.command(config, "verify", "--migration", "ev").code, 0)
        self.assertEqual(self.pg.query(
            "SELECT writes, either_mismatches FROM switchyard.verify_runs "
            "WHERE migration = 'ev' ORDER BY id DESC LIMIT 1"), [("both", 0)])

    def test_transforms_that_are_not_inverses_are_named_not_the_writers(self):
        self.pg.query("DROP TABLE IF EXISTS lc_t")
        self.pg.query("CREATE TABLE lc_t (id int PRIMARY KEY, status text, state text)")
        self.pg.query("INSERT INTO lc_t VALUES (1, 'Active', NULL), (2, 'active', NULL)")
        lossy = rename("lc", "lc_t", to_new="lower({value})", to_old="initcap({value})")
        config = self.write_config([lossy], name="lc.toml")
        self.assertEqual(self.command(config, "backfill", "--migration", "lc").code, 0)
        self.assertEqual(self.pg.query("SELECT id, state, initcap(state) FROM lc_t ORDER BY id"),
                         [(1, "active", "Active"), (2, "active", "Active")])
        verified = self.command(config, "verify", "--migration", "lc")
        self.assertEqual(verified.code, 1, str(verified))
        self.assertIn("to-new 0, to-old 1", verified.out)
        self.assertIn("id=2", verified.out)
        for _ in range(2):  # the advice the first time, and after following the old advice
            status = self.command(config, "status")
            self.assertEqual(status.code, 1, str(status))
            self.assertIn("the transforms are not inverses", status.out)
            self.assertIn("would change what apps see", status.out)
            self.assertNotIn("backfill --restart", status.out)
            restarted = self.command(config, "backfill", "--migration", "lc", "--restart",
                                     "--progress", "log")
            self.assertIn("rows_updated=0", restarted.err)
            self.assertEqual(self.command(config, "verify", "--migration", "lc").code, 1)

        # A verify narrowed to to-new still counted to-old: it says so, and is no pass for reads.
        narrowed = self.command(config, "verify", "--migration", "lc", "--direction", "to-new")
        self.assertEqual(narrowed.code, 0, str(narrowed))
        self.assertIn("warning: 1 rows disagree to-old", narrowed.out)
        status = self.command(config, "status")
        self.assertEqual(status.code, 1, str(status))
        self.assertNotIn("step 5:", status.out)
        reading_new = self.write_config([dict(lossy, reads="new")], name="lc.toml")
        status = self.command(reading_new, "status")
        self.assertEqual(status.code, 1, str(status))
        self.assertIn('Set reads = "old" and reload now', status.out)

        # The fix is the transforms: with ones that give every value back, the loop ends.
        config = self.write_config([rename("lc", "lc_t")], name="lc.toml")
        self.assertEqual(self.command(config, "backfill", "--migration", "lc").code, 0)
        self.assertEqual(self.pg.query("SELECT id, status, state FROM lc_t ORDER BY id"),
                         [(1, "Active", "Active"), (2, "active", "active")])
        self.assertEqual(self.command(config, "verify", "--migration", "lc").code, 0)
        status = self.command(config, "status")
        self.assertEqual(status.code, 0, str(status))
        self.assertIn("step 5:", status.out)


class EncodingTest(BackfillCase):

    def test_a_latin1_database_takes_the_configs_utf8_names_and_transforms(self):
        """The commands' own connections read the config as UTF-8 whatever the database's
        encoding: non-ASCII names are found and a non-ASCII transform literal matches."""
        self.pg.query("DROP DATABASE IF EXISTS lat1")
        self.pg.query("CREATE DATABASE lat1 ENCODING 'LATIN1' TEMPLATE template0 "
                      "LC_COLLATE 'C' LC_CTYPE 'C'")
        self.pg.query('CREATE TABLE "café" (id int PRIMARY KEY, "statüs" text, "état" smallint)',
                      dbname="lat1")
        self.pg.query("""INSERT INTO "café" (id, "statüs") VALUES (1, 'active'), """
                      "(2, 'résilié'), (3, 'inactive')", dbname="lat1")
        config = self.write_config([{
            "name": "cafe", "table": "public.café", "old_column": "statüs",
            "new_column": "état", "writes": "both", "reads": "old",
            "to_new": "CASE {value} WHEN 'active' THEN 1 WHEN 'résilié' THEN 2 "
                      "WHEN 'inactive' THEN 0 END",
            "to_old": "CASE {value} WHEN 1 THEN 'active' WHEN 2 THEN 'résilié' "
                      "WHEN 0 THEN 'inactive' END"}], name="lat1.toml", database="lat1")
        check = self.command(config, "check")
        self.assertEqual(check.code, 0, str(check))
        run = self.command(config, "backfill", "--migration", "cafe")
        self.assertEqual(run.code, 0, str(run))
        self.assertEqual(self.pg.query('SELECT id, "statüs", "état" FROM "café" ORDER BY id',
                                       dbname="lat1"),
                         [(1, "active", 1), (2, "résilié", 2), (3, "inactive", 0)])
        verify = self.command(config, "verify", "--migration", "cafe")
        self.assertEqual(verify.code, 0, str(verify))
        self.assertIn("agree", verify.out)


class InheritanceTest(BackfillCase):

    def test_writes_through_an_uncovered_parent_are_warned_about(self):
        for sql in (
                "DROP TABLE IF EXISTS ip, ic, q, pa, pc, kid CASCADE",
                "CREATE TABLE ip (id int PRIMARY KEY, o text, n text)",
                "CREATE TABLE ic () INHERITS (ip)",
                "CREATE TABLE q (id int, o text, n text) PARTITION BY RANGE (id)",
                "CREATE TABLE q1 PARTITION OF q FOR VALUES FROM (0) TO (100)",
                "CREATE TABLE q2 PARTITION OF q FOR VALUES FROM (100) TO (200)",
                "CREATE TABLE pa (id int, o text, n text)",
                "CREATE TABLE pc (id int, o text)",
                "CREATE TABLE kid () INHERITS (pa, pc)"):
            self.pg.query(sql)

        def migration(name, table):
            return {"name": name, "table": f"public.{table}", "old_column": "o",
                    "new_column": "n", "writes": "both", "reads": "old"}

        config = self.write_config([migration("child", "ic"), migration("part", "q1"),
                                    migration("pa", "pa")], name="inherit.toml")
        check = self.command(config, "check")
        self.assertEqual(check.code, 0, str(check))
        partition = ('warning: migration "part": public.q1 is a partition or inheritance child of '
                     "public.q: a write of o through it (an INSERT or COPY the server routes into "
                     "public.q1, an UPDATE or MERGE) is not rewritten by this migration, so it "
                     "writes o alone and n drifts; declare the migration on public.q instead")
        child = ('warning: migration "child": public.ic is a partition or inheritance child of '
                 "public.ip: a write of o through it (an UPDATE or MERGE without ONLY) is not "
                 "rewritten by this migration")
        other_parent = ('warning: migration "pa": public.kid, which this migration covers as a '
                        "descendant of public.pa, also inherits from public.pc: a write of o "
                        "through it (an UPDATE or MERGE without ONLY) is not rewritten by this "
                        "migration, so it writes o alone and n drifts; write o through public.pa "
                        "or public.kid only, or make public.kid inherit from public.pa alone")
        for warning in (partition, child, other_parent):
            self.assertIn(warning, check.out)
        status = self.command(config, "status", "--migration", "part")
        self.assertEqual(status.code, 1, str(status))
        self.assertIn("inherits: public.q1 is a partition or inheritance child of public.q",
                      status.out)
        # The serving proxy says the same on /config and counts it.
        served = AdminProxy(self.pg, migrations=[migration("child", "ic"),
                                                 migration("part", "q1"), migration("pa", "pa")])
        self._test_proxies.append(served)
        self.addCleanup(served.close)
        served.start()
        messages = {w["migration"]: w["message"] for w in served.config_page()["warnings"]}
        self.assertIn(partition.split("\": ", 1)[1], messages.get("part", ""))
        self.assertIn(other_parent.split("\": ", 1)[1], messages.get("pa", ""))
        self.assertEqual(served.metrics().get("switchyard_migration_warnings", migration="pa"), 1)
        served.close()

        # Declared on the roots, with the other parent gone: nothing to say.
        self.pg.query("ALTER TABLE kid NO INHERIT pc")
        config = self.write_config([migration("child", "ip"), migration("part", "q"),
                                    migration("pa", "pa")], name="inherit.toml")
        check = self.command(config, "check")
        self.assertEqual(check.code, 0, str(check))
        self.assertNotIn("warning:", check.out)
        status = self.command(config, "status")
        self.assertNotIn("inherits:", status.out)


    def test_a_descendant_migrating_the_roots_column_is_refused(self):
        for sql in (
                "DROP TABLE IF EXISTS nq CASCADE",
                "CREATE TABLE nq (id int, o text, n text) PARTITION BY RANGE (id)",
                "CREATE TABLE nq1 PARTITION OF nq FOR VALUES FROM (0) TO (100)",
                "CREATE TABLE nq2 PARTITION OF nq FOR VALUES FROM (100) TO (200)"):
            self.pg.query(sql)
        root = {"name": "root", "table": "public.nq", "old_column": "o", "new_column": "n",
                "writes": "both", "reads": "new"}
        leaf = {"name": "leaf", "table": "public.nq1", "old_column": "o", "new_column": "n",
                "to_new": "upper({value})", "to_old": "lower({value})", "writes": "both",
                "reads": "new"}
        refusal = ('migration "leaf" on public.nq1 and migration "root" on public.nq both '
                   "rewrite column o: public.nq1 is a partition or inheritance child of public.nq")
        config = self.write_config([root, leaf], name="nested.toml")
        check = self.command(config, "check")
        self.assertEqual(check.code, 1, str(check))
        self.assertIn(refusal, check.err)
        self.assertIn('keep "root" on public.nq and remove "leaf"', check.err)
        # Placed at the entry to remove, as the loader places its own errors.
        self.assertRegex(check.err, re.escape(config) + r":\d+:\d+: migration\[1\]: " +
                         re.escape(refusal))
        serve = self.command(config, "serve", timeout=30)
        self.assertEqual(serve.code, 1, str(serve))
        self.assertIn(refusal, serve.err)

        # As a reload: refused, and the running config (root alone) goes on rewriting nq1.
        served = AdminProxy(self.pg, migrations=[root])
        self._test_proxies.append(served)
        self.addCleanup(served.close)
        served.start()
        generation = served.generation()
        served.migrations = [root, leaf]
        served.write_config()
        page = wait_until(lambda: (lambda c: c if c["last_reload"]["result"] == "failed"
                                   else None)(served.config_page()), 15,
                          what="the reload to be refused")
        self.assertIn(refusal, " ".join(page["last_reload"]["errors"]))
        self.assertEqual(served.generation(), generation)
        with self.through(served) as conn:
            conn.execute("INSERT INTO nq1 (id, o) VALUES (11, 'ViaLeaf')")
            conn.execute("INSERT INTO nq (id, o) VALUES (12, 'ViaRoot')")
            self.assertEqual(conn.execute("SELECT o FROM nq1 WHERE id = 11").fetchone()[0],
                             "ViaLeaf")
        self.assertEqual(self.pg.query("SELECT id, o, n FROM nq ORDER BY id"),
                         [(11, "ViaLeaf", "ViaLeaf"), (12, "ViaRoot", "ViaRoot")])


class BadInputTest(BackfillCase):

    def test_unknown_migration_lists_the_known_ones(self):
        config = self.write_config([rename("users-status", "users_t"), rename("b", "b_t")])
        for command in ("backfill", "verify", "status"):
            run = self.command(config, command, "--migration", "user-status")
            self.assertEqual(run.code, 2, str(run))
            self.assertIn('unknown migration "user-status"', run.err)
            self.assertIn('did you mean "users-status"', run.err)
            self.assertIn("b (public.b_t: status -> state)", run.err)

    def test_a_config_that_does_not_load_fails_as_for_every_command(self):
        config = self.write_config([rename("users-status", "users_t")])
        with open(config, "a", encoding="utf-8") as f:
            f.write("\n[upstream]\nsurprise = 1\n")
        for command in ("backfill", "verify", "status"):
            run = self.command(config, command, "--migration", "users-status")
            self.assertEqual(run.code, 1, str(run))
            self.assertIn(config, run.err)

    def test_a_transform_that_does_not_apply_is_placed_at_its_line(self):
        self.make_table("bad_fn_t", 10)
        config = self.write_config([type_change("bad-fn", "bad_fn_t",
                                                to_new="no_such_function({value})")])
        for command, key in (("backfill", "migration[0].to_new"), ("verify", "migration[0]")):
            run = self.command(config, command, "--migration", "bad-fn")
            self.assertEqual(run.code, 1, str(run))
            self.assertRegex(run.err, re.escape(config) + r":\d+:\d+: " + re.escape(key) +
                             r': the transforms? of migration "bad-fn" do(es)? not apply to '
                             r"public.bad_fn_t: .*no_such_function")
        self.assertEqual(self.one("SELECT count(*) FROM bad_fn_t WHERE state IS NOT NULL"), 0)

    def test_no_primary_key_names_the_alternatives(self):
        self.pg.query("DROP TABLE IF EXISTS nopk_t")
        self.pg.query("CREATE TABLE nopk_t (code text NOT NULL, status text, state text)")
        self.pg.query("CREATE UNIQUE INDEX nopk_code ON nopk_t (code)")
        self.pg.query("INSERT INTO nopk_t SELECT 'c' || g, 'v', NULL FROM generate_series(1, 50) g")
        config = self.write_config([rename("nopk", "nopk_t")])
        run = self.command(config, "backfill", "--migration", "nopk")
        self.assertEqual(run.code, 1, str(run))
        self.assertIn("has no primary key", run.err)
        self.assertIn("--key-index nopk_code (code)", run.err)
        self.assertIn("ADD PRIMARY KEY USING INDEX", run.err)
        run = self.command(config, "backfill", "--migration", "nopk", "--key-index", "nopk_code",
                           "--progress", "log")
        self.assertEqual(run.code, 0, str(run))
        self.assertEqual(self.one("SELECT count(*) FROM nopk_t WHERE state = 'v'"), 50)
        # The printed next step runs as printed (h16 #3).
        printed = re.search(r'next="switchyard (verify [^"]*)"', run.err)
        self.assertIsNotNone(printed, str(run))
        self.assertIn("--key-index nopk_code", printed.group(1))
        verb, *args = printed.group(1).split()
        proc = subprocess.run([proxy.binary(), verb, *args], capture_output=True, text=True,
                              timeout=120, stdin=subprocess.DEVNULL)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        status = self.command(config, "status", "--migration", "nopk")
        self.assertIn("next:     step 5", status.out, str(status))
        self.assertEqual(self.command(config, "backfill", "--migration", "nopk", "--key-index",
                                      "nopk_code", "--restart").code, 0)
        status = self.command(config, "status", "--migration", "nopk")
        self.assertIn("--migration nopk --key-index nopk_code", status.out, str(status))
        run = self.command(config, "backfill", "--migration", "nopk")
        self.assertIn("UPDATE public.nopk_t SET \"state\" = \"status\"", run.err, str(run))

    def test_a_user_owning_the_progress_tables_needs_no_create_on_the_database(self):
        # h16 #1: CREATE SCHEMA IF NOT EXISTS checks the database privilege before existence.
        self.make_table("own_t", 100)
        config = self.write_config([type_change("own", "own_t")], "own-super.toml")
        self.assertEqual(self.command(config, "verify", "--migration", "own").code, 1)
        self.pg.query("DROP ROLE IF EXISTS sw_owner")
        self.pg.query("CREATE ROLE sw_owner LOGIN PASSWORD 'owner'")
        self.pg.query("GRANT ALL ON own_t TO sw_owner")
        tables = ("backfill_progress", "verify_runs", "writes_new_seen")
        self.pg.query("ALTER SCHEMA switchyard OWNER TO sw_owner")
        for table in tables:
            self.pg.query(f"ALTER TABLE switchyard.{table} OWNER TO sw_owner")

        def give_back():
            self.pg.query(f"ALTER SCHEMA switchyard OWNER TO {postgres.SUPERUSER}")
            for table in tables:
                self.pg.query(f"ALTER TABLE switchyard.{table} OWNER TO {postgres.SUPERUSER}")
            self.pg.query("DROP OWNED BY sw_owner")
            self.pg.query("DROP ROLE sw_owner")
        self.addCleanup(give_back)
        self.assertFalse(self.one("SELECT has_database_privilege('sw_owner', current_database(),"
                                  " 'CREATE')"))
        password_file = os.path.join(self.directory, "owner-password")
        with open(password_file, "w", encoding="utf-8") as f:
            f.write("owner")
        with open(config, encoding="utf-8") as f:
            text = f.read()
        text = text.replace(f'user = "{postgres.SUPERUSER}"', 'user = "sw_owner"').replace(
            f'password_env = "{PASSWORD_ENV}"', f'password_file = "{password_file}"')
        config = os.path.join(self.directory, "own-owner.toml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(text)
        run = self.command(config, "backfill", "--migration", "own", "--restart")
        self.assertEqual(run.code, 0, str(run))
        self.assertEqual(self.one("SELECT count(*) FROM own_t WHERE state IS NULL"), 0)
        run = self.command(config, "verify", "--migration", "own")
        self.assertEqual(run.code, 0, str(run))
        self.assertNotIn("not recorded", run.err)
        status = self.command(config, "status", "--migration", "own")
        self.assertIn("verify:   agree", status.out)
        self.assertIn("step 5", status.out)

    def test_missing_columns_and_tables(self):
        self.pg.query("DROP TABLE IF EXISTS nocol_t")
        self.pg.query("CREATE TABLE nocol_t (id int PRIMARY KEY, status text)")
        config = self.write_config([rename("nocol", "nocol_t"), rename("notable", "absent_t")])
        run = self.command(config, "backfill", "--migration", "nocol")
        self.assertEqual(run.code, 1, str(run))
        self.assertIn('has no column "state"', run.err)
        self.assertIn("add it first", run.err)
        run = self.command(config, "verify", "--migration", "notable")
        self.assertEqual(run.code, 1, str(run))
        self.assertIn("table public.absent_t does not exist", run.err)
        status = self.command(config, "status", "--migration", "nocol")
        self.assertIn("step 1: add the new column", status.out)

    def test_dry_run_writes_nothing_and_help_works(self):
        self.make_table("dry_t", 5000)
        config = self.write_config([type_change("dry", "dry_t")])
        run = self.command(config, "backfill", "--migration", "dry", "--dry-run")
        self.assertEqual(run.code, 0, str(run))
        self.assertIn("pending: 5000 of 5000 rows would be updated", run.out)
        self.assertIn("UPDATE", run.out)
        self.assertEqual(self.one("SELECT count(*) FROM dry_t WHERE state IS NOT NULL"), 0)
        for command in ("backfill", "verify", "status"):
            proc = subprocess.run([proxy.binary(), command, "--help"], capture_output=True,
                                  text=True, timeout=10)
            self.assertEqual(proc.returncode, 0)
            self.assertIn(f"Usage: switchyard {command}", proc.stdout)
        bad = subprocess.run([proxy.binary(), "backfill", "--config", config, "--migration",
                              "dry", "--batch-size", "0"], capture_output=True, text=True,
                             timeout=10)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("--batch-size", bad.stderr)

    def test_status_follows_the_recipe(self):
        self.make_table("rec_t", 1000)
        steps = [({"writes": "old"}, "step 2:"), ({"writes": "both"}, "step 3:")]
        for flags, expected in steps:
            config = self.write_config([type_change("rec", "rec_t", **flags)], name="rec.toml")
            run = self.command(config, "status")
            self.assertEqual(run.code, 0, str(run))
            self.assertIn(expected, run.out)
        self.assertEqual(self.command(config, "backfill", "--migration", "rec").code, 0)
        self.assertIn("step 4: switchyard verify", self.command(config, "status").out)
        self.assertEqual(self.command(config, "verify", "--migration", "rec").code, 0)
        self.assertIn("step 5:", self.command(config, "status").out)
        config = self.write_config([type_change("rec", "rec_t", writes="both", reads="new")],
                                   name="rec.toml")
        self.assertIn("step 6:", self.command(config, "status").out)
        # Reads from the new column without a verify that agrees: wrong now, so exit 1.
        self.pg.query("DELETE FROM switchyard.verify_runs WHERE migration = 'rec'")
        unverified = self.command(config, "status")
        self.assertEqual(unverified.code, 1, str(unverified))
        self.assertIn("without a passing verify", unverified.out)
        self.assertEqual(self.command(config, "verify", "--migration", "rec").code, 0)
        self.assertEqual(self.command(config, "status").code, 0)
        config = self.write_config([type_change("rec", "rec_t", writes="new", reads="new")],
                                   name="rec.toml")
        step_7 = self.command(config, "status").out
        self.assertIn("step 7:", step_7)
        # status text, state smallint: the type is named for after the drop.
        self.assertIn('Before the drop, add old_type = "text" to the migration', step_7)
        config = self.write_config([type_change("rec", "rec_t", writes="new", reads="new",
                                                old_type="text")], name="rec.toml")
        self.assertNotIn("old_type", self.command(config, "status").out)
        self.pg.query("ALTER TABLE rec_t DROP COLUMN status")
        self.assertIn("step 8:", self.command(config, "status").out)

    def test_status_never_advises_the_drop_when_steps_3_to_5_were_skipped(self):
        # writes = "new" without a backfill: row 1's only value is in the old column.
        self.make_table("skip_t", 2)
        self.pg.query("UPDATE skip_t SET state = 1, status = 'stale' WHERE id = 2")
        config = self.write_config([type_change("skip", "skip_t", writes="new", reads="new")],
                                   name="skip.toml")
        run = self.command(config, "status")
        self.assertEqual(run.code, 1, str(run))
        self.assertIn("do not drop the old column: no backfill has finished", run.out)
        self.assertNotIn("step 7", run.out)
        # The advice, followed, loses neither row 1's old value nor row 2's new one.
        self.pg.query(f"UPDATE skip_t SET state = {SQL_TO_NEW} "
                      "WHERE state IS NULL AND status IS NOT NULL")
        config = self.write_config([type_change("skip", "skip_t", writes="both", reads="new")],
                                   name="skip.toml")
        self.assertEqual(self.command(config, "backfill", "--migration", "skip", "--direction",
                                      "to-old").code, 0)
        self.assertEqual(self.command(config, "verify", "--migration", "skip").code, 0)
        self.assertEqual(self.pg.query("SELECT id, status, state FROM skip_t ORDER BY id"),
                         [(1, "inactive", 0), (2, "active", 1)])
        config = self.write_config([type_change("skip", "skip_t", writes="new", reads="new")],
                                   name="skip.toml")
        run = self.command(config, "status")
        self.assertEqual(run.code, 0, str(run))
        self.assertIn("step 7:", run.out)


class TypeAndTypmodComparisonTest(BackfillCase):
    """Verify and backfill compare a column with the other's value cast to its type and typmod,
    as a write through the proxy stores it (hunt 50 h17 #1, #4, #9)."""

    def plain(self, name, table):
        return {"name": name, "table": f"public.{table}", "old_column": "o", "new_column": "n",
                "writes": "both", "reads": "old"}

    def make(self, table, old_type, new_type, values_sql):
        self.pg.query(f"DROP TABLE IF EXISTS {table}")
        self.pg.query(f"CREATE TABLE {table} (id int PRIMARY KEY, o {old_type})")
        self.pg.query(f"INSERT INTO {table} SELECT g, CASE WHEN g % 10 = 0 THEN NULL "
                      f"ELSE {values_sql} END FROM generate_series(1, 1000) g")
        self.pg.query(f"ALTER TABLE {table} ADD COLUMN n {new_type}")

    def verify(self, config, name, **env):
        proc = subprocess.run([proxy.binary(), "verify", "--config", config, "--migration", name],
                              capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL, env={**os.environ, **env})
        return Run(["verify", name], proc)

    def backfill_updates(self, config, name, *args):
        run = self.command(config, "backfill", "--migration", name, *args)
        self.assertEqual(run.code, 0, str(run))
        return self.progress(name)[1]

    def test_double_to_numeric_has_no_false_drift_and_converges(self):
        self.make("fl_t", "double precision", "numeric", "g / 3.0")
        config = self.write_config([self.plain("fl", "fl_t")], "fl.toml")
        self.assertEqual(self.backfill_updates(config, "fl"), 900)
        # The new column holds exactly what a write of the old value stores.
        self.assertEqual(self.one("SELECT count(*) FROM fl_t WHERE n IS DISTINCT FROM "
                                  "CAST(o AS numeric)"), 0)
        # float8 -> numeric keeps 15 digits: reads = "new" would serve other doubles there.
        lossy = self.one("SELECT count(*) FROM fl_t WHERE "
                         "float8send(o) IS DISTINCT FROM float8send(CAST(n AS float8))")
        self.assertGreater(lossy, 0)
        expected = f"{lossy} disagree (direction both: to-new 0, to-old {lossy})"
        run = self.verify(config, "fl")
        self.assertEqual(run.code, 1, str(run))
        self.assertIn(expected, run.out)
        # Whatever extra_float_digits the verify session gets (at 0 the text of distinct
        # doubles is the same), it counts the same rows.
        run = self.verify(config, "fl", PGOPTIONS="-c extra_float_digits=0")
        self.assertIn(expected, run.out, str(run))
        self.assertEqual(self.backfill_updates(config, "fl", "--restart"), 0)
        self.assertEqual(self.one("SELECT count(*) FROM fl_t WHERE n IS DISTINCT FROM "
                                  "CAST(o AS numeric)"), 0)

    def test_numeric_typmods_keep_an_apps_precision_and_converge(self):
        self.make("wide_t", "numeric(10,2)", "numeric(14,4)", "g / 7.0")
        self.make("narrow_t", "numeric(14,4)", "numeric(10,2)", "g / 7.0")
        app_proxy = self.start_app_proxy([self.plain("wide", "wide_t"),
                                          self.plain("narrow", "narrow_t")])
        config = app_proxy.config_path
        self.assertEqual(self.backfill_updates(config, "wide"), 900)
        self.assertEqual(self.backfill_updates(config, "narrow"), 900)
        with self.through(app_proxy) as conn:
            # An updated app writes the new column with more precision than the old one holds.
            conn.execute("INSERT INTO wide_t (id, n) VALUES (2001, 1.00499)")
            conn.execute("INSERT INTO narrow_t (id, o) VALUES (2001, 1.00499)")
        self.assertEqual(self.pg.query("SELECT o::text, n::text FROM wide_t WHERE id = 2001"),
                         [("1.01", "1.0050")])
        self.assertEqual(self.pg.query("SELECT o::text, n::text FROM narrow_t WHERE id = 2001"),
                         [("1.0050", "1.01")])

        # Widening: reads = "new" serve CAST(n AS numeric(10,2)) = o everywhere; only the app's
        # row differs from what a write of o stores, and backfill leaves it.
        run = self.verify(config, "wide")
        self.assertIn("1 disagree (direction both: to-new 1, to-old 0)", run.out, str(run))
        self.assertIn("id=2001: o='1.01' n='1.0050' (to_new(old)='1.0100', to_old(new)='1.01')",
                      run.out)
        self.assertEqual(self.backfill_updates(config, "wide", "--restart"), 0)
        self.assertEqual(self.pg.query("SELECT o::text, n::text FROM wide_t WHERE id = 2001"),
                         [("1.01", "1.0050")])

        # Narrowing: n is what storing o gives everywhere; reads = "new" would serve fewer
        # digits for the rows whose o has more, which is real, and no backfill changes it.
        lossy = self.one("SELECT count(*) FROM narrow_t WHERE o IS DISTINCT FROM "
                         "CAST(n AS numeric(14,4))")
        self.assertGreater(lossy, 0)
        run = self.verify(config, "narrow")
        self.assertIn(f"{lossy} disagree (direction both: to-new 0, to-old {lossy})", run.out,
                      str(run))
        self.assertEqual(self.backfill_updates(config, "narrow", "--restart"), 0)
        self.assertEqual(self.backfill_updates(config, "narrow", "--restart"), 0)


if __name__ == "__main__":
    unittest.main()
