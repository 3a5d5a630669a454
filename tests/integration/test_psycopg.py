"""An application's view: psycopg 3 through Switchyard, checked against the database."""

import hashlib
import os
import select
import subprocess
import threading
import time
import unittest

import psycopg
from psycopg import errors

from harness.base import IntegrationCase, libpq_client, requires_libpq_client
from harness.util import wait_until


def wait_for_notification(conn, timeout):
    """The next NOTIFY delivered to an idle connection, or None after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        note = conn.pgconn.notifies()
        if note is not None:
            return note
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        readable, _, _ = select.select([conn.fileno()], [], [], remaining)
        if readable:
            conn.pgconn.consume_input()


class PsycopgTest(IntegrationCase):
    @classmethod
    def setUpClass(cls):
        cls.start_stack()

    def test_pipeline_mode_inserts_and_reads(self):
        with self.connect() as conn:
            conn.execute("CREATE TABLE pipe (id int PRIMARY KEY, label text)")
            with conn.pipeline():
                for i in range(200):
                    conn.execute("INSERT INTO pipe VALUES (%s, %s)", (i, f"row {i}"))
                select = conn.execute("SELECT count(*), sum(id) FROM pipe")
                labels = conn.execute("SELECT label FROM pipe WHERE id IN (0, 199) ORDER BY id")
            count, total = select.fetchone()
            self.assertEqual(labels.fetchall(), [("row 0",), ("row 199",)])
            self.assertEqual((count, total), (200, sum(range(200))))
        self.assertEqual(self.pg.query("SELECT label FROM pipe WHERE id = 123"), [("row 123",)])

    def test_pipeline_error_rolls_back_its_segment_and_session_survives(self):
        with self.connect() as conn:
            conn.execute("CREATE TABLE pipe_err (id int PRIMARY KEY)")
            with self.assertRaises(errors.UniqueViolation):
                with conn.pipeline():
                    conn.execute("INSERT INTO pipe_err VALUES (1)")
                    conn.execute("INSERT INTO pipe_err VALUES (1)")
                    conn.execute("INSERT INTO pipe_err VALUES (2)")
            self.assertEqual(conn.execute("SELECT 'usable'").fetchone()[0], "usable")
            conn.execute("INSERT INTO pipe_err VALUES (3)")
        # Everything up to the Sync was one implicit transaction, so the first insert is
        # rolled back with the failing one and the third never ran.
        self.assertEqual(self.pg.query("SELECT id FROM pipe_err"), [(3,)])

    def test_simple_query_with_several_statements(self):
        with self.connect() as conn:
            cur = psycopg.ClientCursor(conn)
            cur.execute("CREATE TABLE multi (v int); INSERT INTO multi VALUES (1), (2);"
                        " SELECT sum(v) FROM multi; SELECT 'last'")
            results = []
            while True:
                if cur.description is not None:
                    results.append(cur.fetchall())
                if not cur.nextset():
                    break
            self.assertEqual(results, [[(3,)], [("last",)]])
        self.assertEqual(self.pg.query("SELECT count(*) FROM multi"), [(2,)])

    def test_rolled_back_transaction_leaves_nothing(self):
        with self.connect(autocommit=False) as conn:
            conn.execute("CREATE TABLE tx (v int)")
            conn.commit()
            conn.execute("INSERT INTO tx VALUES (1)")
            conn.rollback()
            conn.execute("INSERT INTO tx VALUES (2)")
            conn.commit()
        self.assertEqual(self.pg.query("SELECT v FROM tx"), [(2,)])

    def test_copy_in_and_out(self):
        rows = [(i, f"name\t{i}", None if i % 7 == 0 else i * 1.5) for i in range(5000)]
        with self.connect() as conn:
            conn.execute("CREATE TABLE copied (id int, name text, score float8)")
            with conn.cursor() as cur:
                with cur.copy("COPY copied (id, name, score) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            self.assertEqual(
                self.pg.query("SELECT count(*), sum(id), count(score) FROM copied"),
                [(5000, sum(range(5000)), 5000 - len(range(0, 5000, 7)))])
            self.assertEqual(self.pg.query("SELECT name FROM copied WHERE id = 42"),
                             [("name\t42",)])
            with conn.cursor() as cur:
                with cur.copy("COPY (SELECT id, name, score FROM copied ORDER BY id) TO STDOUT"
                              ) as copy:
                    copy.set_types(["int4", "text", "float8"])
                    out = list(copy.rows())
            self.assertEqual(out, rows)

    def test_copy_in_error_is_reported_and_session_survives(self):
        with self.connect() as conn:
            conn.execute("CREATE TABLE copy_bad (id int)")
            with self.assertRaises(errors.InvalidTextRepresentation):
                with conn.cursor() as cur:
                    with cur.copy("COPY copy_bad FROM STDIN") as copy:
                        copy.write(b"1\nnot-a-number\n")
            self.assertEqual(conn.execute("SELECT 1").fetchone()[0], 1)
        self.assertEqual(self.pg.query("SELECT count(*) FROM copy_bad"), [(0,)])

    def test_listen_notify_while_idle(self):
        with self.connect() as listener, self.connect() as sender:
            listener.execute("LISTEN switchyard_events")
            sender_pid = sender.execute("SELECT pg_backend_pid()").fetchone()[0]
            sender.execute("SELECT pg_notify('switchyard_events', 'payload-1')")
            note = wait_for_notification(listener, timeout=10)
            self.assertIsNotNone(note, "notification not delivered to the idle listener")
            self.assertEqual(note.relname, b"switchyard_events")
            self.assertEqual(note.extra, b"payload-1")
            self.assertEqual(note.be_pid, sender_pid)
            sender.execute("NOTIFY other_channel")
            self.assertIsNone(wait_for_notification(listener, timeout=0.3))

    def test_notice_and_parameter_status(self):
        with self.connect() as conn:
            notices = []
            conn.add_notice_handler(lambda diag: notices.append(diag.message_primary))
            conn.execute("DO $$ BEGIN RAISE NOTICE 'hello %', 7; END $$")
            self.assertEqual(notices, ["hello 7"])
            self.assertEqual(conn.info.parameter_status("server_encoding"), "UTF8")
            self.assertTrue(conn.info.parameter_status("server_version").startswith("15"))
            conn.execute("SET application_name = 'switchyard-it'")
            self.assertEqual(conn.info.parameter_status("application_name"), "switchyard-it")
            conn.execute("SET TimeZone = 'Asia/Tokyo'")
            self.assertEqual(conn.info.parameter_status("TimeZone"), "Asia/Tokyo")

    def test_cancel_reaches_the_right_backend(self):
        with self.connect() as victim, self.connect() as bystander:
            victim_pid = victim.execute("SELECT pg_backend_pid()").fetchone()[0]
            bystander_pid = bystander.execute("SELECT pg_backend_pid()").fetchone()[0]
            outcome = {}

            def run(name, conn):
                start = time.monotonic()
                try:
                    conn.execute("SELECT pg_sleep(30)")
                    outcome[name] = ("done", time.monotonic() - start)
                except psycopg.Error as e:
                    outcome[name] = (type(e).__name__, time.monotonic() - start)

            def sleeping(pid):
                return self.pg.query("SELECT count(*) FROM pg_stat_activity WHERE pid = %s"
                                     " AND state = 'active' AND query LIKE '%%pg_sleep%%'",
                                     (pid,))[0][0] == 1

            threads = {name: threading.Thread(target=run, args=(name, conn))
                       for name, conn in (("victim", victim), ("bystander", bystander))}
            for t in threads.values():
                t.start()
            try:
                wait_until(lambda: sleeping(victim_pid) and sleeping(bystander_pid), 10,
                           what="both sleeps running")
                victim.cancel()
                threads["victim"].join(10)
                self.assertFalse(threads["victim"].is_alive(), "cancelled query did not return")
                self.assertEqual(outcome["victim"][0], "QueryCanceled")
                # The other session's sleep was not the one cancelled: it is still running.
                self.assertTrue(threads["bystander"].is_alive())
                self.assertTrue(sleeping(bystander_pid))
            finally:
                bystander.cancel()
                for t in threads.values():
                    t.join(40)
            self.assertEqual(outcome["bystander"][0], "QueryCanceled")
            self.assertEqual(victim.execute("SELECT 'alive'").fetchone()[0], "alive")
            self.assertEqual(bystander.execute("SELECT 'alive'").fetchone()[0], "alive")

    def test_16mb_bytea_round_trip(self):
        blob = os.urandom(16 * 1024 * 1024)
        with self.connect() as conn:
            conn.execute("CREATE TABLE blobs (id int, data bytea)")
            conn.execute("INSERT INTO blobs VALUES (1, %b)", (blob,))
            back = conn.execute("SELECT data FROM blobs WHERE id = 1", binary=True).fetchone()[0]
            self.assertEqual(hashlib.sha256(back).hexdigest(), hashlib.sha256(blob).hexdigest())
            back_text = conn.execute("SELECT data FROM blobs WHERE id = 1").fetchone()[0]
            self.assertEqual(len(back_text), len(blob))
            self.assertTrue(bytes(back_text) == blob)
        self.assertEqual(self.pg.query("SELECT md5(data), length(data) FROM blobs"),
                         [(hashlib.md5(blob).hexdigest(), len(blob))])

    def test_100k_row_result(self):
        with self.connect() as conn:
            cur = conn.execute("SELECT g, md5(g::text) FROM generate_series(1, 100000) g")
            rows = cur.fetchall()
        self.assertEqual(len(rows), 100000)
        self.assertEqual(sum(r[0] for r in rows), 100000 * 100001 // 2)
        self.assertEqual(rows[99999], (100000, hashlib.md5(b"100000").hexdigest()))

    def test_server_side_cursor_fetches_in_batches(self):
        with self.connect(autocommit=False) as conn:
            with conn.cursor(name="batches") as cur:
                cur.itersize = 1000
                cur.execute("SELECT g FROM generate_series(1, 25000) g")
                total = sum(row[0] for row in cur)
            conn.commit()
        self.assertEqual(total, 25000 * 25001 // 2)

    @requires_libpq_client
    def test_libpq_client_checks_pass(self):
        proc = subprocess.run([libpq_client(), self.conninfo()], capture_output=True, text=True,
                              timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("all checks passed", proc.stdout)


if __name__ == "__main__":
    unittest.main()
