"""Wire-protocol behaviour checked byte by byte with the raw client.

Each malformed-input test also checks that a session opened before the bad one still works,
so a protocol violation closes that session only.
"""

import struct
import time
import unittest

from harness import rawclient as rc
from harness.base import IntegrationCase, requires_proxy
from harness.postgres import SUPERUSER
from harness.util import wait_until
from test_rewrite import RENAME, RewriteCase, migration

PROTOCOL_3_1 = (3 << 16) | 1


class ProtocolEdgesTest(IntegrationCase):
    @classmethod
    def setUpClass(cls):
        cls.start_stack(pg_kwargs={"auth": "md5"})

    # -- startup -------------------------------------------------------------------------

    def test_newer_minor_version_and_pq_options_are_negotiated_by_the_server(self):
        with self.raw() as conn:
            auth, _ = conn.start(SUPERUSER, self.pg.dbname, password=self.pg.password,
                                 extra={"_pq_.switchyard_probe": "on"}, version=PROTOCOL_3_1)
            negotiations = [a for a in auth if isinstance(a, tuple) and a[0] == "negotiate"]
            self.assertEqual(len(negotiations), 1, f"no NegotiateProtocolVersion: {auth}")
            payload = negotiations[0][1]
            newest, count = struct.unpack_from("!ii", payload, 0)
            self.assertEqual(newest & 0xFFFF, 0, "server supports minor version 0")
            self.assertEqual(count, 1)
            self.assertEqual(rc.cstring(payload[8:]), "_pq_.switchyard_probe")
            self.assertEqual(rc.rows(conn.simple("SELECT 'negotiated'")), [["negotiated"]])

    def test_startup_parameters_are_relayed(self):
        with self.raw() as conn:
            conn.start(SUPERUSER, self.pg.dbname, password=self.pg.password,
                       extra={"application_name": "raw-edge", "options": "-c work_mem=7MB"})
            self.assertEqual(conn.parameters.get("application_name"), "raw-edge")
            self.assertIsNotNone(conn.backend_pid)
            self.assertEqual(rc.rows(conn.simple("SHOW work_mem")), [["7MB"]])

    def test_ssl_request_without_client_tls_is_answered_n_and_startup_continues(self):
        with self.raw() as conn:
            self.assertEqual(conn.negotiate_tls(), b"N")
            conn.start(SUPERUSER, self.pg.dbname, password=self.pg.password)
            self.assertEqual(rc.rows(conn.simple("SELECT 1")), [["1"]])

    @requires_proxy
    def test_gssenc_request_is_answered_n_and_startup_continues(self):
        with self.raw() as conn:
            conn.send(rc.gssenc_request())
            self.assertEqual(conn.read_byte(), b"N")
            conn.start(SUPERUSER, self.pg.dbname, password=self.pg.password)
            self.assertEqual(rc.rows(conn.simple("SELECT 2")), [["2"]])

    def test_wrong_password_is_relayed_as_28p01(self):
        with self.raw() as conn:
            with self.assertRaises(rc.ServerError) as caught:
                conn.start(SUPERUSER, self.pg.dbname, password="not-the-password")
            self.assertEqual(caught.exception.sqlstate, "28P01")
        self.assert_endpoint_works()

    # -- queries -------------------------------------------------------------------------

    def test_simple_query_with_several_statements_stops_at_the_first_error(self):
        with self.raw_session() as conn:
            messages = conn.simple("CREATE TEMP TABLE m (v int); INSERT INTO m VALUES (1), (2);"
                                   " SELECT sum(v) FROM m; SELECT 1 / 0; INSERT INTO m VALUES (3)")
            self.assertEqual(rc.kinds(messages), b"CCTDCEZ")
            self.assertEqual(rc.rows(messages), [["3"]])
            self.assertEqual(rc.errors(messages)[0]["C"], "22012")
            # The failed Query was one implicit transaction: the temp table is gone too.
            after = conn.simple("SELECT count(*) FROM pg_class WHERE relname = 'm'")
            self.assertEqual(rc.rows(after), [["0"]])

    def test_empty_query(self):
        with self.raw_session() as conn:
            self.assertEqual(rc.kinds(conn.simple("")), b"IZ")

    def test_extended_protocol_pipelined_with_an_error_skips_to_sync(self):
        with self.raw_session() as conn:
            conn.send(rc.parse("SELECT $1::int * 2", param_types=(23,)) + rc.bind(["21"]) +
                      rc.describe(b"P") + rc.execute() +
                      rc.parse("SELECT 1 / (random() * 0)::int") + rc.bind() + rc.execute() +
                      rc.parse("SELECT 'skipped'") + rc.bind() + rc.execute() +
                      rc.sync() +
                      rc.parse("SELECT 'after sync'") + rc.bind() + rc.execute() + rc.sync())
            first = conn.read_until_ready()
            self.assertEqual(rc.kinds(first), b"12TDC12EZ")
            self.assertEqual(rc.rows(first), [["42"]])
            self.assertEqual(rc.errors(first)[0]["C"], "22012")
            second = conn.read_until_ready()
            self.assertEqual(rc.kinds(second), b"12DCZ")
            self.assertEqual(rc.rows(second), [["after sync"]])

    def test_named_statements_and_flush(self):
        with self.raw_session() as conn:
            conn.send(rc.parse("SELECT $1::text || '!'", name="shout") +
                      rc.describe(b"S", "shout") + rc.flush())
            got = [conn.read_message() for _ in range(3)]
            self.assertEqual(rc.kinds(got), b"1tT")
            for word in ("a", "b", "c"):
                conn.send(rc.bind([word], statement="shout") + rc.execute())
            conn.send(rc.close(b"S", "shout") + rc.sync())
            messages = conn.read_until_ready()
            self.assertEqual(rc.rows(messages), [["a!"], ["b!"], ["c!"]])
            self.assertEqual(rc.kinds(messages)[-2:], b"3Z")
            conn.send(rc.bind(["x"], statement="shout") + rc.execute() + rc.sync())
            self.assertEqual(rc.errors(conn.read_until_ready())[0]["C"], "26000")

    def test_portal_row_limit_suspends_and_resumes(self):
        with self.raw_session() as conn:
            conn.send(rc.parse("SELECT g FROM generate_series(1, 5) g") + rc.bind() +
                      rc.execute(max_rows=2) + rc.execute(max_rows=2) + rc.execute(max_rows=2) +
                      rc.sync())
            messages = conn.read_until_ready()
            self.assertEqual(rc.kinds(messages), b"12DDsDDsDCZ")
            self.assertEqual(rc.rows(messages), [[str(i)] for i in range(1, 6)])

    def test_named_portal_survives_sync_inside_a_transaction(self):
        with self.raw_session() as conn:
            self.assertEqual(rc.kinds(conn.simple("BEGIN")), b"CZ")
            conn.send(rc.parse("SELECT g FROM generate_series(1, 4) g") +
                      rc.bind(portal="cur") + rc.execute("cur", 3) + rc.sync())
            first = conn.read_until_ready()
            self.assertEqual(rc.kinds(first), b"12DDDsZ")
            self.assertEqual(first[-1][1], b"T", "ReadyForQuery says in transaction")
            conn.send(rc.execute("cur", 3) + rc.sync())
            second = conn.read_until_ready()
            self.assertEqual(rc.kinds(second), b"DCZ")
            self.assertEqual(rc.rows(second), [["4"]])
            self.assertEqual(conn.simple("COMMIT")[-1][1], b"I")

    def test_copy_in_and_out(self):
        with self.raw_session() as conn:
            conn.simple("CREATE TABLE raw_copy (id int, note text)")
            conn.send(rc.query("COPY raw_copy FROM STDIN"))
            kind, _ = conn.read_message()
            self.assertEqual(kind, b"G")
            for chunk in range(10):
                data = "".join(f"{chunk * 100 + i}\tn{chunk * 100 + i}\n" for i in range(100))
                conn.send(rc.copy_data(data.encode()))
            conn.send(rc.copy_done())
            done = conn.read_until_ready()
            self.assertEqual(rc.kinds(done), b"CZ")
            self.assertEqual(rc.cstring(done[0][1]), "COPY 1000")
            self.assertEqual(self.pg.query("SELECT count(*), sum(id) FROM raw_copy"),
                             [(1000, sum(range(1000)))])

            out = conn.simple("COPY (SELECT id, note FROM raw_copy WHERE id < 3 ORDER BY id)"
                              " TO STDOUT")
            self.assertEqual(rc.kinds(out), b"HdddcCZ")
            self.assertEqual([p for k, p in out if k == b"d"],
                             [b"0\tn0\n", b"1\tn1\n", b"2\tn2\n"])

    def test_copy_fail_from_client_aborts_the_copy(self):
        with self.raw_session() as conn:
            conn.simple("CREATE TEMP TABLE copy_fail (id int)")
            conn.send(rc.query("COPY copy_fail FROM STDIN"))
            self.assertEqual(conn.read_message()[0], b"G")
            conn.send(rc.copy_data(b"1\n") + rc.message(b"f", b"client gave up\0"))
            messages = conn.read_until_ready()
            self.assertEqual(rc.errors(messages)[0]["C"], "57014")
            self.assertEqual(rc.rows(conn.simple("SELECT count(*) FROM copy_fail")), [["0"]])

    def test_terminate_closes_the_session_and_its_backend(self):
        conn = self.raw_session()
        with conn:
            pid = int(rc.rows(conn.simple("SELECT pg_backend_pid()"))[0][0])
            conn.send(rc.terminate())
            self.assertEqual(conn.read_until_closed(timeout=5), [])
        wait_until(lambda: self.pg.query("SELECT count(*) FROM pg_stat_activity WHERE pid = %s",
                                         (pid,))[0][0] == 0, 10, what="backend to exit")

    def test_terminate_pipelined_behind_a_request_closes_promptly(self):
        # The server's last answer and its close can arrive together; the proxy used to wait
        # for an end of file it had already been told of, closing the client only after
        # [timeouts] connect (5 s) in about half the runs.
        requests = (rc.query("SELECT 1"), rc.query("SELECT pg_sleep(0.05)"),
                    rc.query("SELECT 1") + rc.query("SELECT 2"),
                    rc.parse("SELECT 1") + rc.bind() + rc.execute() + rc.sync())
        for round_ in range(20):
            with self.subTest(round=round_), self.raw_session() as conn:
                conn.send(requests[round_ % len(requests)] + rc.terminate())
                started = time.monotonic()
                messages = conn.read_until_closed(timeout=2)
                self.assertEqual(rc.kinds(messages)[-1:], b"Z")
                self.assertLess(time.monotonic() - started, 2)

    def test_startup_timeout_during_authentication_blames_the_client(self):
        # The server asked for a password and the client sent part of its answer: the client
        # is what the proxy waited for, not the upstream.
        proxy = self.start_proxy(timeouts={"startup": "1s"})
        with rc.RawConnection(proxy.host, proxy.port) as conn:
            conn.send(rc.startup({"user": SUPERUSER, "database": self.pg.dbname}))
            kind, _ = conn.read_message()
            self.assertEqual(kind, b"R")
            conn.send(b"p" + struct.pack("!i", 40) + b"md5")
            fields = rc.errors(conn.read_until_closed(timeout=5))[0]
        self.assertEqual(fields["C"], "08006")
        self.assertIn("waiting for the client", fields["M"])
        self.assertNotIn("upstream", fields["M"])
        self.assertRegex(proxy.log_text(), r'event=startup_timeout .*waiting_for="?client')

    # -- cancel --------------------------------------------------------------------------

    def test_cancel_request_with_the_right_key_cancels_and_a_wrong_key_does_not(self):
        with self.raw_session() as victim:
            pid = int(rc.rows(victim.simple("SELECT pg_backend_pid()"))[0][0])
            victim.send(rc.query("SELECT pg_sleep(30)"))
            wait_until(lambda: self.pg.query(
                "SELECT state FROM pg_stat_activity WHERE pid = %s", (pid,)) == [("active",)],
                10, what="the sleep to start")
            with self.raw() as wrong:
                wrong.send(rc.cancel_request(victim.backend_pid, victim.backend_key ^ 0x5A5A))
                self.assertEqual(wrong.read_until_closed(timeout=5), [])
            with self.assertRaises(TimeoutError):
                victim.read_message(timeout=0.5)
            start = time.monotonic()
            with self.raw() as right:
                right.send(rc.cancel_request(victim.backend_pid, victim.backend_key))
                self.assertEqual(right.read_until_closed(timeout=5), [])
            messages = victim.read_until_ready(timeout=10)
            self.assertLess(time.monotonic() - start, 10)
            self.assertEqual(rc.errors(messages)[0]["C"], "57014")
            self.assertEqual(rc.rows(victim.simple("SELECT 'still here'")), [["still here"]])

    # -- malformed input -----------------------------------------------------------------

    def assert_rejected(self, conn, require_error, allowed=("08P01",)):
        """The session gets at most one ErrorResponse with an allowed SQLSTATE, then closes.

        require_error: the protocol allows an ErrorResponse here, so one must be sent.
        """
        messages = conn.read_until_closed(timeout=10)
        kinds = rc.kinds(messages)
        self.assertNotIn(b"R", kinds, f"authentication continued: {messages}")
        self.assertIn(kinds, (b"E", b"") if not require_error else (b"E",),
                      f"unexpected reply: {messages}")
        for fields in rc.errors(messages):
            self.assertIn(fields.get("C"), allowed, fields)
        return messages

    def check_bad_input(self, send_bad, require_error, after_startup,
                        allowed=("08P01",)):
        with self.raw_session() as bystander:
            conn = self.raw_session() if after_startup else self.raw()
            with conn:
                send_bad(conn)
                self.assert_rejected(conn, require_error, allowed)
            self.assertEqual(rc.rows(bystander.simple("SELECT 'unaffected'")), [["unaffected"]])
        self.assert_endpoint_works()

    # Postgres closes silently on a bad startup length; Switchyard's contract is to say why
    # (08P01) first, which the protocol allows since the client awaits an answer.

    def test_startup_length_below_4_is_rejected(self):
        self.check_bad_input(lambda c: c.send(struct.pack("!i", 3) + b"\0" * 8),
                             require_error=self.proxy is not None, after_startup=False)

    def test_startup_length_of_2_gib_is_rejected_promptly(self):
        start = time.monotonic()
        self.check_bad_input(lambda c: c.send(struct.pack("!i", 0x7FFFFFFF) + b"\0" * 64),
                             require_error=self.proxy is not None, after_startup=False)
        self.assertLess(time.monotonic() - start, 5)

    def unsupported_version_codes(self):
        # Postgres answers 0A000 (feature not supported); Switchyard's contract says 08P01.
        return ("08P01",) if self.proxy is not None else ("0A000",)

    def test_unknown_startup_code_is_rejected_with_an_error(self):
        self.check_bad_input(
            lambda c: c.send(rc.startup({"user": SUPERUSER}, version=(1234 << 16) | 9999)),
            require_error=True, after_startup=False, allowed=self.unsupported_version_codes())

    def test_unsupported_major_version_is_rejected_with_an_error(self):
        self.check_bad_input(lambda c: c.send(rc.startup({"user": SUPERUSER}, version=4 << 16)),
                             require_error=True, after_startup=False,
                             allowed=self.unsupported_version_codes())

    def test_garbage_instead_of_startup_is_rejected(self):
        self.check_bad_input(lambda c: c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
                             require_error=self.proxy is not None, after_startup=False)

    def test_message_length_below_4_is_rejected(self):
        # Postgres itself just closes here; Switchyard can say why first.
        self.check_bad_input(lambda c: c.send(b"Q" + struct.pack("!i", 3)),
                             require_error=self.proxy is not None, after_startup=True)

    def test_message_length_of_2_gib_is_rejected_promptly(self):
        start = time.monotonic()
        self.check_bad_input(lambda c: c.send(b"Q" + struct.pack("!i", 0x7FFFFFFF) + b"SELECT"),
                             require_error=self.proxy is not None, after_startup=True)
        self.assertLess(time.monotonic() - start, 5)

    @requires_proxy
    def test_a_large_declared_length_costs_only_the_bytes_that_arrive(self):
        # A header declaring nearly 1 GiB then 16 MiB of its body: the proxy's memory grows with
        # what arrived, not with what the header says (it once allocated and zeroed it all at
        # the header). sendall returns once the proxy has read all but a socket buffer of the
        # body. The bound leaves room for a sanitizer's quarantine of the outgrown buffers.
        def rss_mb():
            with open(f"/proc/{self.proxy.process.pid}/status") as f:
                return next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) / 1024

        before = rss_mb()
        with self.raw_session() as bystander:
            with self.raw_session() as conn:
                conn.send(b"Q" + struct.pack("!i", 0x3FFFFFF0) + b"SELECT '" + b"x" * (16 << 20))
                grown = rss_mb() - before
                self.assertLess(grown, 500, f"proxy RSS grew {grown:.0f} MB for 16 MB sent")
                self.assertEqual(rc.rows(bystander.simple("SELECT 'unaffected'")),
                                 [["unaffected"]])
        self.assert_endpoint_works()

    def test_a_password_message_past_64_kib_is_rejected_before_it_arrives(self):
        # Before authentication the client may declare at most what Postgres takes (64 KiB).
        def send_bad(conn):
            conn.send(rc.startup({"user": SUPERUSER, "database": self.pg.dbname}))
            self.assertEqual(conn.read_message()[0], b"R")
            conn.send(b"p" + struct.pack("!i", 0x3FFFFFF0) + b"md5")

        # Postgres closes without a word; Switchyard says why.
        self.check_bad_input(send_bad, require_error=self.proxy is not None, after_startup=False)

    def test_unknown_message_type_is_rejected_with_08p01(self):
        self.check_bad_input(lambda c: c.send(b"z" + struct.pack("!i", 4)),
                             require_error=True, after_startup=True)


