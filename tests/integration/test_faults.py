"""Fault injection: broken peers, hostile clients and operator mistakes (issue 7).

Each test ends by checking that Switchyard still serves a fresh session and that its file
descriptors and its upstream connections are back to what they were before the fault (see
Baseline). What other modules already cover is listed in README.md ("Faults and hostile
input"); these tests add the recovery and no-leak side.
"""

import asyncio
import http.client
import json
import os
import signal
import socket
import struct
import threading
import time
import unittest

import psycopg

from harness import rawclient as rc
from harness.base import IntegrationCase, requires_proxy
from harness.postgres import SUPERUSER
from harness.util import free_port, wait_until

# A role that may log in without a password from 127.0.0.1, so that 1,000 clients do not
# spend the test's time on SCRAM.
TRUSTED = "fault_trusted"
# A role limited to a few connections: the server refuses the next one with 53300.
LIMITED = "fault_limited"
LIMIT = 2


def upstream_sessions(pg, application_name=None):
    """Client backends connected over TCP (the proxy's; the harness itself uses the socket)."""
    sql = ("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
           "AND client_addr IS NOT NULL")
    if application_name is None:
        return pg.query(sql)[0][0]
    return pg.query(sql + " AND application_name = %s", (application_name,))[0][0]


def open_fds(proxy):
    return len(os.listdir(f"/proc/{proxy.process.pid}/fd"))


class Baseline:
    """File descriptors of the proxy process and upstream sessions, taken once the proxy has
    served one session (so that lazily created descriptors are already counted)."""

    def __init__(self, case, proxy):
        self.case, self.proxy = case, proxy
        case.session_works(proxy)
        wait_until(lambda: upstream_sessions(case.pg) == 0, 10,
                   what="the warm-up session's backend to end")
        self.fds = open_fds(proxy)

    def assert_restored(self, timeout=15):
        """Still serving, and nothing leaked (bounded wait: closes are asynchronous)."""
        self.case.assertTrue(self.proxy.alive(), self.proxy.log_tail())
        self.case.session_works(self.proxy)

        def restored():
            return open_fds(self.proxy) <= self.fds and upstream_sessions(self.case.pg) == 0

        try:
            wait_until(restored, timeout, interval=0.1, what="descriptors and upstream sessions")
        except TimeoutError:
            self.case.fail(f"leak: {open_fds(self.proxy)} fds (baseline {self.fds}), "
                           f"{upstream_sessions(self.case.pg)} upstream sessions (baseline 0)")


