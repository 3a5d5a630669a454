"""A bulk INSERT of several MB through the proxy (pg_dump --inserts --rows-per-insert, an ORM
batch) while other sessions run: its rewrite takes seconds, and must not stall the sessions
that share its worker (DESIGN §7); its rows must all arrive with both columns filled.
"""

import threading
import time
import unittest

from harness.base import requires_proxy
from harness.util import wait_until
from test_rewrite import MigrationProxy, RewriteCase, both_migrations

WORKERS = 2
# More sessions than workers: at least one shares the bulk load's worker.
OTHERS = 2 * WORKERS + 1
ROWS = 80_000  # about 8 MB of VALUES
# A worker stalled by the rewrite keeps its sessions waiting for seconds (the rewrite's time);
# one that hands the rewrite to the pool answers them in milliseconds, on a loaded machine in
# a few hundred.
MAX_STALL = 1.0
# What a proxy may keep once the bulk load's session has gone: its peak was many times the
# text; what the allocator keeps of it must come back to the system.
MAX_KEPT_MB = 12


def rss_mb(p):
    with open(f"/proc/{p.process.pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def bulk_insert(rows):
    values = ",".join(f"({i}, 'n{i}', 'status-{i:07d}-{'x' * 60}')" for i in range(rows))
    return f"INSERT INTO users (id, name, status) VALUES {values}"


@requires_proxy
class LongRewriteTest(RewriteCase):
    MIGRATIONS = both_migrations(writes="both", reads="new")

    @classmethod
    def start_migration_proxy(cls, migrations):
        p = MigrationProxy(cls.pg, migrations, extra={"runtime": {"threads": WORKERS}})
        p.start()
        return p

    def test_bulk_insert_does_not_stall_its_worker(self):
        text = bulk_insert(ROWS)
        self.assertGreater(len(text), 6 << 20)
        others = [self.connect() for _ in range(OTHERS)]
        for conn in others:
            self.addCleanup(conn.close)
            conn.execute("SELECT 1")
        bulk = self.connect()
        self.addCleanup(bulk.close)

        done = threading.Event()
        failure = []

        def load():
            try:
                self.simple(bulk, text)
            except Exception as e:  # reported by the main thread
                failure.append(e)
            finally:
                done.set()

        stalls = [0.0] * OTHERS

        def poll(n):
            while not done.is_set():
                started = time.monotonic()
                others[n].execute("SELECT 1").fetchone()
                stalls[n] = max(stalls[n], time.monotonic() - started)
                time.sleep(0.01)

        started = time.monotonic()
        loader = threading.Thread(target=load)
        pollers = [threading.Thread(target=poll, args=(n,)) for n in range(OTHERS)]
        loader.start()
        for t in pollers:
            t.start()
        loader.join(120)
        for t in pollers:
            t.join(30)
        took = time.monotonic() - started
        self.assertFalse(loader.is_alive(), "the bulk INSERT did not finish in 120 s")
        self.assertEqual(failure, [])
        self.assertLess(max(stalls), MAX_STALL,
                        f"a session waited {max(stalls):.2f} s during a {took:.2f} s bulk load")
        counts = self.direct("SELECT count(*), count(*) FILTER (WHERE state IS NOT DISTINCT "
                             "FROM status AND state LIKE 'status-%') FROM users")
        self.assertEqual(counts, [(ROWS, ROWS)])

    def test_memory_returns_after_a_bulk_insert(self):
        p = self.migration_proxy(self.MIGRATIONS)  # its own: nothing loaded before
        with self.connect_to(p) as conn:
            conn.execute("SELECT 1")
        before = rss_mb(p)
        text = bulk_insert(ROWS)
        for _ in range(2):
            self.pg.query("TRUNCATE users")
            with self.connect_to(p) as conn:
                self.simple(conn, text)
        self.assertEqual(self.direct("SELECT count(*) FROM users WHERE state = status"),
                         [(ROWS,)])
        try:
            wait_until(lambda: rss_mb(p) < before + MAX_KEPT_MB, 10, interval=0.2,
                       what="the proxy's memory to come back")
        except TimeoutError:
            self.fail(f"RSS {rss_mb(p):.0f} MB after the bulk loads, {before:.0f} MB before")


if __name__ == "__main__":
    unittest.main()
