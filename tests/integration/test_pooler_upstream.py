"""A pooler (Debian's PgBouncer, transaction mode, one server connection) as Switchyard's
upstream: not a supported chain (docs/operations.md, "Connection poolers"), but one the proxy
must name when it sees it, and must not turn into an outage or an unexplained error.

- the pooler is detected (the relayed BackendKeyData pid is not pg_backend_pid()) and warned
  about once per upstream;
- a pooler that refuses the startup parameter idle_session_timeout ([timeouts] idle_client)
  costs one retry without it and a warning, not every session;
- a connection the pooler queues past [timeouts] startup is told it was the upstream.
"""

import threading
import unittest

import psycopg

from harness import pgbouncer, postgres
from harness.base import IntegrationCase, requires_proxy
from test_rewrite import MigrationProxy

RENAME = {"name": "users-status-to-state", "table": "public.users", "old_column": "status",
          "new_column": "state", "writes": "both", "reads": "old"}


@requires_proxy
@unittest.skipUnless(pgbouncer.available(), "needs pgbouncer")
class PoolerUpstreamTest(IntegrationCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = postgres.start_for_class(cls)
        cls.pg.query("CREATE TABLE users (id int PRIMARY KEY, status text, state text)")

    def setUp(self):
        super().setUp()
        self.pg.query("DELETE FROM users")
        self.bouncer = pgbouncer.PgBouncer(self.pg)
        self.addCleanup(self.bouncer.stop)
        self.bouncer.start()

    def migration_proxy(self, port, **kwargs):
        p = MigrationProxy(self.pg, [RENAME], upstream={"address": f"127.0.0.1:{port}"}, **kwargs)
        self._test_proxies.append(p)
        self.addCleanup(p.close)
        p.start()
        return p

    def through(self, p):
        return psycopg.connect(self.pg.conninfo(host=p.host, port=p.port, sslmode="disable"),
                               autocommit=True, connect_timeout=10)

    def test_a_pooler_upstream_is_warned_about_once(self):
        direct = self.migration_proxy(self.pg.port)
        pooled = self.migration_proxy(self.bouncer.port)
        for row_id, p in ((1, direct), (2, pooled), (3, pooled)):
            with self.through(p) as conn:
                conn.execute("INSERT INTO users (id, status) VALUES (%s, 'x')", (row_id,))
        self.assertEqual(self.pg.query("SELECT id, status, state FROM users ORDER BY id"),
                         [(1, "x", "x"), (2, "x", "x"), (3, "x", "x")])
        self.assertEqual(direct.log_text().count("event=upstream_pooler"), 0)
        self.assertEqual(pooled.log_text().count("event=upstream_pooler"), 1, pooled.log_text())
        self.assertIn("session mode", pooled.log_text())

    def test_idle_client_refused_by_the_pooler_costs_a_retry_not_the_session(self):
        p = self.start_proxy(self.bouncer.port, timeouts={"idle_client": "60s"})
        for row_id in (1, 2, 3):
            with psycopg.connect(self.pg.conninfo(host=p.host, port=p.port, sslmode="disable"),
                                 autocommit=True, connect_timeout=10) as conn:
                conn.execute("INSERT INTO users (id, status) VALUES (%s, 'y')", (row_id,))
        self.assertEqual(self.pg.query("SELECT count(*) FROM users WHERE status = 'y'")[0][0], 3)
        log = p.log_text()
        self.assertEqual(log.count("event=idle_client_unsupported_by_upstream"), 1, log)
        self.assertIn("ignore_startup_parameters", log)
        # Later sessions know: only the first one connected twice.
        self.assertEqual(log.count("event=upstream_reconnect "), 1, log)

    def test_a_queued_connection_is_told_the_upstream_did_not_answer(self):
        p = self.migration_proxy(self.bouncer.port, timeouts={"startup": "1s"})
        with self.through(p) as conn:  # the pooler now has its server's parameters
            conn.execute("SELECT 1")
        holder = psycopg.connect(self.pg.conninfo(host=self.bouncer.host, port=self.bouncer.port,
                                                  sslmode="disable"))
        self.addCleanup(holder.close)
        holder.execute("SELECT 1")  # the pool's one server connection, held in a transaction
        with self.assertRaises(psycopg.OperationalError) as caught:
            self.through(p).close()
        message = str(caught.exception)
        self.assertIn(f"waiting for upstream 127.0.0.1:{self.bouncer.port}", message)
        self.assertIn("[timeouts] startup", message)
        holder.rollback()
        with self.through(p) as conn:
            conn.execute("INSERT INTO users (id, status) VALUES (9, 'z')")
        self.assertEqual(self.pg.query("SELECT state FROM users WHERE id = 9"), [("z",)])


if __name__ == "__main__":
    unittest.main()
