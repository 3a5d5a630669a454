"""pgbench through Switchyard: select-only and TPC-B, in the three query modes.

Each run must finish with no failed transaction and no error, and the TPC-B invariant
(balances equal the history's deltas) is checked in the database afterwards. What the proxy
costs against direct Postgres and PgBouncer is measured by bench/run_bench.py, on a quiet
machine, not here.
"""

import os
import re
import subprocess
import unittest

from harness.base import IntegrationCase
from harness.postgres import PG_BIN, SUPERUSER

DURATION_S = 3
CLIENTS = 4
THREADS = 2


class PgbenchTest(IntegrationCase):
    @classmethod
    def setUpClass(cls):
        cls.start_stack()
        proc = cls.pgbench(cls.host, cls.port, "-i", "-s", "1", "-q")
        if proc.returncode != 0:
            raise RuntimeError(f"pgbench -i failed:\n{proc.stdout}\n{proc.stderr}")

    @classmethod
    def pgbench(cls, host, port, *args):
        env = dict(os.environ, PGPASSWORD=cls.pg.password, PGSSLMODE="disable",
                   PGCONNECT_TIMEOUT="10")
        return subprocess.run([os.path.join(PG_BIN, "pgbench"), "-h", host, "-p", str(port),
                               "-U", SUPERUSER, *args, cls.pg.dbname],
                              capture_output=True, text=True, timeout=120, env=env)

    def run_bench(self, script_args, mode):
        proc = self.pgbench(self.host, self.port, *script_args, "-M", mode, "-c", str(CLIENTS),
                            "-j", str(THREADS), "-T", str(DURATION_S), "-n")
        output = proc.stdout + proc.stderr
        self.assertEqual(proc.returncode, 0, output)
        self.assertIn("number of failed transactions: 0 ", output)
        processed = re.search(r"number of transactions actually processed: (\d+)", output)
        self.assertIsNotNone(processed, output)
        self.assertGreater(int(processed.group(1)), 0, output)
        self.assertNotIn("error", proc.stderr.lower(), output)
        self.assert_tpcb_invariant()

    def assert_tpcb_invariant(self):
        (accounts, tellers, branches, history), = self.pg.query(
            "SELECT (SELECT sum(abalance) FROM pgbench_accounts),"
            " (SELECT sum(tbalance) FROM pgbench_tellers),"
            " (SELECT sum(bbalance) FROM pgbench_branches),"
            " (SELECT coalesce(sum(delta), 0) FROM pgbench_history)")
        self.assertEqual(accounts, history)
        self.assertEqual(tellers, history)
        self.assertEqual(branches, history)

    def test_initialised_through_the_proxy(self):
        self.assertEqual(self.pg.query("SELECT count(*) FROM pgbench_accounts"), [(100000,)])
        self.assertEqual(self.pg.query("SELECT count(*) FROM pgbench_branches"), [(1,)])

    def test_select_only_simple(self):
        self.run_bench(["-S"], "simple")

    def test_select_only_extended(self):
        self.run_bench(["-S"], "extended")

    def test_select_only_prepared(self):
        self.run_bench(["-S"], "prepared")

    def test_tpcb_simple(self):
        self.run_bench(["-b", "tpcb-like"], "simple")

    def test_tpcb_extended(self):
        self.run_bench(["-b", "tpcb-like"], "extended")

    def test_tpcb_prepared(self):
        self.run_bench(["-b", "tpcb-like"], "prepared")


if __name__ == "__main__":
    unittest.main()
