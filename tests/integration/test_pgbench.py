"""pgbench through Switchyard: select-only and TPC-B, in the three query modes.

Every run is also made straight against Postgres so the output records the proxy's cost as
tps direct vs. proxy. The TPC-B invariant (balances equal the history's deltas) is checked
in the database afterwards.
"""

import os
import re
import subprocess
import sys
import unittest

from harness.base import IntegrationCase
from harness.postgres import PG_BIN, SUPERUSER

DURATION_S = 3
CLIENTS = 4
THREADS = 2


class PgbenchTest(IntegrationCase):
    results = []

    @classmethod
    def setUpClass(cls):
        cls.start_stack()
        proc = cls.pgbench(cls.host, cls.port, "-i", "-s", "1", "-q")
        if proc.returncode != 0:
            raise RuntimeError(f"pgbench -i failed:\n{proc.stdout}\n{proc.stderr}")
        cls.addClassCleanup(cls.print_summary)

    @classmethod
    def pgbench(cls, host, port, *args):
        env = dict(os.environ, PGPASSWORD=cls.pg.password, PGSSLMODE="disable",
                   PGCONNECT_TIMEOUT="10")
        return subprocess.run([os.path.join(PG_BIN, "pgbench"), "-h", host, "-p", str(port),
                               "-U", SUPERUSER, *args, cls.pg.dbname],
                              capture_output=True, text=True, timeout=120, env=env)

    @classmethod
    def print_summary(cls):
        if not cls.results:
            return
        lines = ["", "pgbench tps (-c %d -j %d -T %d)" % (CLIENTS, THREADS, DURATION_S),
                 f"{'script':<12} {'mode':<9} {'direct':>10} {'proxy':>10} {'ratio':>6}"]
        for script, mode, direct, proxied in cls.results:
            ratio = proxied / direct if direct else 0.0
            lines.append(f"{script:<12} {mode:<9} {direct:>10.1f} {proxied:>10.1f} "
                         f"{ratio:>6.2f}")
        sys.stderr.write("\n".join(lines) + "\n")

    def run_bench(self, host, port, script_args, mode):
        proc = self.pgbench(host, port, *script_args, "-M", mode, "-c", str(CLIENTS), "-j",
                            str(THREADS), "-T", str(DURATION_S), "-n")
        output = proc.stdout + proc.stderr
        self.assertEqual(proc.returncode, 0, output)
        self.assertIn("number of failed transactions: 0 ", output)
        processed = re.search(r"number of transactions actually processed: (\d+)", output)
        self.assertIsNotNone(processed, output)
        self.assertGreater(int(processed.group(1)), 0, output)
        tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", output)
        self.assertIsNotNone(tps, output)
        self.assertGreater(float(tps.group(1)), 0.0)
        self.assertNotIn("error", proc.stderr.lower(), output)
        return float(tps.group(1))

    def compare(self, name, script_args, mode):
        direct = self.run_bench(self.pg.host, self.pg.port, script_args, mode)
        proxied = (self.run_bench(self.host, self.port, script_args, mode)
                   if self.proxy else direct)
        self.results.append((name, mode, direct, proxied))
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
        self.compare("select-only", ["-S"], "simple")

    def test_select_only_extended(self):
        self.compare("select-only", ["-S"], "extended")

    def test_select_only_prepared(self):
        self.compare("select-only", ["-S"], "prepared")

    def test_tpcb_simple(self):
        self.compare("tpcb-like", ["-b", "tpcb-like"], "simple")

    def test_tpcb_extended(self):
        self.compare("tpcb-like", ["-b", "tpcb-like"], "extended")

    def test_tpcb_prepared(self):
        self.compare("tpcb-like", ["-b", "tpcb-like"], "prepared")


if __name__ == "__main__":
    unittest.main()
