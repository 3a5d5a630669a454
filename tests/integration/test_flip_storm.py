"""The flip storm of issue 4: pgbench clients (simple and prepared protocol at once) write and
read a mapped table through Switchyard while a loop rewrites the config every 200 ms, cycling
the valid flag combinations. At the end: no failed transaction, no session that saw half a flip,
and no row where the columns disagree.

What the script checks inside each transaction: it writes a value to the old column and reads
the old column back. In every valid combination that read returns the value just written
(writes both + reads old: the old column has it; reads new: the new column has it), so a
different answer means the two statements ran under different generations. The script then
aborts the client, and pgbench exits non-zero.

What the table tells afterwards: the new column is written in every combination used here, so
it must hold every row's last value (kept in a plain `version` column beside it). The old column
is skipped while writes = "new", so it agrees only for rows last written under writes = "both":
the storm ends with a settling period under writes = "both", and every row written well after
that config took effect must have equal columns. Prepared statements prepared under
writes = "new" and executed after it must therefore be re-prepared, or they leave the old
column behind.
"""

import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

from harness import postgres
from harness.base import IntegrationCase, requires_proxy
from harness.util import wait_until
from test_admin import MigrationProxy

SECONDS = int(os.environ.get("SWITCHYARD_STORM_SECONDS", "30"))
SETTLE_SECONDS = 5
FLIP_INTERVAL = 0.2
ROWS = 200
# The valid combinations, in an order where each step is one flip of one flag.
CYCLE = [("both", "old"), ("both", "new"), ("new", "new"), ("both", "new")]

SCRIPT = f"""
\\set id random(1, {ROWS})
\\set v random(1, 1000000000)
BEGIN;
UPDATE accounts SET status = :v::text, version = :v, updated_at = now() WHERE id = :id;
SELECT status AS got FROM accounts WHERE id = :id \\gset
\\if :got != :v
SELECT 'half a flip: read ' || :got || ' after writing ' || :v AS failure, 1 / 0;
\\endif
INSERT INTO accounts (id, status, version, updated_at) VALUES (:id + {ROWS}, :v::text, :v, now())
  ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, version = EXCLUDED.version,
  updated_at = now();
END;
"""


def pgbench_binary():
    for path in (os.path.join(postgres.PG_BIN, "pgbench"), "/usr/bin/pgbench"):
        if os.path.exists(path):
            return path
    return None


