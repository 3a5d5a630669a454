"""Upstream behaviour Postgres will not produce on demand, from the scripted fake backend in
tests/support: odd startup replies, malformed and oversized messages, unsolicited messages,
and the bytes that reach the server for authentication and cancel."""

import http.client
import os
import struct
import sys
import threading
import time
import unittest

from harness import rawclient as rc
from harness.base import IntegrationCase, requires_proxy
from harness.util import free_port

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import fake_backend as fb  # noqa: E402  (found through the path set just above)

FAKE_PID = 777
FAKE_KEY = 0x1234567


@requires_proxy
class UpstreamEdgesTest(IntegrationCase):
    def with_fake(self, script, **proxy_kwargs):
        fake = fb.FakeBackend(script)
        fake.start()
        self.addCleanup(self.assert_script_ok, fake)
        self.addCleanup(fake.stop)
        proxy = self.start_proxy(fake.port, **proxy_kwargs)
        return fake, proxy

    def assert_script_ok(self, fake):
        self.assertEqual(fake.errors, [], "the fake backend's script failed")

    def connect_raw(self, proxy):
        return rc.RawConnection(proxy.host, proxy.port)

    @staticmethod
    def counter(admin_port, name):
        """One unlabelled counter from the proxy's /metrics."""
        conn = http.client.HTTPConnection("127.0.0.1", admin_port, timeout=10)
        try:
            conn.request("GET", "/metrics")
            body = conn.getresponse().read().decode()
        finally:
            conn.close()
        for line in body.splitlines():
            if line.startswith(name + " "):
                return int(float(line.split()[1]))
        raise AssertionError(f"{name} not in /metrics")

    @staticmethod
    def answer_one_query(s, answer):
        """The fake server's side once the startup packet is read: a session that answers one
        query with one row, then waits for the close."""
        s.handshake(pid=FAKE_PID, key=FAKE_KEY)
        s.read_message()
        s.send(fb.row_description(["answer"]) + fb.data_row([answer]) +
               fb.command_complete("SELECT 1") + fb.ready_for_query())
        s.wait_closed(10)

    def startup_answer(self, proxy):
        """What a client that sends its startup packet hears until the proxy closes."""
        with self.connect_raw(proxy) as conn:
            conn.send(rc.startup({"user": "alice", "database": "db"}))
            return conn.read_until_closed()

    def test_upstream_close_during_startup_gets_08006(self):
        startups = []

        def script(s):
            startups.append(s.read_startup())

        _, proxy = self.with_fake(script)
        messages = self.startup_answer(proxy)
        self.assertEqual(rc.kinds(messages), b"E", messages)
        self.assertEqual(rc.errors(messages)[0]["C"], "08006")
        # Closed before its first message each time: connected three times, then given up.
        self.assertEqual(len(startups), 3)
        self.assertEqual(proxy.log_text().count("event=upstream_reconnect "), 2)
        self.assertTrue(proxy.alive())

    def test_upstream_lost_before_its_first_message_is_connected_again(self):
        # What a kernel does to connections that overflowed the server's listen queue: the
        # startup packet is taken, and the connection closed without a word.
        startups = []

        def script(s):
            startups.append(s.read_startup().params)
            if len(startups) < 3:
                return
            self.answer_one_query(s, "third time")

        admin_port = free_port()
        fake, proxy = self.with_fake(script, extra={"admin": {"address": f"127.0.0.1:{admin_port}"}})
        with self.connect_raw(proxy) as conn:
            conn.start("alice", "db", extra={"application_name": "retried"})
            self.assertEqual(rc.rows(conn.simple("SELECT 1")), [["third time"]])
        fake.join()
        # The same startup each time, and the client saw none of the lost ones.
        self.assertEqual([p.get("application_name") for p in startups], ["retried"] * 3)
        self.assertEqual(proxy.log_text().count("event=upstream_reconnect "), 2)
        self.assertEqual(self.counter(admin_port, "switchyard_upstream_reconnects_total"), 2)
        self.assertEqual(self.counter(admin_port, "switchyard_upstream_connect_failures_total"), 0)

    def test_upstream_that_answered_is_not_connected_again(self):
        # One message from the server, then a close: the client was told something, so that
        # connection's end is the client's answer (08006), not a reason to start over.
        startups = []

        def script(s):
            startups.append(s.read_startup())
            s.send(fb.parameter_status("server_version", "15.99 (fake)"))

        _, proxy = self.with_fake(script)
        messages = self.startup_answer(proxy)
        self.assertEqual(rc.kinds(messages), b"SE", messages)
        self.assertEqual(rc.errors(messages)[0]["C"], "08006")
        self.assertEqual(len(startups), 1)

    def test_upstream_startup_error_is_relayed_verbatim(self):
        def script(s):
            s.read_startup()
            s.send(fb.error_response("53300", "sorry, too many clients already", "FATAL"))

        _, proxy = self.with_fake(script)
        with self.connect_raw(proxy) as conn:
            with self.assertRaises(rc.ServerError) as caught:
                conn.start("alice", "db")
        self.assertEqual(caught.exception.fields["C"], "53300")
        self.assertEqual(caught.exception.fields["M"], "sorry, too many clients already")

    def test_startup_and_password_reach_the_server_byte_for_byte(self):
        seen = {}

        def script(s):
            startup = s.read_startup()
            seen["code"], seen["params"] = startup.code, startup.params
            s.send(fb.auth_cleartext())
            seen["password"] = s.read_message()
            s.handshake(pid=FAKE_PID, key=FAKE_KEY)
            seen["query"] = s.read_message()
            s.send(fb.row_description(["answer"]) + fb.data_row(["from the fake"]) +
                   fb.command_complete("SELECT 1") + fb.ready_for_query())
            seen["terminate"] = s.read_message()

        fake, proxy = self.with_fake(script)
        with self.connect_raw(proxy) as conn:
            auth, _ = conn.start("alice", "db", password="s3cr3t p@ss",
                                 extra={"application_name": "edge", "options": "-c a=b"})
            self.assertEqual(auth, [rc.AUTH_CLEARTEXT, rc.AUTH_OK])
            self.assertEqual(conn.parameters["server_version"], "15.99 (fake)")
            self.assertEqual(rc.rows(conn.simple("SELECT 'x'")), [["from the fake"]])
            conn.send(rc.terminate())
            self.assertEqual(conn.read_until_closed(), [])
        fake.join()
        self.assertEqual(seen["code"], rc.PROTOCOL_3_0)
        self.assertEqual(seen["params"].get("user"), "alice")
        self.assertEqual(seen["params"].get("database"), "db")
        self.assertEqual(seen["params"].get("application_name"), "edge")
        self.assertEqual(seen["params"].get("options"), "-c a=b")
        self.assertEqual(seen["password"], (b"p", b"s3cr3t p@ss\0"))
        self.assertEqual(seen["query"], (b"Q", b"SELECT 'x'\0"))
        self.assertEqual(seen["terminate"], (b"X", b""))

    def test_negotiate_protocol_version_is_relayed(self):
        seen = {}

        def script(s):
            startup = s.read_startup()
            seen["code"], seen["params"] = startup.code, startup.params
            s.send(fb.negotiate_protocol_version(0, ["_pq_.fancy"]))
            s.handshake()
            s.wait_closed(10)

        fake, proxy = self.with_fake(script)
        with self.connect_raw(proxy) as conn:
            auth, _ = conn.start("alice", "db", extra={"_pq_.fancy": "yes"},
                                 version=(3 << 16) | 1)
        fake.join()
        self.assertEqual(auth[0][0], "negotiate")
        self.assertEqual(auth[0][1], struct.pack("!ii", 0, 1) + b"_pq_.fancy\0")
        self.assertEqual(seen["code"], (3 << 16) | 1)
        self.assertEqual(seen["params"].get("_pq_.fancy"), "yes")

    def test_unsolicited_messages_reach_an_idle_client(self):
        client_idle = threading.Event()

        def script(s):
            s.read_startup()
            s.handshake()
            if not client_idle.wait(10):
                raise TimeoutError("client never became idle")
            s.send(fb.notice_response("server says hi") + fb.notification(99, "chan", "data") +
                   fb.parameter_status("application_name", "renamed"))
            s.wait_closed(10)

        _, proxy = self.with_fake(script)
        with self.connect_raw(proxy) as conn:
            conn.start("alice", "db")
            client_idle.set()
            got = [conn.read_message(timeout=5) for _ in range(3)]
        self.assertEqual(rc.kinds(got), b"NAS")
        self.assertEqual(rc.parse_fields(got[0][1])["M"], "server says hi")
        self.assertEqual(got[1][1], struct.pack("!i", 99) + b"chan\0data\0")

    def test_cancel_request_reaches_the_server_with_its_own_key(self):
        cancels = []
        cancelled = threading.Event()

        def script(s):
            startup = s.read_startup()
            if startup.is_cancel:
                cancels.append((startup.pid, startup.key))
                cancelled.set()
                return
            s.handshake(pid=FAKE_PID, key=FAKE_KEY)
            s.read_message()
            if not cancelled.wait(10):
                raise TimeoutError("no CancelRequest arrived")
            s.send(fb.error_response("57014", "canceling statement due to user request") +
                   fb.ready_for_query())
            s.wait_closed(10)

        fake, proxy = self.with_fake(script)
        with self.connect_raw(proxy) as conn:
            conn.start("alice", "db")
            conn.send(rc.query("SELECT pg_sleep(60)"))
            with self.connect_raw(proxy) as canceller:
                canceller.send(rc.cancel_request(conn.backend_pid, conn.backend_key))
                canceller.read_until_closed(timeout=5)
            messages = conn.read_until_ready(timeout=10)
        fake.join()
        self.assertEqual(rc.errors(messages)[0]["C"], "57014")
        self.assertEqual(cancels, [(FAKE_PID, FAKE_KEY)])

    def test_cancel_request_with_an_unknown_key_reaches_no_server(self):
        cancels = []

        def script(s):
            startup = s.read_startup()
            if startup.is_cancel:
                cancels.append((startup.pid, startup.key))
                return
            s.handshake(pid=FAKE_PID, key=FAKE_KEY)
            s.wait_closed(10)

        fake, proxy = self.with_fake(script)
        with self.connect_raw(proxy) as conn:
            conn.start("alice", "db")
            with self.connect_raw(proxy) as canceller:
                canceller.send(rc.cancel_request(conn.backend_pid ^ 1, conn.backend_key ^ 1))
                self.assertEqual(canceller.read_until_closed(timeout=5), [])
        fake.join()
        self.assertEqual(cancels, [])
        self.assertEqual(fake.connections, 1)

    def misbehave_after_query(self, bad_bytes):
        """Session 1 gets bad_bytes in answer to its query; later sessions are served well."""
        count = {"n": 0}
        lock = threading.Lock()
        upstream_closed = {}

        def script(s):
            s.read_startup()
            # Counted before the handshake: the victim's startup is done before the bystander
            # connects, but after its handshake this thread may run after the bystander's.
            with lock:
                count["n"] += 1
                first = count["n"] == 1
            s.handshake()
            query = s.read_message()
            if query is None:
                return
            if first:
                s.send(bad_bytes)
                upstream_closed["first"] = s.wait_closed(10)
                return
            s.send(fb.row_description(["v"]) + fb.data_row(["ok"]) +
                   fb.command_complete("SELECT 1") + fb.ready_for_query())
            s.wait_closed(10)

        fake, proxy = self.with_fake(script)
        with self.connect_raw(proxy) as victim, self.connect_raw(proxy) as bystander:
            victim.start("alice", "db")
            bystander.start("bob", "db")
            start = time.monotonic()
            victim.send(rc.query("SELECT 1"))
            messages = victim.read_until_closed(timeout=10)
            self.assertLess(time.monotonic() - start, 5)
            self.assertEqual(rc.kinds(messages), b"E", messages)
            self.assertIn(rc.errors(messages)[0]["C"], ("08P01", "08006"))
            self.assertEqual(rc.rows(bystander.simple("SELECT 1")), [["ok"]])
        fake.join()
        self.assertTrue(upstream_closed.get("first"), "switchyard kept the upstream open")
        self.assertTrue(proxy.alive())

    def test_upstream_message_length_below_4_closes_only_that_session(self):
        self.misbehave_after_query(b"T" + struct.pack("!i", 2))

    def test_upstream_message_length_of_2_gib_closes_only_that_session_promptly(self):
        self.misbehave_after_query(b"D" + struct.pack("!i", 0x7FFFFFFF) + b"\0\1")

    def test_unexpected_answer_to_ssl_request_from_upstream(self):
        def script(s):
            s.read_startup(ssl_answer=b"X")

        _, proxy = self.with_fake(script, upstream_tls="prefer")
        messages = self.startup_answer(proxy)
        self.assertEqual(rc.kinds(messages), b"E", messages)
        self.assertEqual(rc.errors(messages)[0]["C"], "08006")
        self.assertTrue(proxy.alive())

    def test_upstream_lost_before_answering_ssl_request_is_connected_again(self):
        # The same kernel reset, with TLS to the upstream: the SSLRequest is the first thing
        # sent, and the connection ends before its answer.
        connections = []

        def script(s):
            connections.append(1)
            if len(connections) < 3:
                s.read_startup(ssl_answer=b"")  # taken, not answered; closed on return
                return
            s.read_startup()
            self.answer_one_query(s, "after TLS")

        admin_port = free_port()
        fake, proxy = self.with_fake(script, upstream_tls="prefer",
                                     extra={"admin": {"address": f"127.0.0.1:{admin_port}"}})
        with self.connect_raw(proxy) as conn:
            conn.start("alice", "db")
            self.assertEqual(rc.rows(conn.simple("SELECT 1")), [["after TLS"]])
        fake.join()
        self.assertEqual(len(connections), 3)
        self.assertEqual(proxy.log_text().count("event=upstream_reconnect "), 2)
        self.assertIn('reason="upstream closed before answering SSLRequest"', proxy.log_text())
        self.assertEqual(self.counter(admin_port, "switchyard_upstream_reconnects_total"), 2)

    def test_upstream_that_never_answers_ssl_request_gets_08006_after_three_tries(self):
        connections = []

        def script(s):
            connections.append(1)
            s.read_startup(ssl_answer=b"")

        _, proxy = self.with_fake(script, upstream_tls="prefer")
        messages = self.startup_answer(proxy)
        errors = rc.errors(messages)
        self.assertEqual([e["C"] for e in errors], ["08006"], messages)
        self.assertIn("closed the connection during TLS negotiation", errors[0]["M"])
        self.assertEqual(len(connections), 3)
        self.assertTrue(proxy.alive())

    def test_refused_upstream_is_named_as_refused_promptly(self):
        # Nothing listens on the port: the client hears why at once, not a timeout.
        proxy = self.start_proxy(free_port(), timeouts={"connect": "5s"})
        start = time.monotonic()
        messages = self.startup_answer(proxy)
        self.assertLess(time.monotonic() - start, 3)
        errors = rc.errors(messages)
        self.assertEqual([e["C"] for e in errors], ["08006"], messages)
        self.assertIn("could not connect to upstream", errors[0]["M"])
        self.assertIn("refused", errors[0]["M"])
        self.assertTrue(proxy.alive())

    def test_silent_upstream_ends_at_the_connect_timeout(self):
        # The server takes the connection and never answers SSLRequest: the connect timeout
        # (1 s), not the longer startup timeout, ends the attempt, and says so.
        closed = {}

        def script(s):
            # The SSLRequest arrives and stays unanswered until the proxy gives up and closes.
            closed["in time"] = s.wait_closed(10)

        fake, proxy = self.with_fake(script, upstream_tls="prefer",
                                     timeouts={"connect": "1s", "startup": "20s"})
        start = time.monotonic()
        with self.connect_raw(proxy) as conn:
            conn.send(rc.startup({"user": "alice", "database": "db"}))
            messages = conn.read_until_closed(timeout=25)
        elapsed = time.monotonic() - start
        self.assertGreaterEqual(elapsed, 0.9)
        self.assertLess(elapsed, 10)
        errors = rc.errors(messages)
        self.assertEqual([e["C"] for e in errors], ["08006"], messages)
        self.assertIn("timed out connecting to upstream", errors[0]["M"])
        self.assertIn("after 1000 ms", errors[0]["M"])
        self.assertTrue(proxy.alive())
        fake.join()
        self.assertEqual(closed, {"in time": True})


if __name__ == "__main__":
    unittest.main()