if __name__ == "__main__":
    unittest.main()


@requires_proxy
class SkippedQueryTest(RewriteCase):
    """A Query pipelined behind extended-protocol messages without a Sync between: when one of
    those messages fails, Postgres skips the Query up to the Sync and answers only E Z. The proxy
    must see that the Query is skipped, or it stays one ReadyForQuery behind for the rest of the
    session: never at a transaction boundary, so it never adopts a reloaded config nor prepares
    its statements again, and it drops a ReadyForQuery the client is owed after a refusal."""

    MIGRATIONS = [migration(RENAME, writes="old", reads="old")]
    # A write Switchyard refuses under writes = both (the row's old value is not one it can copy).
    REFUSED = ("MERGE INTO users t USING (VALUES ($1::int)) v (id) ON v.id = t.id "
               "WHEN NOT MATCHED THEN INSERT (id, status) VALUES (v.id, md5(random()::text))")

    def setUp(self):
        super().setUp()
        self.proxy.reload(self.MIGRATIONS)

    def skipped_query(self, conn):
        conn.send(rc.execute("") + rc.query("SELECT 1") + rc.sync())
        answer = conn.read_until_ready()
        self.assertEqual(rc.kinds(answer), b"EZ")
        self.assertEqual(rc.errors(answer)[0]["C"], "34000")  # no unnamed portal

    def assert_answered(self, conn):
        conn.send(rc.query("SELECT 'end'"))
        answer = conn.read_until_ready(timeout=5)
        self.assertEqual(rc.kinds(answer), b"TDCZ")
        self.assertEqual(rc.rows(answer), [["end"]])

    def test_a_statement_prepared_after_a_skipped_query_is_prepared_again_after_a_flip(self):
        with self.raw_session() as conn:
            self.skipped_query(conn)
            conn.send(rc.parse("INSERT INTO users (id, status) VALUES ($1, 'y')", "ins") +
                      rc.sync())
            self.assertEqual(rc.kinds(conn.read_until_ready()), b"1Z")
            self.proxy.reload([migration(RENAME, writes="both", reads="old")])
            conn.send(rc.bind(["5"], statement="ins") + rc.execute() + rc.sync())
            self.assertEqual(rc.errors(conn.read_until_ready()), [])
            self.assert_answered(conn)
        self.assertEqual(self.rows("users"), [(5, "y", "y")])

    def test_a_refusal_after_a_skipped_query_leaves_every_ready_for_query_told(self):
        self.proxy.reload([migration(RENAME, writes="both", reads="old")])
        with self.raw_session() as conn:
            self.skipped_query(conn)
            conn.send(rc.execute("") + rc.parse(self.REFUSED) + rc.sync())
            answer = conn.read_until_ready()
            self.assertEqual(rc.kinds(answer), b"EZ")
            self.assertEqual(rc.errors(answer)[0]["C"], "34000")
            self.assert_answered(conn)

    def test_a_refusal_behind_a_skipped_query_in_one_batch(self):
        self.proxy.reload([migration(RENAME, writes="both", reads="old")])
        with self.raw_session() as conn:
            conn.send(rc.execute("") + rc.query("SELECT 1") + rc.parse(self.REFUSED) +
                      rc.sync())
            answer = conn.read_until_ready()
            self.assertEqual(rc.kinds(answer), b"EZ")
            self.assertEqual(rc.errors(answer)[0]["C"], "34000")
            self.assert_answered(conn)

    def test_a_refusal_behind_a_close_in_a_failed_transaction_earns_one_ready_for_query(self):
        # pgjdbc sends its deferred Closes in front of the next Parse. The Close is answered, so
        # the refusal's Query runs and fails (25P02) as the Parse would have: one ReadyForQuery,
        # as from Postgres, not one for the Query and one more for the Sync.
        self.proxy.reload([migration(RENAME, writes="both", reads="old")])
        with self.raw_session() as conn:
            conn.send(rc.query("BEGIN") + rc.query("SELECT 1 / 0"))
            self.assertEqual(rc.kinds(conn.read_until_ready()), b"CZ")
            self.assertEqual(rc.kinds(conn.read_until_ready()), b"EZ")
            conn.send(rc.close(b"S", "old_stmt") + rc.parse(self.REFUSED) + rc.bind(["1"]) +
                      rc.execute() + rc.sync())
            answer = conn.read_until_ready()
            self.assertEqual(rc.kinds(answer), b"3EZ")
            self.assertEqual(rc.errors(answer)[0]["C"], "25P02")
            conn.send(rc.query("ROLLBACK"))
            self.assertEqual(rc.kinds(conn.read_until_ready(timeout=5)), b"CZ")
            self.assert_answered(conn)

    def test_a_query_whose_batch_is_answered_has_its_own_error(self):
        # The run before the Query is answered in full: the error is the Query's, which stops
        # only itself, and both it and the Sync get a ReadyForQuery.
        with self.raw_session() as conn:
            conn.send(rc.parse("SELECT 2") + rc.bind() + rc.execute() +
                      rc.query("SELECT 1 / 0") + rc.sync())
            answer = conn.read_until_ready()
            self.assertEqual(rc.kinds(answer), b"12DCEZ")
            self.assertEqual(rc.errors(answer)[0]["C"], "22012")
            self.assertEqual(rc.kinds(conn.read_until_ready()), b"Z")
            self.assert_answered(conn)