@requires_proxy
@unittest.skipUnless(pgbench_binary(), "needs pgbench")
class FlipStormTest(IntegrationCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = postgres.start_for_class(cls, settings={"max_connections": 80})
        cls.pg.query("CREATE TABLE accounts (id int PRIMARY KEY, status text, state text, "
                     "version bigint NOT NULL, updated_at timestamptz NOT NULL)")
        cls.pg.query(f"INSERT INTO accounts SELECT i, '0', '0', 0, now() "
                     f"FROM generate_series(1, {2 * ROWS}) i")
        migration = {"name": "accounts-status", "table": "public.accounts",
                     "old_column": "status", "new_column": "state",
                     "writes": "both", "reads": "old"}
        cls.proxy = MigrationProxy(cls.pg, migrations=[migration], log_level="info")
        cls.proxy.start()
        cls.addClassCleanup(cls.proxy.close)
        cls.host, cls.port = cls.proxy.host, cls.proxy.port

    def _pgbench(self, mode, clients, script_path, output_path):
        env = dict(os.environ, PGPASSWORD=self.pg.password)
        with open(output_path, "wb") as out:
            return subprocess.Popen(
                [pgbench_binary(), "-h", self.host, "-p", str(self.port),
                 "-U", postgres.SUPERUSER, "-n", "-M", mode, "-c", str(clients), "-j", "1",
                 "-T", str(SECONDS), "-f", script_path, self.pg.dbname],
                stdout=out, stderr=subprocess.STDOUT, env=env)

    def _flip_loop(self, stop, settle, flips):
        """Rewrites the config every FLIP_INTERVAL until `stop`; then writes the settling
        config (writes both) and sets `settle` with the generation it should get."""
        p = self.proxy
        i = 0
        while not stop.is_set():
            i += 1
            writes, reads = CYCLE[i % len(CYCLE)]
            p.migrations[0].update(writes=writes, reads=reads)
            p.write_config()
            flips.append((time.monotonic(), writes, reads))
            stop.wait(FLIP_INTERVAL)
        p.migrations[0].update(writes="both", reads="new")
        p.write_config()
        settle.set()

    def test_flip_storm(self):
        p = self.proxy
        directory = tempfile.mkdtemp(prefix="switchyard-storm-")
        self.addCleanup(shutil.rmtree, directory, True)
        script = os.path.join(directory, "storm.sql")
        with open(script, "w") as f:
            f.write(SCRIPT)
        before = p.metrics()
        outputs = {mode: os.path.join(directory, f"pgbench-{mode}.log")
                   for mode in ("simple", "prepared")}
        runs = {mode: self._pgbench(mode, 3, script, outputs[mode]) for mode in outputs}

        stop, settle, flips = threading.Event(), threading.Event(), []
        flipper = threading.Thread(target=self._flip_loop, args=(stop, settle, flips))
        flipper.start()
        try:
            stop.wait(SECONDS - SETTLE_SECONDS)
        finally:
            stop.set()
            flipper.join(timeout=30)
        settle.wait(10)
        # The settling config is in force from the first reload that shows it; rows written a
        # second later come from sessions that adopted it at their last transaction boundary.
        wait_until(lambda: p.config_page()["flags"]["accounts-status"]
                   == {"writes": "both", "reads": "new", "on_unsupported": "reject"}
                   and p.config_page()["last_reload"]["result"] == "ok", 15,
                   what="the settling config")
        settled_at = self.pg.query("SELECT now() + interval '1 second'")[0][0]

        results = {}
        for mode, run in runs.items():
            try:
                run.wait(timeout=SECONDS + 60)
            except subprocess.TimeoutExpired:
                run.kill()
                run.wait()
            with open(outputs[mode], "rb") as f:
                results[mode] = (run.returncode, f.read().decode("utf-8", "replace"))
        after = p.metrics()

        report = "\n".join(f"--- pgbench -M {mode} (exit {code}) ---\n{text[-3000:]}"
                           for mode, (code, text) in results.items())
        self.assertGreaterEqual(len(flips), (SECONDS - SETTLE_SECONDS) / FLIP_INTERVAL / 2,
                                "the flip loop fell behind")
        for mode, (code, text) in results.items():
            self.assertNotIn("aborted", text, report)
            self.assertNotIn("half a flip", text, report)
            self.assertEqual(code, 0, report)
            if "number of failed transactions" in text:
                self.assertIn("number of failed transactions: 0 ", text, report)
            self.assertIn("number of transactions actually processed", text, report)

        reloads_ok = (after.get("switchyard_reloads_total", result="ok")
                      - before.get("switchyard_reloads_total", result="ok"))
        reloads_failed = (after.get("switchyard_reloads_total", result="failed")
                          - before.get("switchyard_reloads_total", result="failed"))
        self.assertEqual(reloads_failed, 0, "a valid flip was refused")
        self.assertGreaterEqual(reloads_ok, 10, "the flips were not reloaded")
        self.assertGreater(after.get("switchyard_statements_rewritten_total")
                           - before.get("switchyard_statements_rewritten_total"), 1000)
        self.assertEqual(after.get("switchyard_statements_rejected_total")
                         - before.get("switchyard_statements_rejected_total"), 0)

        lost = self.pg.query("SELECT id, state, version FROM accounts "
                             "WHERE state IS DISTINCT FROM version::text ORDER BY id LIMIT 10")
        self.assertEqual(lost, [], "the new column missed writes:\n" + report)
        settled = self.pg.query("SELECT count(*) FROM accounts WHERE updated_at > %s",
                                (settled_at,))[0][0]
        drift = self.pg.query("SELECT id, status, state FROM accounts "
                              "WHERE updated_at > %s AND status IS DISTINCT FROM state "
                              "ORDER BY id LIMIT 10", (settled_at,))
        self.assertEqual(drift, [], "rows written under writes = both whose columns disagree")
        self.assertGreater(settled, 0, "no row was written after the settling config")
        self.assertTrue(p.alive())
        print(f"\nflip storm: {len(flips)} flips, {int(reloads_ok)} reloads, "
              f"{settled} rows checked after settling\n{report}")


if __name__ == "__main__":
    unittest.main()
