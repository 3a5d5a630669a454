"""Test-case plumbing: one cluster (and one proxy) per class, logs printed on failure.

With SWITCHYARD_BIN set, clients connect through Switchyard; without it they connect straight
to Postgres and proxy-only tests are skipped. Running the suite both ways shows that a test
asserts Postgres behaviour and not an artefact of the proxy.
"""

import os
import sys
import unittest

import psycopg

from . import postgres, proxy
from .rawclient import RawConnection

requires_proxy = unittest.skipUnless(proxy.binary(), "needs SWITCHYARD_BIN (proxy-only behaviour)")


class IntegrationCase(unittest.TestCase):
    """Base class. Subclasses call start_stack() from setUpClass."""

    pg = None
    proxy = None
    host = None
    port = None

    @classmethod
    def start_stack(cls, pg_kwargs=None, proxy_kwargs=None):
        cls.pg = postgres.start_for_class(cls, **(pg_kwargs or {}))
        if proxy.binary():
            cls.proxy = proxy.start_for_class(cls, cls.pg.port, **(proxy_kwargs or {}))
            cls.host, cls.port = cls.proxy.host, cls.proxy.port
        else:
            cls.proxy = None
            cls.host, cls.port = cls.pg.host, cls.pg.port

    @classmethod
    def conninfo(cls, **overrides) -> str:
        """conninfo of the endpoint under test (the proxy, or Postgres in direct mode)."""
        params = {"host": cls.host, "port": cls.port, "user": postgres.SUPERUSER,
                  "password": cls.pg.password, "dbname": cls.pg.dbname, "sslmode": "disable",
                  "connect_timeout": 10}
        params.update(overrides)
        return psycopg.conninfo.make_conninfo(
            **{k: v for k, v in params.items() if v is not None})

    @classmethod
    def connect(cls, autocommit=True, **overrides):
        return psycopg.connect(cls.conninfo(**overrides), autocommit=autocommit)

    @classmethod
    def raw(cls, timeout=10.0) -> RawConnection:
        return RawConnection(cls.host, cls.port, timeout=timeout)

    @classmethod
    def raw_session(cls, **kwargs) -> RawConnection:
        """A raw connection that has completed startup as the superuser."""
        conn = cls.raw()
        try:
            conn.start(postgres.SUPERUSER, cls.pg.dbname, password=cls.pg.password, **kwargs)
        except BaseException:
            conn.close()
            raise
        return conn

    def setUp(self):
        self._test_proxies = []

    def tearDown(self):
        for p in [self.proxy, *self._test_proxies]:
            if p is not None and p.crashed():
                self.fail(f"switchyard exited unexpectedly with status {p.process.returncode}")

    def start_proxy(self, upstream_port=None, **kwargs):
        """A proxy for this test only (stopped by a cleanup, its log printed on failure)."""
        p = proxy.SwitchyardProxy(upstream_port or self.pg.port, **kwargs)
        self._test_proxies.append(p)
        self.addCleanup(p.close)
        p.start()
        return p

    def assert_endpoint_works(self):
        """A fresh session through the endpoint answers a query: nothing else broke."""
        with self.connect() as conn:
            self.assertEqual(conn.execute("SELECT 40 + 2").fetchone()[0], 42)

    def run(self, result=None):
        failures_before = self._failure_count(result)
        outcome = super().run(result)
        if result is not None and self._failure_count(result) > failures_before:
            self._dump_logs()
        return outcome

    @staticmethod
    def _failure_count(result):
        if result is None:
            return 0
        return len(result.failures) + len(result.errors)

    def _dump_logs(self):
        out = sys.stderr
        for i, p in enumerate([self.proxy, *getattr(self, "_test_proxies", [])]):
            if p is not None:
                out.write(f"\n--- switchyard log #{i} ({self.id()}) ---\n{p.log_tail()}\n")
        if self.pg is not None:
            out.write(f"\n--- postgres log ({self.id()}) ---\n{self.pg.log_tail()}\n")


def libpq_client():
    """Path of the libpq_client test program (env LIBPQ_CLIENT), or None."""
    return os.environ.get("LIBPQ_CLIENT") or None


requires_libpq_client = unittest.skipUnless(libpq_client(), "needs LIBPQ_CLIENT")