def reset(sock):
    """Closes with an RST instead of a FIN, as a crashed client or a middlebox does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


@requires_proxy
class FaultsTest(IntegrationCase):
    @classmethod
    def setUpClass(cls):
        cls.start_stack(pg_kwargs={
            "hba": [f"host all {TRUSTED} 127.0.0.1/32 trust"],
            # The server notices a closed client socket while a query runs, so a backend whose
            # proxy connection was closed goes away within the test's bounds.
            "settings": {"client_connection_check_interval": "200ms", "max_connections": 80},
        })
        cls.pg.query(f"CREATE ROLE {TRUSTED} LOGIN")
        cls.pg.create_role(LIMITED, "limited-pw")
        cls.pg.query(f"ALTER ROLE {LIMITED} CONNECTION LIMIT {LIMIT}")
        cls.pg.query("CREATE TABLE copied (id int, note text)")
        cls.pg.query("CREATE TABLE ledger (worker int, seq int, part int, "
                     "PRIMARY KEY (worker, seq, part))")
        cls.pg.query("CREATE TABLE reload_load (worker int, seq int)")

    # -- helpers ------------------------------------------------------------------------------

    def connect_to(self, proxy, autocommit=True, **overrides):
        params = dict(host=proxy.host, port=proxy.port, user=SUPERUSER, password=self.pg.password,
                      dbname=self.pg.dbname, sslmode="disable", connect_timeout=10)
        params.update(overrides)
        return psycopg.connect(autocommit=autocommit, **params)

    def session_works(self, proxy):
        with self.connect_to(proxy) as conn:
            self.assertEqual(conn.execute("SELECT 40 + 2").fetchone()[0], 42)

    def raw_to(self, proxy, application_name, timeout=10.0):
        conn = rc.RawConnection(proxy.host, proxy.port, timeout=timeout)
        conn.start(SUPERUSER, self.pg.dbname, password=self.pg.password,
                   extra={"application_name": application_name})
        return conn

    @staticmethod
    def admin_config(admin_port):
        conn = http.client.HTTPConnection("127.0.0.1", admin_port, timeout=10)
        try:
            conn.request("GET", "/config")
            response = conn.getresponse()
            assert response.status == 200, response.status
            return json.loads(response.read().decode())
        finally:
            conn.close()

    def pg_ctl(self, *args):
        self.pg._pg("pg_ctl", "-D", self.pg.datadir, "-l", self.pg.logfile, "-w", "-t", "60",
                    *args)

    # -- upstream faults ----------------------------------------------------------------------

    def test_upstream_restarted_mid_session(self):
        proxy = self.start_proxy(timeouts={"connect": "2s"})
        baseline = Baseline(self, proxy)
        in_transaction = self.connect_to(proxy, autocommit=False)
        idle = self.connect_to(proxy)
        try:
            in_transaction.execute("INSERT INTO copied VALUES (-1, 'before restart')")
            self.pg_ctl("-m", "fast", "stop")
            try:
                # While the server is down the proxy refuses promptly with 08006.
                for _ in range(5):
                    start = time.monotonic()
                    with rc.RawConnection(proxy.host, proxy.port) as conn:
                        conn.send(rc.startup({"user": SUPERUSER, "database": self.pg.dbname}))
                        messages = conn.read_until_closed(timeout=10)
                    self.assertLess(time.monotonic() - start, 4)
                    self.assertEqual([e["C"] for e in rc.errors(messages)], ["08006"], messages)
            finally:
                self.pg_ctl("start")
            # Both old sessions learn that their server went away; neither hangs.
            for conn in (in_transaction, idle):
                with self.assertRaises(psycopg.OperationalError):
                    conn.execute("SELECT 1")
                    conn.commit()
        finally:
            in_transaction.close()
            idle.close()
        self.assertEqual(self.pg.query("SELECT count(*) FROM copied WHERE id = -1"), [(0,)])
        baseline.assert_restored()

    def test_upstream_refusing_a_role_leaves_other_sessions_working(self):
        proxy = self.start_proxy()
        baseline = Baseline(self, proxy)
        with self.connect_to(proxy) as other:
            kept = [self.connect_to(proxy, user=LIMITED, password="limited-pw")
                    for _ in range(LIMIT)]
            try:
                for _ in range(10):
                    with self.assertRaises(psycopg.OperationalError) as caught:
                        self.connect_to(proxy, user=LIMITED, password="limited-pw").close()
                    # psycopg gives no SQLSTATE for a failed connect; 53300's message then.
                    self.assertIn("too many connections for role", str(caught.exception))
                    self.assertEqual(other.execute("SELECT 1").fetchone(), (1,))
                for conn in kept:
                    self.assertEqual(conn.execute("SELECT 2").fetchone(), (2,))
            finally:
                for conn in kept:
                    conn.close()
        baseline.assert_restored()

    # -- client faults ------------------------------------------------------------------------

    def test_client_reset_mid_query_releases_the_backend(self):
        proxy = self.start_proxy()
        baseline = Baseline(self, proxy)
        with self.raw_to(proxy, "other-session") as other:
            victim = self.raw_to(proxy, "reset-victim")
            victim.send(rc.query("SELECT pg_sleep(60)"))
            wait_until(lambda: self.pg.query(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'reset-victim' "
                "AND state = 'active'")[0][0] == 1, 10, what="the query to run")
            reset(victim.sock)
            wait_until(lambda: upstream_sessions(self.pg, "reset-victim") == 0, 10,
                       what="the reset client's backend to end")
            self.assertEqual(rc.rows(other.simple("SELECT 'still here'")), [["still here"]])
        baseline.assert_restored()

    def test_client_gone_mid_copy_aborts_the_copy(self):
        proxy = self.start_proxy()
        baseline = Baseline(self, proxy)
        for close in (lambda s: s.close(), reset):
            conn = self.raw_to(proxy, "copy-victim")
            conn.send(rc.query("COPY copied FROM STDIN"))
            self.assertEqual(conn.read_message()[0], b"G")
            conn.send(b"".join(rc.copy_data(f"{i}\trow {i}\n".encode()) for i in range(1000)))
            wait_until(lambda: self.pg.query(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'copy-victim' "
                "AND query LIKE 'COPY%'")[0][0] == 1, 10, what="the COPY to start")
            close(conn.sock)
            wait_until(lambda: upstream_sessions(self.pg, "copy-victim") == 0, 10,
                       what="the COPY's backend to end")
            self.assertEqual(self.pg.query("SELECT count(*) FROM copied WHERE id >= 0"), [(0,)])
        baseline.assert_restored()

    def test_hostile_headers_leak_nothing(self):
        """2 GiB and too-small lengths (each behaviour is in test_protocol_edges): 20 rounds."""
        proxy = self.start_proxy()
        baseline = Baseline(self, proxy)
        hostile = [
            struct.pack("!I", 0x80000000) + b"\0" * 4,                       # startup, 2 GiB
            rc.startup({"user": SUPERUSER, "database": self.pg.dbname}) + b"Q" +
            struct.pack("!I", 0x80000000) + b"SELECT",                       # message, 2 GiB
            rc.startup({"user": SUPERUSER, "database": self.pg.dbname}) + b"Q" +
            struct.pack("!I", 2),                                            # length < 4
        ]
        for _ in range(20):
            for data in hostile:
                with rc.RawConnection(proxy.host, proxy.port) as conn:
                    conn.send(data)
                    try:
                        conn.read_until_closed(timeout=10)
                    except rc.ProtocolError:
                        pass  # closed inside authentication: also a close
        baseline.assert_restored()

    def test_trickled_startup_is_dropped_at_the_startup_timeout(self):
        # Long enough that a normal login on a loaded machine (the check at the end) fits.
        proxy = self.start_proxy(timeouts={"startup": "3s"})
        baseline = Baseline(self, proxy)
        packet = rc.startup({"user": SUPERUSER, "database": self.pg.dbname})
        with socket.create_connection((proxy.host, proxy.port), timeout=10) as sock:
            start = time.monotonic()
            closed_at = None
            # One byte a second; each one-second receive timeout is the pace and the check.
            for byte in packet[:12]:
                try:
                    sock.sendall(bytes([byte]))
                    sock.settimeout(1.0)
                    sock.recv(4096)  # an ErrorResponse or the close: either way, dropped
                    closed_at = time.monotonic()
                    break
                except socket.timeout:
                    continue
                except (ConnectionResetError, BrokenPipeError):
                    closed_at = time.monotonic()
                    break
            self.assertIsNotNone(closed_at, "a trickling client was never dropped")
            elapsed = closed_at - start
            self.assertGreaterEqual(elapsed, 2.8, "dropped before the startup timeout")
            self.assertLess(elapsed, 6, "not dropped at the startup timeout")
        baseline.assert_restored()

    def test_a_thousand_concurrent_connects(self):
        # The startup and connect timeouts (10 s by default) are answers too (08006), but not
        # what this checks: on a slow machine with the sanitized build, some of the thousand
        # startups took longer than 10 s, and a thousand SYNs overflow Postgres's listen queue
        # (about 2 x max_connections), where a dropped SYN is sent again after 1, 2, 4, 8 s.
        # The kernel also resets some of those connections before Postgres sees them (SYN
        # cookies); the proxy connects those again (47-73 of a thousand, here). Every client
        # must get the server's answer or its 53300.
        proxy = self.start_proxy(timeouts={"connect": "40s", "startup": "60s"})
        baseline = Baseline(self, proxy)
        with self.connect_to(proxy) as other:
            outcomes = asyncio.run(self.thousand_clients(proxy, 1000))
            self.assertEqual(other.execute("SELECT 1").fetchone(), (1,))
        counts = {}
        for outcome in outcomes:
            code = outcome.split(" ", 1)[0] if outcome[:1].isdigit() else outcome
            counts[code] = counts.get(code, 0) + 1
        # The server takes only max_connections; the rest get its 53300 relayed. Nothing hangs
        # or is cut off without an answer.
        others = sorted({o for o in outcomes if o != "ok" and not o.startswith("53300")})
        self.assertEqual(set(counts) - {"ok", "53300"}, set(), (counts, others[:5]))
        self.assertGreaterEqual(counts.get("ok", 0), 50, counts)
        baseline.assert_restored(timeout=30)

    @staticmethod
    async def one_client(host, port, database, start_gate):
        await start_gate.wait()
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 30)
        try:
            writer.write(rc.startup({"user": TRUSTED, "database": database}))
            while True:
                header = await asyncio.wait_for(reader.readexactly(5), 60)
                kind, length = header[:1], struct.unpack("!i", header[1:])[0]
                payload = await asyncio.wait_for(reader.readexactly(length - 4), 60)
                if kind == b"E":
                    fields = rc.parse_fields(payload)
                    return f"{fields.get('C', '?')} {fields.get('M', '')}"
                if kind == b"Z":
                    break
            # Terminate only after the answer: see test_pipelined_terminate_still_gets_answers.
            writer.write(rc.query("SELECT 1"))
            row = None
            while True:
                header = await asyncio.wait_for(reader.readexactly(5), 60)
                kind, length = header[:1], struct.unpack("!i", header[1:])[0]
                payload = await asyncio.wait_for(reader.readexactly(length - 4), 60)
                if kind == b"D":
                    row = rc.parse_data_row(payload)
                if kind == b"E":
                    return "query " + rc.parse_fields(payload).get("C", "?")
                if kind == b"Z":
                    writer.write(rc.terminate())
                    await writer.drain()
                    return "ok" if row == ["1"] else f"wrong row {row}"
        except asyncio.IncompleteReadError:
            return "closed without an answer"
        except asyncio.TimeoutError:
            return "timeout"
        except OSError as e:
            return f"socket error {e.errno}"
        finally:
            writer.close()

    async def thousand_clients(self, proxy, count):
        gate = asyncio.Event()
        tasks = [asyncio.create_task(self.one_client(proxy.host, proxy.port, self.pg.dbname, gate))
                 for _ in range(count)]
        gate.set()
        return await asyncio.wait_for(asyncio.gather(*tasks), 120)

    def test_pipelined_terminate_still_gets_answers(self):
        """Query and Terminate sent in one write: Postgres answers the Query before it exits
        (a client may close without waiting, as libpq's PQfinish after PQsendQuery does), and
        so must Switchyard."""
        proxy = self.start_proxy()
        with rc.RawConnection(proxy.host, proxy.port) as conn:
            conn.start(TRUSTED, self.pg.dbname)
            conn.send(rc.query("SELECT 'answered'") + rc.terminate())
            messages = conn.read_until_closed(timeout=10)
        self.assertEqual(rc.rows(messages), [["answered"]], messages)

    # -- operator faults ----------------------------------------------------------------------

    def test_invalid_config_reload_during_load_changes_nothing(self):
        admin_port = free_port()
        proxy = self.start_proxy(extra={"admin": {"address": f"127.0.0.1:{admin_port}"}})
        baseline = Baseline(self, proxy)
        with open(proxy.config_path) as f:
            good = f.read()
        generation = self.admin_config(admin_port)["generation"]
        errors, done = [], []
        stop = threading.Event()

        def worker(n):
            try:
                with self.connect_to(proxy, autocommit=False) as conn:
                    for seq in range(400):
                        if stop.is_set():
                            break
                        conn.execute("INSERT INTO reload_load VALUES (%s, %s)", (n, seq))
                        conn.commit()
                        done.append(1)
            except Exception as e:  # noqa: BLE001 - every failure is the test's finding
                errors.append(repr(e))

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        try:
            wait_until(lambda: len(done) >= 20, 30, what="the load to run")
            bad_files = [
                good.replace("[listen]", "[listen\n"),                       # not TOML
                good + "\n[upstream]\naddress = \"127.0.0.1:1\"\n",           # duplicate table
                good.replace('tls = "disable"', 'tls = "sometimes"'),          # bad value
                good + "\n[[migration]]\nname = \"half\"\n",                 # incomplete
                # A device as the password file: once read until memory ran out (fixed).
                good.replace("[upstream]\n", "[upstream]\npassword_file = \"/dev/zero\"\n"),
            ]
            for i, text in enumerate(bad_files):
                with open(proxy.config_path, "w") as f:
                    f.write(text)
                proxy.signal(signal.SIGHUP)
                wait_until(lambda: proxy.log_text().count("event=reload_failed") > i, 15,
                           what=f"bad file {i} to be refused")
            marker = len(done)
            wait_until(lambda: len(done) >= marker + 20, 30, what="the load to go on")
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=60)
            with open(proxy.config_path, "w") as f:
                f.write(good)
        self.assertEqual(errors, [])
        self.assertEqual(self.pg.query("SELECT count(*) FROM reload_load")[0][0], len(done))
        # The running config is untouched: same generation, and it still serves (below).
        page = self.admin_config(admin_port)
        self.assertEqual(page["generation"], generation)
        self.assertEqual(page["last_reload"]["result"], "failed")
        baseline.assert_restored()

    def test_sigterm_during_load_leaves_no_transaction_half_applied(self):
        proxy = self.start_proxy(timeouts={"drain": "10s"})
        Baseline(self, proxy)
        committed, failed = [], []
        started = threading.Event()

        def worker(n):
            try:
                conn = self.connect_to(proxy, autocommit=False)
            except psycopg.OperationalError:
                return
            with conn:
                for seq in range(10_000):
                    try:
                        conn.execute("INSERT INTO ledger VALUES (%s, %s, 1)", (n, seq))
                        started.set()
                        # Keeps the transaction open a little, so SIGTERM finds some open.
                        conn.execute("SELECT pg_sleep(0.005)")
                        conn.execute("INSERT INTO ledger VALUES (%s, %s, 2)", (n, seq))
                        conn.commit()
                        committed.append((n, seq))
                    except psycopg.Error:
                        failed.append((n, seq))
                        return

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        try:
            wait_until(lambda: len(committed) >= 30, 30, what="the load to run")
            proxy.signal(signal.SIGTERM)
            status = proxy.wait(timeout=30)
        finally:
            for t in threads:
                t.join(timeout=60)
        self.assertEqual(status, 0, proxy.log_tail())
        self.assertTrue(all(not t.is_alive() for t in threads), "a client hung after SIGTERM")
        parts = dict(((w, s), c) for w, s, c in self.pg.query(
            "SELECT worker, seq, count(*) FROM ledger GROUP BY worker, seq"))
        self.assertEqual({k: v for k, v in parts.items() if v != 2}, {}, "half-applied")
        for key in committed:
            self.assertEqual(parts.get(key), 2, f"acknowledged commit {key} lost")
        wait_until(lambda: upstream_sessions(self.pg) == 0, 10,
                   what="every upstream session to end")


if __name__ == "__main__":
    unittest.main()
