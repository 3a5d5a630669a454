"""An upstream reached through Postgres's unix socket: `[upstream] address = "/dir:port"`.

The relay, the rewrite, the proxy's own catalog connection, cancel, /readyz and the commands
(backfill, verify) all go through the socket file, and the data is checked in Postgres. A
server that admits a client over the socket without a password (pg_hba peer or trust) would
be admitting Switchyard, not the client, so such a session is refused.
"""

import http.client
import json
import os
import subprocess
import threading
import unittest

import psycopg

from harness import postgres, proxy
from harness import rawclient as rc
from harness.base import IntegrationCase, requires_proxy
from harness.util import free_port, wait_until
from test_rewrite import PASSWORD_ENV, MigrationProxy

# True when the session's server connection came over the unix socket (no client address).
ON_SOCKET = "SELECT client_addr IS NULL FROM pg_stat_activity WHERE pid = pg_backend_pid()"

RENAME = {"name": "users-status-to-state", "table": "public.users", "old_column": "status",
          "new_column": "state", "writes": "both", "reads": "old"}


def admin_get(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


@requires_proxy
class UnixUpstreamTest(IntegrationCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = postgres.start_for_class(cls)
        cls.pg.query("CREATE TABLE users (id int PRIMARY KEY, name text, status text, state text)")

    def setUp(self):
        super().setUp()
        self.pg.query("TRUNCATE users")

    def socket_address(self):
        return f"{self.pg.directory}:{self.pg.port}"

    def start_unix_proxy(self, migrations, admin_port=None, over_socket=True):
        extra = {"admin": {"address": f"127.0.0.1:{admin_port}"}} if admin_port else {}
        p = MigrationProxy(self.pg, migrations, extra=extra)
        if over_socket:
            p.extra["upstream"]["address"] = self.socket_address()
        self._test_proxies.append(p)
        self.addCleanup(p.close)
        p.start()
        return p

    def through(self, p, **overrides):
        return psycopg.connect(self.pg.conninfo(host=p.host, port=p.port, sslmode="disable",
                                                connect_timeout=10, **overrides),
                               autocommit=True)

    def write_config(self, migrations):
        path = os.path.join(self.pg.directory, "commands.toml")
        with open(path, "w") as f:
            f.write(proxy.render_config({
                "listen": {"address": "127.0.0.1:0"},
                "upstream": {"address": self.socket_address(), "user": postgres.SUPERUSER,
                             "password_env": PASSWORD_ENV, "database": self.pg.dbname},
                "migration": migrations,
            }))
        return path

    def command(self, config, *args):
        os.environ[PASSWORD_ENV] = self.pg.password
        return subprocess.run([proxy.binary(), args[0], "--config", config, *args[1:]],
                              capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)

    def test_sessions_relay_and_rewrite_over_the_socket(self):
        p = self.start_unix_proxy([RENAME])
        with self.through(p) as conn:
            # A unix-socket client has no address in pg_stat_activity: the proxy's upstream
            # connection really is the socket.
            self.assertEqual(conn.execute(ON_SOCKET).fetchone()[0], True)
            conn.execute("INSERT INTO users (id, name, status) VALUES (1, 'ann', 'active')")
            conn.execute("UPDATE users SET status = 'gone' WHERE id = 1")
            self.assertEqual(conn.execute("SELECT status FROM users").fetchall(), [("gone",)])
        self.assertEqual(self.pg.query("SELECT status, state FROM users"), [("gone", "gone")])
        self.assertIn(f"upstream={self.pg.directory}/.s.PGSQL.{self.pg.port}", p.log_text())

    def test_a_reload_moves_new_sessions_to_the_socket_and_leaves_open_ones(self):
        p = self.start_unix_proxy([RENAME], over_socket=False)
        with self.through(p) as before:
            self.assertEqual(before.execute(ON_SOCKET).fetchone()[0], False)
            p.extra["upstream"]["address"] = self.socket_address()
            p.reload([RENAME])
            with self.through(p) as after:
                self.assertEqual(after.execute(ON_SOCKET).fetchone()[0], True)
                after.execute("INSERT INTO users (id, status) VALUES (2, 'new')")
            self.assertEqual(before.execute(ON_SOCKET).fetchone()[0], False)
            before.execute("INSERT INTO users (id, status) VALUES (1, 'old')")
        self.assertEqual(self.pg.query("SELECT id, status, state FROM users ORDER BY id"),
                         [(1, "old", "old"), (2, "new", "new")])

    def test_cancel_reaches_the_backend_over_the_socket(self):
        p = self.start_unix_proxy([RENAME])
        with self.through(p) as conn:
            pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            outcome = {}

            def sleep():
                try:
                    conn.execute("SELECT pg_sleep(60)")
                    outcome["error"] = None
                except psycopg.Error as e:
                    outcome["error"] = e

            worker = threading.Thread(target=sleep)
            worker.start()
            wait_until(lambda: self.pg.query("SELECT wait_event FROM pg_stat_activity WHERE "
                                             "pid = %s", (pid,)) == [("PgSleep",)],
                       10, what="the backend to sleep")
            conn.cancel()
            worker.join(timeout=20)
            self.assertFalse(worker.is_alive(), "the cancel did not end pg_sleep")
            self.assertIsInstance(outcome["error"], psycopg.errors.QueryCanceled)
            self.assertEqual(conn.execute("SELECT 1").fetchone()[0], 1)
        self.assertIn("event=cancel_forwarded", p.log_text())

    def test_readyz_checks_the_socket_file(self):
        admin_port = free_port()
        p = self.start_unix_proxy([RENAME], admin_port=admin_port)
        self.assertEqual(admin_get(admin_port, "/readyz"), (200, "ready\n"))
        status, body = admin_get(admin_port, "/config")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["config"]["upstream"]["address"],
                         f"{self.pg.directory}/.s.PGSQL.{self.pg.port}")

        missing = os.path.join(self.pg.directory, "nowhere")
        down = self.start_proxy(upstream_host=missing, upstream_port=self.pg.port)
        with self.assertRaises(psycopg.OperationalError) as caught:
            self.through(down)
        self.assertIn(f"{missing}/.s.PGSQL.{self.pg.port}", str(caught.exception))
        self.assertTrue(p.alive() and down.alive())

    def test_backfill_and_verify_connect_through_the_socket(self):
        self.pg.query("INSERT INTO users (id, status) SELECT g, 'v' || g "
                      "FROM generate_series(1, 500) g")
        config = self.write_config([RENAME])
        run = self.command(config, "backfill", "--migration", "users-status-to-state")
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        run = self.command(config, "verify", "--migration", "users-status-to-state")
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertIn("500 rows checked", run.stdout + run.stderr)
        self.assertEqual(self.pg.query("SELECT count(*) FROM users WHERE state = status"),
                         [(500,)])


@requires_proxy
class PasswordlessSocketTest(IntegrationCase):
    """pg_hba trust on the socket: Postgres admits whoever connects, which is the proxy."""

    @classmethod
    def setUpClass(cls):
        cls.pg = postgres.start_for_class(cls, hba=["local all all trust"])

    def test_a_session_the_server_admits_without_a_password_is_refused(self):
        p = self.start_proxy(upstream_host=self.pg.directory, upstream_port=self.pg.port)
        with rc.RawConnection(p.host, p.port) as conn:
            with self.assertRaises(rc.ServerError) as caught:
                conn.start(postgres.SUPERUSER, self.pg.dbname)
        self.assertEqual(caught.exception.fields["C"], "28000")
        self.assertIn("without a password", caught.exception.fields["M"])
        self.assertIn(f"{self.pg.directory}/.s.PGSQL.{self.pg.port}", caught.exception.fields["M"])
        self.assertIn("reason=no_credentials_on_unix_socket", p.log_text())
        # Over TCP the same server asks for a password (the harness's scram line), and the
        # proxy relays that as ever.
        tcp = self.start_proxy()
        with rc.RawConnection(tcp.host, tcp.port) as conn:
            seen, _ = conn.start(postgres.SUPERUSER, self.pg.dbname, password=self.pg.password)
        self.assertEqual(seen[-1], rc.AUTH_OK)
        self.assertTrue(p.alive())


if __name__ == "__main__":
    unittest.main()
