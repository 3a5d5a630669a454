"""Clients on a unix socket: `[listen] unix_socket_directory`.

Beside its TCP port, Switchyard listens on `<directory>/.s.PGSQL.<port>`, where libpq, psql
and psycopg look for a server given `host=<directory>`, so an app that reaches Postgres on a
socket can reach Switchyard the same way. Each test checks the data in Postgres, what the
socket file is (its mode, that it is gone after a stop), and how the proxy treats a file in
its way: one left by a process that died is replaced, one a server answers on is not.
"""

import os
import socket
import stat
import struct
import subprocess
import tempfile
import threading
import unittest

import psycopg

from harness import postgres
from harness.certs import CertAuthority
from harness.base import requires_proxy
from harness.util import free_port, wait_until
from test_rewrite import MigrationProxy, RewriteCase

RENAME = {"name": "users-status-to-state", "table": "public.users", "old_column": "status",
          "new_column": "state", "writes": "both", "reads": "old"}


def psql_binary():
    for candidate in ("/usr/lib/postgresql/15/bin/psql", "/usr/bin/psql"):
        if os.path.exists(candidate):
            return candidate
    return None


@requires_proxy
class UnixListenTest(RewriteCase):

    def socket_dir(self):
        directory = tempfile.mkdtemp(prefix="switchyard-sock-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", directory], check=False))
        return directory

    def unix_proxy(self, directory, port=None):
        p = MigrationProxy(self.pg, [RENAME],
                           listen_options={"unix_socket_directory": directory})
        self._test_proxies.append(p)
        self.addCleanup(p.close)
        p.start(port=port)
        return p

    def connect_over(self, directory, port):
        return psycopg.connect(host=directory, port=port, user=postgres.SUPERUSER,
                               password=self.pg.password, dbname=self.pg.dbname,
                               connect_timeout=10, autocommit=True)

    @unittest.skipUnless(psql_binary(), "needs psql")
    def test_psql_and_psycopg_reach_the_proxy_on_its_socket(self):
        directory = self.socket_dir()
        p = self.unix_proxy(directory)
        path = os.path.join(directory, f".s.PGSQL.{p.port}")
        mode = os.stat(path).st_mode
        self.assertTrue(stat.S_ISSOCK(mode))
        self.assertEqual(stat.S_IMODE(mode), 0o777, "open to local users, as Postgres' socket")

        env = dict(os.environ, PGPASSWORD=self.pg.password)
        out = subprocess.run(
            [psql_binary(), "-h", directory, "-p", str(p.port), "-U", postgres.SUPERUSER,
             "-d", self.pg.dbname, "-X", "-At", "-v", "ON_ERROR_STOP=1",
             "-c", "INSERT INTO users (id, status) VALUES (1, 'active')",
             "-c", "SELECT client_addr IS NULL FROM pg_stat_activity "
                   "WHERE pid = pg_backend_pid()"],
            env=env, capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        # The proxy's own connection to Postgres is TCP: the server sees a client address.
        self.assertEqual(out.stdout.split(), ["INSERT", "0", "1", "f"])
        with self.connect_over(directory, p.port) as conn:
            conn.execute("UPDATE users SET status = %s WHERE id = %s", ("inactive", 1))
            # libpq sends a cancel the way it connected: over the socket, to the right backend.
            def cancel_once_running():
                wait_until(lambda: self.direct(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE query = 'SELECT pg_sleep(30)' AND state = 'active'")[0][0] == 1,
                    20, what="the query to run")
                conn.cancel()

            canceller = threading.Thread(target=cancel_once_running, daemon=True)
            canceller.start()
            with self.assertRaises(psycopg.errors.QueryCanceled):
                conn.execute("SELECT pg_sleep(30)")
            canceller.join(20)
        self.assertEqual(self.rows("users"), [(1, "inactive", "inactive")])
        self.assertIn("client=[local]", p.log_text())

        # Moving the socket needs a restart: a reload says so and the socket stays.
        p.extra["listen"] = {"address": f"{p.host}:{p.port}",
                             "unix_socket_directory": self.socket_dir()}
        p.reload([RENAME])
        p.wait_for_log("event=restart_needed key=listen.unix_socket_directory", 10)
        with self.connect_over(directory, p.port) as conn:
            self.assertEqual(conn.execute("SELECT count(*) FROM users").fetchone(), (1,))

        self.assertEqual(p.stop(), 0)
        self.assertFalse(os.path.exists(path), "the socket file is removed at the stop")

    def test_an_ssl_request_on_the_socket_is_answered_no_as_by_postgres(self):
        # libpq never asks for TLS on a socket; a client that does gets 'N' there even with
        # [tls] configured, while the TCP port offers it.
        ca = CertAuthority(self.socket_dir())
        directory = self.socket_dir()
        p = MigrationProxy(self.pg, [RENAME], client_tls=ca.issue_server("switchyard"),
                           listen_options={"unix_socket_directory": directory})
        self._test_proxies.append(p)
        self.addCleanup(p.close)
        p.start()
        ssl_request = struct.pack(">ii", 8, 80877103)
        answers = []
        for family, address in ((socket.AF_UNIX, os.path.join(directory, f".s.PGSQL.{p.port}")),
                                (socket.AF_INET, (p.host, p.port))):
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.settimeout(10)
                s.connect(address)
                s.sendall(ssl_request)
                answers.append(s.recv(1))
        self.assertEqual(answers, [b"N", b"S"])

    def test_a_socket_file_left_by_a_dead_process_is_replaced(self):
        directory = self.socket_dir()
        first = self.unix_proxy(directory)
        path = os.path.join(directory, f".s.PGSQL.{first.port}")
        first.kill()  # SIGKILL: nothing removes the file
        self.assertTrue(os.path.exists(path))
        second = self.unix_proxy(directory, port=first.port)
        self.assertIn("event=stale_socket_removed", second.log_text())
        with self.connect_over(directory, second.port) as conn:
            self.assertEqual(conn.execute("SELECT 1").fetchone(), (1,))

    def expect_refused(self, directory, port, message):
        p = MigrationProxy(self.pg, [RENAME],
                           listen_options={"unix_socket_directory": directory})
        self.addCleanup(p.close)  # not among the proxies whose exit fails a test: it must exit
        with self.assertRaises(RuntimeError) as raised:
            p.start(port=port)
        self.assertIn(message, str(raised.exception))
        self.assertEqual(p.wait(10), 1)

    def test_a_file_in_the_way_stops_the_start_with_the_reason(self):
        directory = self.socket_dir()
        port = free_port()
        path = os.path.join(directory, f".s.PGSQL.{port}")
        # A server answering on the path (Postgres itself, or another proxy): left alone.
        live = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(live.close)
        live.bind(path)
        live.listen(1)
        self.expect_refused(directory, port, f"another server is listening on {path}")
        self.assertTrue(os.path.exists(path))
        live.close()
        os.unlink(path)
        # Not a socket at all.
        with open(path, "w") as f:
            f.write("not a socket")
        self.expect_refused(directory, port, "exists and is not a socket")
        with open(path) as f:
            self.assertEqual(f.read(), "not a socket")
        # No such directory.
        self.expect_refused(os.path.join(directory, "missing"), port, "cannot listen on")


if __name__ == "__main__":
    unittest.main()
