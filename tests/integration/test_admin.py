"""The admin endpoint and live reload: /metrics parsed with prometheus_client and checked
against the traffic sent, /healthz, /readyz against a stopped upstream, /config without
secrets, reload by SIGHUP and by renaming a file over the config, a bad file keeping the
running generation, and a listen address change that keeps open sessions."""

import http.client
import json
import os
import signal
import socket
import subprocess
import time
import unittest

import psycopg
from prometheus_client.parser import text_string_to_metric_families

from harness import postgres
from harness import rawclient as rc
from harness.base import IntegrationCase, requires_proxy
from harness.proxy import SwitchyardProxy, render_config
from harness.proxy import binary as proxy_binary
from harness.util import can_connect, free_port, line_of, wait_until

PASSWORD_ENV = "SWITCHYARD_TEST_UPSTREAM_PASSWORD"
MIGRATION = {
    "name": "users-status",
    "table": "public.users",
    "old_column": "status",
    "new_column": "state",
    "writes": "both",
    "reads": "old",
}


def _toml(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


class Metrics:
    """One scrape of /metrics, parsed by the Prometheus client library's own parser."""

    def __init__(self, text):
        self.text = text
        self.families = {f.name: f for f in text_string_to_metric_families(text)}
        self.samples = {}
        for family in self.families.values():
            for sample in family.samples:
                key = (sample.name, tuple(sorted(sample.labels.items())))
                self.samples[key] = sample.value

    def get(self, name, default=0.0, **labels):
        return self.samples.get((name, tuple(sorted(labels.items()))), default)

    def with_name(self, name):
        return {labels: value for (n, labels), value in self.samples.items() if n == name}


class MigrationProxy(SwitchyardProxy):
    """A proxy whose config declares migrations and an admin endpoint, and that the test can
    rewrite while it runs (the harness writes only the basic sections)."""

    def __init__(self, pg, migrations=(MIGRATION,), admin=True, upstream_extra=None, **kwargs):
        super().__init__(pg.port, **kwargs)
        self.pg = pg
        self.upstream_extra = dict(upstream_extra or {})
        self.migrations = [dict(m) for m in migrations]
        self.admin_port = free_port() if admin else None
        self.log_format = None
        os.environ[PASSWORD_ENV] = pg.password

    def config_text(self):
        tables = {
            "listen": {"address": f"{self.host}:{self.port}"},
            "upstream": {"address": self.upstream, "tls": self.upstream_tls,
                         "user": postgres.SUPERUSER, "password_env": PASSWORD_ENV,
                         "database": self.pg.dbname, **self.upstream_extra},
            "timeouts": self.timeouts or None,
            "log": {"level": self.log_level, "format": self.log_format},
        }
        if self.admin_port:
            tables["admin"] = {"address": f"127.0.0.1:{self.admin_port}"}
        text = render_config(tables)
        for m in self.migrations:
            text += "[[migration]]\n"
            text += "".join(f"{key} = {_toml(value)}\n" for key, value in m.items())
            text += "\n"
        return text

    def write_config(self, text=None, rename=True):
        """Writes the config (the current fields, or `text`): by default to a new file renamed
        over the old one, as editors do; with rename=False, in place."""
        text = self.config_text() if text is None else text
        if not rename:
            with open(self.config_path, "w") as f:
                f.write(text)
            return
        temporary = self.config_path + ".new"
        with open(temporary, "w") as f:
            f.write(text)
        os.replace(temporary, self.config_path)

    def admin_get(self, path, method="GET", timeout=10):
        conn = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=timeout)
        try:
            conn.request(method, path)
            response = conn.getresponse()
            return response.status, response.read().decode(), dict(response.getheaders())
        finally:
            conn.close()

    def metrics(self) -> Metrics:
        status, body, headers = self.admin_get("/metrics")
        assert status == 200, (status, body)
        assert headers["Content-Type"].startswith("text/plain; version=0.0.4"), headers
        return Metrics(body)

    def config_page(self) -> dict:
        status, body, _ = self.admin_get("/config")
        assert status == 200, (status, body)
        return json.loads(body)

    def generation(self) -> int:
        return self.config_page()["generation"]

    def wait_for_generation(self, generation, timeout=15):
        return wait_until(lambda: self.generation() >= generation, timeout,
                          what=f"config generation {generation}")


def create_users_table(pg):
    pg.query("CREATE TABLE IF NOT EXISTS users (id int PRIMARY KEY, status text, state text)")
    pg.query("INSERT INTO users VALUES (1, 'a', 'a'), (2, 'b', 'b') ON CONFLICT DO NOTHING")


def create_users_table_in(pg, dbname):
    pg.query("CREATE TABLE users (id int PRIMARY KEY, status text, state text)", dbname=dbname)


@requires_proxy
class AdminTest(IntegrationCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = postgres.start_for_class(cls)
        create_users_table(cls.pg)
        cls.proxy = MigrationProxy(cls.pg)
        cls.proxy.start()
        cls.addClassCleanup(cls.proxy.close)
        cls.host, cls.port = cls.proxy.host, cls.proxy.port

    def migration_proxy(self, pg=None, **kwargs):
        """A proxy of this test only, for tests that change its config."""
        p = MigrationProxy(pg or self.pg, **kwargs)
        self._test_proxies.append(p)
        self.addCleanup(p.close)
        p.start()
        return p

    # -- /metrics ----------------------------------------------------------------------------

    def test_metrics_is_valid_exposition_with_help_and_type(self):
        metrics = self.proxy.metrics()
        for name in ("switchyard_connections", "switchyard_query_duration_seconds",
                     "switchyard_config_generation", "switchyard_reloads",
                     "switchyard_rewrite_cache_hits", "switchyard_migration_statements",
                     "switchyard_migration_column_accesses", "switchyard_upstream_errors"):
            self.assertIn(name, metrics.families, sorted(metrics.families))
        self.assertEqual(metrics.families["switchyard_query_duration_seconds"].type, "histogram")
        self.assertEqual(metrics.families["switchyard_connections"].type, "counter")
        self.assertEqual(metrics.families["switchyard_config_generation"].type, "gauge")
        for line in metrics.text.splitlines():
            if line.startswith("# TYPE "):
                name = line.split()[2]
                self.assertIn(f"# HELP {name} ", metrics.text)
        info = metrics.with_name("switchyard_migration_info")
        self.assertEqual(len(info), 1, info)
        labels = dict(next(iter(info)))
        self.assertEqual((labels["migration"], labels["writes"], labels["reads"]),
                         ("users-status", "both", "old"))

    def _traffic(self):
        """6 simple-protocol statements (3 reads of the old column, 2 rewritten writes, one
        unrelated) and 2 extended-protocol reads, on two connections."""
        with self.raw_session() as raw:
            for _ in range(3):
                self.assertTrue(rc.rows(raw.simple("SELECT status FROM users WHERE id = 1")))
            for _ in range(2):
                self.assertEqual(rc.errors(raw.simple(
                    "UPDATE users SET status = 'a' WHERE id = 1")), [])
            raw.simple("SELECT 1")
        with self.connect() as conn:
            for _ in range(2):
                conn.execute("SELECT status FROM users WHERE id = %s", (2,)).fetchall()

    def test_connection_query_and_byte_counters_move_with_traffic(self):
        before = self.proxy.metrics()
        self._traffic()
        after = wait_until(lambda: (lambda m: m if m.get("switchyard_connections_active") == 0
                                    else None)(self.proxy.metrics()), 10,
                           what="both sessions to end")

        def delta(name, **labels):
            return after.get(name, **labels) - before.get(name, **labels)

        self.assertEqual(delta("switchyard_connections_total"), 2)
        self.assertGreaterEqual(delta("switchyard_queries_total", protocol="simple"), 6)
        self.assertGreaterEqual(delta("switchyard_queries_total", protocol="extended"), 2)
        self.assertGreater(delta("switchyard_bytes_received_total", **{"from": "client"}), 100)
        self.assertGreater(delta("switchyard_bytes_received_total", **{"from": "upstream"}), 100)
        self.assertGreaterEqual(delta("switchyard_transactions_total"), 8)
        self.assertGreaterEqual(delta("switchyard_statements_rewritten_total"), 2)
        self.assertEqual(delta("switchyard_statements_rejected_total"), 0)
        lookups = (delta("switchyard_rewrite_cache_hits_total")
                   + delta("switchyard_rewrite_cache_misses_total"))
        self.assertGreaterEqual(lookups, 1)

    def test_a_text_parsed_again_counts_as_a_cache_hit(self):
        # The extended protocol parses the same text three times in one session: the first
        # look-up goes to the shared cache (a hit or a miss, by what ran before), the next two
        # are served from the session's own copy and must still count as hits.
        before = self.proxy.metrics()
        with self.connect() as conn:
            conn.prepare_threshold = None  # a Parse per execution, never a named statement
            for _ in range(3):
                conn.execute("SELECT status FROM users WHERE id = %s AND id > %s",
                             (1, 0)).fetchall()
        after = self.proxy.metrics()

        def delta(name):
            return after.get(name) - before.get(name)

        self.assertGreaterEqual(delta("switchyard_rewrite_cache_hits_total"), 2)
        self.assertEqual(delta("switchyard_rewrite_cache_hits_total")
                         + delta("switchyard_rewrite_cache_misses_total"), 3)

    def test_texts_of_one_literal_shape_share_a_rewrite(self):
        # Five updates that differ only in their constants: the first is parsed (and its shape
        # checked against it), the other four are made from the shape's rewrite. The rows
        # show each got its own values in both columns.
        self.pg.query("INSERT INTO users VALUES (11, 'x', 'x'), (12, 'x', 'x'), (13, 'x', 'x'), "
                      "(14, 'x', 'x'), (15, 'x', 'x') ON CONFLICT (id) DO NOTHING")
        before = self.proxy.metrics()
        with self.raw_session() as raw:
            for i in range(11, 16):
                self.assertEqual(rc.errors(raw.simple(
                    f"UPDATE users SET status = 'shape-{i}' WHERE id = {i} AND id < 100")), [])
        after = self.proxy.metrics()
        self.assertEqual(after.get("switchyard_rewrite_shape_hits_total")
                         - before.get("switchyard_rewrite_shape_hits_total"), 4)
        self.assertEqual(
            self.pg.query("SELECT id, status, state FROM users WHERE id BETWEEN 11 AND 15 "
                          "ORDER BY id"),
            [(i, f"shape-{i}", f"shape-{i}") for i in range(11, 16)])

    def test_long_texts_of_one_literal_shape_share_a_rewrite(self):
        # Bulk INSERTs far longer than the buffers the proxy keeps between statements
        # (proxy/long_buffers.hpp): the second is made from the first's rewrite, in buffers
        # released after it; the UPDATEs after them start from fresh ones. The rows show each
        # statement got its own values in both columns.
        rows, first_id = 2000, 10001
        ids = range(first_id, first_id + 2 * rows)
        before = self.proxy.metrics()
        with self.raw_session() as raw:
            for start in (first_id, first_id + rows):
                values = ", ".join(f"({i}, 'bulk-{i}')" for i in range(start, start + rows))
                self.assertEqual(rc.errors(raw.simple(
                    f"INSERT INTO users (id, status) VALUES {values}")), [])
            for i in (first_id, first_id + 1):
                self.assertEqual(rc.errors(raw.simple(
                    f"UPDATE users SET status = 'after-{i}' WHERE id = {i} AND id > 10000")), [])
        after = self.proxy.metrics()
        self.assertEqual(after.get("switchyard_rewrite_shape_hits_total")
                         - before.get("switchyard_rewrite_shape_hits_total"), 2)
        expected = [(i, f"after-{i}" if i < first_id + 2 else f"bulk-{i}") for i in ids]
        self.assertEqual(
            self.pg.query("SELECT id, status, state FROM users WHERE id BETWEEN %s AND %s "
                          "ORDER BY id", (ids[0], ids[-1])),
            [(i, v, v) for i, v in expected])

    def test_statement_kind_latency_and_migration_counters_move_with_traffic(self):
        # These need the session to call Metrics::count_statement, observe_query_seconds and
        # record_rewrite for every statement.
        before = self.proxy.metrics()
        self._traffic()
        after = self.proxy.metrics()

        def delta(name, **labels):
            return after.get(name, **labels) - before.get(name, **labels)

        self.assertGreaterEqual(delta("switchyard_statements_total", kind="select"), 6)
        self.assertGreaterEqual(delta("switchyard_statements_total", kind="update"), 2)
        self.assertGreaterEqual(delta("switchyard_query_duration_seconds_count"), 8)
        self.assertGreater(delta("switchyard_query_duration_seconds_sum"), 0)
        self.assertGreaterEqual(delta("switchyard_analyzed_statements_total", kind="update"), 2)
        m = "users-status"
        self.assertGreaterEqual(
            delta("switchyard_migration_statements_total", migration=m, outcome="rewritten"), 2)
        self.assertGreaterEqual(delta("switchyard_migration_column_accesses_total", migration=m,
                                      column="old", access="write"), 2)
        self.assertGreaterEqual(delta("switchyard_migration_column_accesses_total", migration=m,
                                      column="old", access="read"), 5)
        self.assertEqual(delta("switchyard_migration_column_accesses_total", migration=m,
                               column="new", access="read"), 0)

    def test_upstream_errors_are_counted_by_sqlstate(self):
        before = self.proxy.metrics()
        with self.connect() as conn:
            with self.assertRaises(psycopg.errors.UndefinedTable):
                conn.execute("SELECT * FROM no_such_table")
        after = self.proxy.metrics()
        total = (sum(after.with_name("switchyard_upstream_errors_by_first_char_total").values())
                 - sum(before.with_name("switchyard_upstream_errors_by_first_char_total")
                       .values()))
        self.assertEqual(total, 1)

    # -- /healthz /readyz /config ------------------------------------------------------------

    def test_healthz_and_unknown_paths(self):
        self.assertEqual(self.proxy.admin_get("/healthz")[:2], (200, "ok\n"))
        self.assertEqual(self.proxy.admin_get("/nope")[0], 404)
        self.assertEqual(self.proxy.admin_get("/metrics", method="POST")[0], 405)

    def test_a_malformed_request_is_answered_400_and_closed(self):
        # A probe or a hand-typed request the parser refuses hears why, not a bare close.
        for raw in (b"GET /healthz HTTP/9.9\r\n\r\n",
                    b"GET /healthz HTTP/1.1\r\nno colon\r\n\r\n",
                    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"):
            with self.subTest(raw=raw), socket.create_connection(
                    ("127.0.0.1", self.proxy.admin_port), timeout=5) as s:
                s.sendall(raw)
                answer = b""
                while chunk := s.recv(4096):
                    answer += chunk
                self.assertTrue(answer.startswith(b"HTTP/1.1 400 Bad Request\r\n"), answer)
                self.assertIn(b"Connection: close\r\n", answer)
                self.assertIn(b"\r\n\r\nbad request: ", answer)
        self.assertEqual(self.proxy.admin_get("/healthz")[:2], (200, "ok\n"))

    def test_silent_connections_do_not_keep_healthz_out(self):
        # Clients that connect and send nothing fill every admin connection slot; a liveness
        # probe must still be answered, at once, not after they time out.
        p = self.migration_proxy()
        silent = []
        self.addCleanup(lambda: [c.close() for c in silent])
        for _ in range(80):
            silent.append(socket.create_connection(("127.0.0.1", p.admin_port), timeout=10))

        def healthz():
            try:
                return p.admin_get("/healthz", timeout=2)[:2] == (200, "ok\n")
            except (OSError, http.client.HTTPException):
                return False

        wait_until(healthz, 3, what="/healthz to answer beside 80 silent connections")
        p.wait_for_log("event=admin_connections_full", 5)
        # The newest silent connection was not closed to make room: it is closed for sending
        # no request within the short timeout.
        silent[-1].settimeout(8)
        self.assertEqual(silent[-1].recv(1), b"")

    def test_readyz_turns_503_when_the_upstream_stops(self):
        pg = postgres.PostgresCluster().start()
        self.addCleanup(pg.stop)
        create_users_table(pg)
        p = self.migration_proxy(pg=pg)
        status, body, _ = p.admin_get("/readyz")
        self.assertEqual((status, body), (200, "ready\n"))
        pg.stop()
        status, body, _ = wait_until(
            lambda: (lambda r: r if r[0] == 503 else None)(p.admin_get("/readyz")), 10,
            what="/readyz to turn 503")
        self.assertIn(f"127.0.0.1:{pg.port}", body)
        self.assertEqual(p.admin_get("/healthz")[0], 200)
        self.assertTrue(p.alive())

    def test_config_shows_the_catalog_check_and_its_failure(self):
        # A migration in a database of its own, which the test drops and creates again: the
        # check's connection fails (once logged), /config says so, and it recovers.
        def make_database():
            self.pg.query("CREATE DATABASE watched", dbname="postgres")
            self.pg.query("CREATE TABLE users (id int PRIMARY KEY, status text, state text)",
                          dbname="watched")

        def check():
            return p.config_page()["catalog_check"]

        make_database()
        self.addCleanup(self.pg.query, "DROP DATABASE IF EXISTS watched WITH (FORCE)",
                        dbname="postgres")
        p = self.migration_proxy(migrations=[dict(MIGRATION, database="watched")],
                                 upstream_extra={"catalog_check_interval": "100ms"})
        wait_until(lambda: check()["result"] == "ok", 10, interval=0.05, what="a catalog check")
        self.assertIsNone(check()["last_change"])
        self.assertEqual(p.config_page()["config"]["upstream"]["catalog_check_interval"],
                         "100ms")

        self.pg.query("ALTER TABLE users ADD COLUMN note text", dbname="watched")
        wait_until(lambda: check()["last_change"], 10, interval=0.05, what="the DDL found")
        self.assertEqual(p.metrics().get("switchyard_catalog_changes_total"), 1)

        self.pg.query("DROP DATABASE watched WITH (FORCE)", dbname="postgres")
        # The check finds its connection closed, and cannot open another: the server answers
        # that the database the config names does not exist, a config error, said once with
        # the key that names it, and on /readyz.
        failed = wait_until(lambda: (lambda c: c if "does not exist" in (c["error"] or "")
                                     else None)(check()), 10, interval=0.05,
                            what="the check to fail to connect")
        self.assertEqual(failed["result"], "failed")
        self.assertIn('database "watched": catalog connection to upstream', failed["error"])
        p.wait_for_log("event=upstream_database_missing database=watched", 10)
        status, body, _ = p.admin_get("/readyz")
        self.assertEqual(status, 503, body)
        self.assertIn('database "watched" does not exist on upstream', body)
        self.assertIn('migration[0].database ("users-status")', body)
        self.assertEqual(p.log_text().count("event=upstream_database_missing"), 1,
                         "logged once, not at every check")
        self.assertNotIn("event=catalog_check_failed", p.log_text())

        make_database()
        wait_until(lambda: check()["result"] == "ok", 10, interval=0.05, what="the recovery")
        p.wait_for_log("event=catalog_check_recovered database=watched", 10)
        self.assertEqual(p.admin_get("/readyz")[:2], (200, "ready\n"))

    def test_a_database_that_does_not_exist_is_a_config_error_not_an_outage(self):
        # A saved config whose migration names a database the server does not have: the reload
        # fails once, with the database and its key, and is tried again at the slow pace, not
        # the ramp of a server that is down; `check` of the file says the same and exits 1.
        p = self.migration_proxy()
        generation = p.generation()
        p.migrations[0]["database"] = "nosuchdb"
        p.write_config()
        page = wait_until(lambda: (lambda c: c if c["last_reload"]["result"] == "failed"
                                   else None)(p.config_page()), 15, what="the reload to fail")
        reload = page["last_reload"]
        self.assertEqual(len(reload["errors"]), 1, reload)
        error = reload["errors"][0]
        self.assertIn('database "nosuchdb" does not exist on upstream 127.0.0.1:', error)
        self.assertIn('named by migration[0].database ("users-status")', error)
        self.assertIn("create the database, or correct the key", error)

        def stamp(text):
            return time.mktime(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S"))

        self.assertGreaterEqual(stamp(reload["retry_at"]) - stamp(reload["time"]), 29, reload)
        self.assertEqual(p.log_text().count("event=reload_failed"), 1)
        self.assertIn("a database the config names does not exist", p.log_text())
        # The running config goes on, and the proxy stays ready: its own databases exist.
        self.assertEqual(page["generation"], generation)
        self.assertEqual(p.admin_get("/readyz")[0], 200)

        checked = subprocess.run([proxy_binary(), "check", "--config", p.config_path],
                                 capture_output=True, text=True, timeout=30)
        self.assertEqual(checked.returncode, 1, checked.stdout + checked.stderr)
        self.assertIn('database "nosuchdb" does not exist on upstream', checked.stderr)
        self.assertIn('migration[0].database ("users-status")', checked.stderr)

        # Created, it is picked up by the next retry, or at once on SIGHUP.
        self.pg.query("CREATE DATABASE nosuchdb", dbname="postgres")
        self.addCleanup(self.pg.query, "DROP DATABASE IF EXISTS nosuchdb WITH (FORCE)",
                        dbname="postgres")
        create_users_table_in(self.pg, "nosuchdb")
        p.signal(signal.SIGHUP)
        p.wait_for_generation(generation + 1)
        self.assertIsNone(p.config_page()["last_reload"]["retry_at"])

    def test_config_shows_flags_and_no_secret(self):
        page = self.proxy.config_page()
        self.assertEqual(page["flags"]["users-status"],
                         {"writes": "both", "reads": "old", "on_unsupported": "reject"})
        self.assertGreaterEqual(page["generation"], 1)
        self.assertEqual(page["config"]["upstream"]["password_env"], PASSWORD_ENV)
        self.assertEqual(page["config"]["upstream"]["password"], "<redacted>")
        _, raw, _ = self.proxy.admin_get("/config")
        self.assertNotIn(self.pg.password, raw)
        _, metrics, _ = self.proxy.admin_get("/metrics")
        self.assertNotIn(self.pg.password, metrics)
        self.assertNotIn(self.pg.password, self.proxy.log_text())

    # -- reload ------------------------------------------------------------------------------

    def test_migration_counters_count_every_execution_of_a_prepared_statement(self):
        # The runbook's gates (docs/operations.md steps 7 and 8) ask whether clients still use
        # the old column: a pool that prepared its statements long ago still runs them.
        p = self.migration_proxy()
        self.addCleanup(self.pg.query, "UPDATE users SET status = 'a', state = 'a' WHERE id = 1;"
                        "UPDATE users SET status = 'b', state = 'b' WHERE id = 2")
        n = 25
        before = p.metrics()
        with psycopg.connect(host=p.host, port=p.port, user=postgres.SUPERUSER,
                             password=self.pg.password, dbname=self.pg.dbname,
                             sslmode="disable", autocommit=True) as conn:
            for i in range(n):  # one Parse, n Binds
                conn.execute("UPDATE users SET status = %s WHERE id = 2", (f"p{i}",),
                             prepare=True)
            # SQL PREPARE and EXECUTE, as simple queries.
            conn.pgconn.exec_(b"PREPARE sw_up(text) AS UPDATE users SET status = $1 WHERE id = 1")
            for i in range(n):
                result = conn.pgconn.exec_(f"EXECUTE sw_up('e{i}')".encode())
                self.assertEqual(result.status, psycopg.pq.ExecStatus.COMMAND_OK,
                                 result.error_message)
        after = p.metrics()

        def delta(name, **labels):
            return after.get(name, **labels) - before.get(name, **labels)

        m = "users-status"
        self.assertEqual(
            delta("switchyard_migration_statements_total", migration=m, outcome="rewritten"), 2 * n)
        self.assertEqual(delta("switchyard_migration_column_accesses_total", migration=m,
                               column="old", access="write"), 2 * n)
        # Every execution wrote both columns.
        self.assertEqual(self.pg.query("SELECT id, status, state FROM users WHERE id IN (1, 2) "
                                       "ORDER BY id"),
                         [(1, f"e{n - 1}", f"e{n - 1}"), (2, f"p{n - 1}", f"p{n - 1}")])

    def test_a_sql_prepared_statement_prepared_again_after_a_flip_back_counts_as_its_text(self):
        # Hunt h5-10: prepared under reads = "new", prepared again unchanged under "old", each
        # EXECUTE counts as the same text sent plainly would: a read of O, no rewritten statement.
        p = self.migration_proxy(migrations=[dict(MIGRATION, writes="both", reads="new")])
        self.pg.query("UPDATE users SET state = 'NEWV' WHERE id = 1")
        self.addCleanup(self.pg.query, "UPDATE users SET state = 'a' WHERE id = 1")
        m = "users-status"
        with psycopg.connect(host=p.host, port=p.port, user=postgres.SUPERUSER,
                             password=self.pg.password, dbname=self.pg.dbname,
                             sslmode="disable", autocommit=True) as conn:
            conn.pgconn.exec_(b"PREPARE sw_q3(int) AS SELECT status FROM users WHERE id = $1")
            self.assertEqual(conn.execute("EXECUTE sw_q3(1)").fetchall(), [("NEWV",)])
            generation = p.generation()
            p.migrations[0]["reads"] = "old"
            p.write_config()
            p.wait_for_generation(generation + 1)
            before = p.metrics()
            for _ in range(3):
                self.assertEqual(conn.execute("EXECUTE sw_q3(1)").fetchall(), [("a",)])
            after = p.metrics()
            conn.execute("SELECT status FROM users WHERE id = 1")
            plain = p.metrics()

        def delta(since, until, name, **labels):
            return until.get(name, **labels) - since.get(name, **labels)

        for outcome in ("rewritten", "rejected", "passthrough"):
            self.assertEqual(delta(before, after, "switchyard_migration_statements_total",
                                   migration=m, outcome=outcome), 0, outcome)
            self.assertEqual(delta(after, plain, "switchyard_migration_statements_total",
                                   migration=m, outcome=outcome), 0, outcome)
        self.assertEqual(delta(before, after, "switchyard_migration_column_accesses_total",
                               migration=m, column="old", access="read"), 3)

    def test_a_transaction_held_across_a_flip_counts_as_a_session_on_an_old_generation(self):
        # Runbook step 2 -> 3: a session keeps the flags its transaction began under, so a
        # backfill started meanwhile leaves its later writes of the old column behind.
        p = self.migration_proxy(migrations=[dict(MIGRATION, writes="old")])
        self.addCleanup(self.pg.query, "UPDATE users SET status = 'b', state = 'b' WHERE id = 2")
        conninfo = dict(host=p.host, port=p.port, user=postgres.SUPERUSER,
                        password=self.pg.password, dbname=self.pg.dbname, sslmode="disable")
        with psycopg.connect(**conninfo, autocommit=True) as idle, \
                psycopg.connect(**conninfo) as held:
            idle.execute("SELECT 1")
            held.execute("SELECT 1")  # psycopg's implicit BEGIN: the transaction is open
            self.assertEqual(p.metrics().get("switchyard_sessions_on_old_generation"), 0)
            # A reload that changes no migration (a comment added) leaves it on the same flags.
            generation = p.generation()
            p.write_config("# reviewed\n" + p.config_text())
            p.wait_for_generation(generation + 1)
            self.assertEqual(p.metrics().get("switchyard_sessions_on_old_generation"), 0)
            self.assertIsNone(p.config_page()["oldest_session_generation"])
            p.migrations[0]["writes"] = "both"
            p.write_config()
            p.wait_for_generation(generation + 2)
            # The idle session moves at its next statement: only the open transaction counts.
            self.assertEqual(p.metrics().get("switchyard_sessions_on_old_generation"), 1)
            page = p.config_page()
            self.assertEqual(page["sessions_on_old_generation"], 1)
            # The generation that brought the flags it runs under, before the comment's.
            self.assertEqual(page["oldest_session_generation"], generation)
            # What it stands for: the held transaction still writes the old column alone.
            held.execute("UPDATE users SET status = 'late' WHERE id = 2")
            held.commit()
            self.assertEqual(p.metrics().get("switchyard_sessions_on_old_generation"), 0)
            self.assertIsNone(p.config_page()["oldest_session_generation"])
            idle.execute("UPDATE users SET status = 'dual' WHERE id = 1")
        self.assertEqual(self.pg.query("SELECT id, status, state FROM users WHERE id IN (1, 2) "
                                       "ORDER BY id"), [(1, "dual", "dual"), (2, "late", "b")])
        self.pg.query("UPDATE users SET status = 'a', state = 'a' WHERE id = 1")

    def test_a_statement_running_across_a_flip_outside_a_block_counts_too(self):
        # No BEGIN: an UPDATE still running (here waiting for a lock) when the flags change
        # runs under the old ones and writes the old column alone. A backfill started then
        # must be told, so the census counts it until its answer.
        p = self.migration_proxy(migrations=[dict(MIGRATION, writes="old")])
        self.addCleanup(self.pg.query, "UPDATE users SET status = 'b', state = 'b' WHERE id = 2")
        locker = self.pg.connect()
        self.addCleanup(locker.close)
        locker.execute("BEGIN")
        locker.execute("SELECT 1 FROM users WHERE id = 2 FOR UPDATE")  # the row, not the table
        with rc.RawConnection(p.host, p.port) as conn:
            conn.start(postgres.SUPERUSER, self.pg.dbname, password=self.pg.password)
            conn.send(rc.query("UPDATE users SET status = 'running' WHERE id = 2 "
                               "/* census-outside-block */"))
            wait_until(lambda: self.pg.query(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE '%census-outside-block%'")[0][0] == 1, 10, what="the UPDATE waits")
            generation = p.generation()
            p.migrations[0]["writes"] = "both"
            p.write_config()
            p.wait_for_generation(generation + 1)
            self.assertEqual(p.metrics().get("switchyard_sessions_on_old_generation"), 1)
            self.assertEqual(p.config_page()["oldest_session_generation"], generation)
            locker.execute("ROLLBACK")
            self.assertEqual(rc.errors(conn.read_until_ready()), [])
            self.assertEqual(p.metrics().get("switchyard_sessions_on_old_generation"), 0)
        # What it stands for: written under the old flags, the old column alone.
        self.assertEqual(self.pg.query("SELECT status, state FROM users WHERE id = 2"),
                         [("running", "b")])

    def test_a_privilege_granted_on_the_old_column_only_is_warned_at_load(self):
        # A role granted a column privilege on O alone gets "permission denied for table"
        # once its statements are rewritten to N.
        self.pg.query("""
            CREATE TABLE sw_acl (id int PRIMARY KEY, status text, state text);
            INSERT INTO sw_acl VALUES (1, 'a', 'a');
            CREATE ROLE sw_alice LOGIN PASSWORD 'alice';
            CREATE ROLE sw_bob LOGIN PASSWORD 'bob';
            GRANT SELECT (id, status), UPDATE (status) ON sw_acl TO sw_alice;
            GRANT SELECT (id, status, state), UPDATE (status, state) ON sw_acl TO sw_bob;""")
        self.addCleanup(self.pg.query, "DROP TABLE IF EXISTS sw_acl; DROP ROLE IF EXISTS "
                        "sw_alice; DROP ROLE IF EXISTS sw_bob")
        p = self.migration_proxy(migrations=[dict(MIGRATION, name="acl", table="public.sw_acl")])
        messages = [w["message"] for w in p.config_page()["warnings"] if w["migration"] == "acl"]
        self.assertEqual(len(messages), 1, messages)
        self.assertIn("(sw_alice)", messages[0])
        self.assertIn("GRANT SELECT, UPDATE (state) ON public.sw_acl TO sw_alice", messages[0])
        self.assertNotIn("sw_bob", messages[0])
        self.assertEqual(p.metrics().get("switchyard_migration_warnings", migration="acl"), 1)
        # What it warns of, and that its GRANT is the fix: the role's UPDATE goes through.
        conninfo = dict(host=p.host, port=p.port, user="sw_alice", password="alice",
                        dbname=self.pg.dbname, sslmode="disable", autocommit=True)
        with psycopg.connect(**conninfo) as conn:
            with self.assertRaises(psycopg.errors.InsufficientPrivilege):
                conn.execute("UPDATE sw_acl SET status = 'x' WHERE id = 1")
        self.pg.query("GRANT SELECT, UPDATE (state) ON public.sw_acl TO sw_alice")
        with psycopg.connect(**conninfo) as conn:
            conn.execute("UPDATE sw_acl SET status = 'x' WHERE id = 1")
        self.assertEqual(self.pg.query("SELECT status, state FROM sw_acl"), [("x", "x")])

    def test_sighup_reload_bumps_the_generation(self):
        p = self.migration_proxy()
        before = p.metrics()
        generation = p.generation()
        p.signal(signal.SIGHUP)
        p.wait_for_generation(generation + 1)
        after = p.metrics()
        self.assertEqual(after.get("switchyard_config_generation"), generation + 1)
        self.assertEqual(after.get("switchyard_reloads_total", result="ok")
                         - before.get("switchyard_reloads_total", result="ok"), 1)
        page = p.config_page()
        self.assertEqual(page["last_reload"]["result"], "ok")
        self.assertIn("SIGHUP", page["last_reload"]["trigger"])

    def test_file_rename_reload_flips_reads_for_new_sessions(self):
        p = self.migration_proxy()
        self.pg.query("UPDATE users SET status = 'old-value', state = 'new-value' WHERE id = 2")
        self.addCleanup(self.pg.query, "UPDATE users SET status = 'b', state = 'b' WHERE id = 2")
        conninfo = dict(host=p.host, port=p.port, user=postgres.SUPERUSER,
                        password=self.pg.password, dbname=self.pg.dbname, sslmode="disable",
                        autocommit=True)
        with psycopg.connect(**conninfo) as conn:
            self.assertEqual(conn.execute("SELECT status FROM users WHERE id = 2").fetchone(),
                             ("old-value",))
        generation = p.generation()
        p.migrations[0]["reads"] = "new"
        p.write_config()
        p.wait_for_generation(generation + 1)
        page = p.config_page()
        self.assertEqual(page["flags"]["users-status"]["reads"], "new")
        self.assertIn("file change", page["last_reload"]["trigger"])
        self.assertTrue(any("reads" in change for change in page["last_reload"]["changes"]),
                        page["last_reload"])
        with psycopg.connect(**conninfo) as conn:
            self.assertEqual(conn.execute("SELECT status FROM users WHERE id = 2").fetchone(),
                             ("new-value",))

    def test_bad_file_keeps_the_generation_and_counts_the_failure(self):
        p = self.migration_proxy()
        generation = p.generation()
        failed_before = p.metrics().get("switchyard_reloads_total", result="failed")
        # reads = "old" with writes = "new" is the one invalid combination.
        p.migrations[0].update(writes="new", reads="old")
        p.write_config()
        wait_until(lambda: p.metrics().get("switchyard_reloads_total", result="failed")
                   == failed_before + 1, 15, what="the failed reload to be counted")
        self.assertEqual(p.generation(), generation)
        page = p.config_page()
        self.assertEqual(page["last_reload"]["result"], "failed")
        self.assertEqual(page["flags"]["users-status"], {"writes": "both", "reads": "old",
                                                         "on_unsupported": "reject"})
        errors = " ".join(page["last_reload"]["errors"])
        self.assertIn(p.config_path, errors)
        self.assertIn("migration[0]", errors)
        self.assertEqual(p.metrics().get("switchyard_config_last_reload_success"), 0)
        self.assertIn("event=reload_failed", p.log_text())
        # Still serving with the old config, and a good file is taken again afterwards.
        with psycopg.connect(host=p.host, port=p.port, user=postgres.SUPERUSER,
                             password=self.pg.password, dbname=self.pg.dbname,
                             sslmode="disable") as conn:
            self.assertEqual(conn.execute("SELECT 1").fetchone(), (1,))
        p.migrations[0].update(writes="both", reads="new")
        p.write_config(rename=False)
        p.wait_for_generation(generation + 1)
        self.assertEqual(p.config_page()["flags"]["users-status"]["reads"], "new")

    def test_a_catalog_error_names_the_line_and_key_as_a_syntax_error_does(self):
        # What only the catalog shows (a table that does not exist) is told in the loader's
        # form, FILE:LINE:COL: KEY: ..., on /config, in the log and by `check`.
        p = self.migration_proxy()
        generation = p.generation()
        p.migrations[0]["table"] = "public.no_such_table"
        p.write_config()
        page = wait_until(lambda: (lambda c: c if c["last_reload"]["result"] == "failed"
                                   else None)(p.config_page()), 15, what="the failed reload")
        self.assertEqual(p.generation(), generation)
        line = line_of(p.config_path, 'table = "public.no_such_table"')
        expected = (f'{p.config_path}:{line}:9: migration[0].table: migration "users-status": '
                    f'table public.no_such_table does not exist in database "{self.pg.dbname}"')
        self.assertEqual(page["last_reload"]["errors"], [expected])
        p.wait_for_log("event=reload_rejected", 15)
        self.assertIn(f"{p.config_path}:{line}:9: migration[0].table: ", p.log_text())
        check = subprocess.run([proxy_binary(), "check", "--config", p.config_path],
                               capture_output=True, text=True, timeout=30)
        self.assertEqual(check.returncode, 1, check.stdout + check.stderr)
        self.assertIn(expected, check.stderr.splitlines())

    def test_a_flip_saved_while_the_database_is_down_is_applied_once_it_is_back(self):
        # The reload fails for want of the catalog, not for the file: it is tried again, and
        # the flip takes effect without another save or SIGHUP.
        pg = postgres.PostgresCluster().start()
        self.addCleanup(pg.stop)
        create_users_table(pg)
        pg.query("UPDATE users SET status = 'old-value', state = 'new-value' WHERE id = 2")
        p = self.migration_proxy(pg=pg)
        generation = p.generation()

        def pg_ctl(*args):
            pg._pg("pg_ctl", "-D", pg.datadir, "-l", pg.logfile, "-w", "-t", "60", *args)

        pg_ctl("-m", "fast", "stop")
        p.migrations[0]["reads"] = "new"
        p.write_config()
        page = wait_until(lambda: (lambda c: c if c["last_reload"]["result"] == "failed"
                                   else None)(p.config_page()), 15, what="the reload to fail")
        self.assertIsNotNone(page["last_reload"]["retry_at"], page["last_reload"])
        self.assertEqual(page["flags"]["users-status"]["reads"], "old")
        p.wait_for_log("event=reload_retry", 10)
        pg_ctl("start")
        p.wait_for_generation(generation + 1, timeout=45)
        page = p.config_page()
        self.assertEqual(page["flags"]["users-status"]["reads"], "new")
        self.assertEqual(page["last_reload"]["result"], "ok")
        self.assertIsNone(page["last_reload"]["retry_at"])
        with psycopg.connect(host=p.host, port=p.port, user=postgres.SUPERUSER,
                             password=pg.password, dbname=pg.dbname, sslmode="disable",
                             autocommit=True) as conn:
            self.assertEqual(conn.execute("SELECT status FROM users WHERE id = 2").fetchone(),
                             ("new-value",))

    def test_a_bad_file_is_not_tried_again(self):
        p = self.migration_proxy()
        p.migrations[0].update(writes="new", reads="old")
        p.write_config()
        wait_until(lambda: p.config_page()["last_reload"]["result"] == "failed", 15,
                   what="the reload to fail")
        self.assertIsNone(p.config_page()["last_reload"]["retry_at"])
        self.assertNotIn("event=reload_retry", p.log_text())

    def test_server_side_writers_are_warned_at_load_and_when_the_catalog_check_finds_them(self):
        # Each table has one thing the server runs past the rewrite, "plain" none: each
        # migration gets its warning, and plain gets one once a default is set on another
        # connection (found by the catalog check, no reload), and loses it when it is dropped.
        self.pg.query("""
            CREATE TABLE sw_codes (code text PRIMARY KEY);
            CREATE TABLE sw_fk (id int PRIMARY KEY, status text REFERENCES sw_codes
                ON UPDATE CASCADE, state text);
            CREATE TABLE sw_fk_both (id int PRIMARY KEY, status text REFERENCES sw_codes
                ON UPDATE CASCADE, state text REFERENCES sw_codes ON UPDATE CASCADE);
            CREATE TABLE sw_trg (id int PRIMARY KEY, status text, state text);
            CREATE FUNCTION sw_lower() RETURNS trigger LANGUAGE plpgsql AS
                $$ BEGIN NEW.status := lower(NEW.status); RETURN NEW; END $$;
            CREATE TRIGGER sw_lower BEFORE INSERT OR UPDATE ON sw_trg FOR EACH ROW
                EXECUTE FUNCTION sw_lower();
            CREATE TABLE sw_gen (id int PRIMARY KEY, status text, state text,
                slen int GENERATED ALWAYS AS (length(status)) STORED);
            CREATE TABLE sw_chk (id int PRIMARY KEY, status text CHECK (status <> ''),
                state text);
            CREATE TABLE sw_plain (id int PRIMARY KEY, status text, state text);
            CREATE TABLE sw_log (at timestamptz);
            CREATE FUNCTION sw_audit() RETURNS trigger LANGUAGE plpgsql AS
                $$ BEGIN INSERT INTO sw_log VALUES (now()); RETURN NULL; END $$;
            CREATE TRIGGER sw_audit AFTER INSERT ON sw_plain FOR EACH ROW
                EXECUTE FUNCTION sw_audit();
            CREATE TABLE sw_after (id int PRIMARY KEY, status text, state text);
            CREATE FUNCTION sw_touch() RETURNS trigger LANGUAGE plpgsql AS
                $$ BEGIN UPDATE sw_after SET Status = 'seen' WHERE id = NEW.id - 1;
                   RETURN NULL; END $$;
            CREATE TRIGGER sw_touch AFTER INSERT ON sw_after FOR EACH ROW
                EXECUTE FUNCTION sw_touch();""")
        self.addCleanup(self.pg.query, "DROP TABLE IF EXISTS sw_fk, sw_fk_both, sw_trg, sw_gen, "
                        "sw_chk, sw_plain, sw_after, sw_log, sw_codes; "
                        "DROP FUNCTION IF EXISTS sw_lower(), sw_audit(), sw_touch()")
        tables = ["sw_fk", "sw_fk_both", "sw_trg", "sw_gen", "sw_chk", "sw_plain", "sw_after"]
        p = self.migration_proxy(
            migrations=[dict(MIGRATION, name=t, table=f"public.{t}") for t in tables],
            upstream_extra={"catalog_check_interval": "100ms"})

        def warnings():
            found = {t: [] for t in tables}
            for w in p.config_page()["warnings"]:
                found[w["migration"]].append(w["message"])
            return found

        found = warnings()
        self.assertEqual(len(found["sw_fk"]), 1, found)
        self.assertIn("foreign key sw_fk_status_fkey on public.sw_fk.status references sw_codes "
                      "ON UPDATE CASCADE", found["sw_fk"][0])
        self.assertEqual(found["sw_fk_both"], [])
        self.assertEqual(len(found["sw_trg"]), 1, found)
        self.assertIn("BEFORE ROW trigger sw_lower (INSERT OR UPDATE)", found["sw_trg"][0])
        self.assertEqual(len(found["sw_gen"]), 1, found)
        self.assertIn("generated column slen of public.sw_gen is computed from status",
                      found["sw_gen"][0])
        self.assertEqual(len(found["sw_chk"]), 1, found)
        self.assertIn("CHECK constraint sw_chk_status_check", found["sw_chk"][0])
        self.assertEqual(found["sw_plain"], [])  # its AFTER trigger names neither column
        self.assertEqual(len(found["sw_after"]), 1, found)
        self.assertIn("AFTER ROW trigger sw_touch (INSERT) on public.sw_after",
                      found["sw_after"][0])
        self.assertEqual(p.metrics().get("switchyard_migration_warnings", migration="sw_trg"), 1)

        self.pg.query("ALTER TABLE sw_plain ALTER COLUMN status SET DEFAULT 'active'")
        wait_until(lambda: warnings()["sw_plain"], 15, interval=0.1,
                   what="the catalog check to find the default")
        self.assertIn("the columns' defaults", warnings()["sw_plain"][0])
        self.assertEqual(p.metrics().get("switchyard_migration_warnings", migration="sw_plain"), 1)
        self.assertIn("event=migration_warning", p.log_text())
        # The drift it warns of: an INSERT naming neither column fills the old one alone.
        with psycopg.connect(host=p.host, port=p.port, user=postgres.SUPERUSER,
                             password=self.pg.password, dbname=self.pg.dbname,
                             sslmode="disable", autocommit=True) as conn:
            conn.execute("INSERT INTO sw_plain (id) VALUES (1)")
        self.assertEqual(self.pg.query("SELECT status, state FROM sw_plain"), [("active", None)])

        self.pg.query("DROP TRIGGER sw_lower ON sw_trg")
        wait_until(lambda: not warnings()["sw_trg"], 15, interval=0.1,
                   what="the catalog check to find the trigger gone")

    def test_catalog_check_warns_of_an_updatable_view_made_on_another_connection(self):
        # A view over the old column made straight in Postgres (a migration tool, a DBA): the
        # running proxy warns of it within the check interval, as a load or `check` does,
        # rather than only at the next reload.
        self.pg.query("CREATE TABLE sw_view (id int PRIMARY KEY, status text, state text)")
        self.addCleanup(self.pg.query, "DROP TABLE IF EXISTS sw_view CASCADE")
        p = self.migration_proxy(migrations=[dict(MIGRATION, name="sw_view",
                                                  table="public.sw_view")],
                                 upstream_extra={"catalog_check_interval": "100ms"})

        def warnings():
            return [w["message"] for w in p.config_page()["warnings"]]

        self.assertEqual(warnings(), [])
        self.pg.query("CREATE VIEW sw_view_v AS SELECT id, status FROM sw_view")
        wait_until(lambda: warnings(), 15, interval=0.1,
                   what="the catalog check to find the view")
        self.assertIn("through view sw_view_v that sets status is not rewritten", warnings()[0])
        self.assertEqual(p.metrics().get("switchyard_migration_warnings", migration="sw_view"), 1)
        self.assertRegex(p.log_text(), r"event=migration_warning .*sw_view_v")
        self.pg.query("DROP VIEW sw_view_v")
        wait_until(lambda: not warnings(), 15, interval=0.1,
                   what="the catalog check to find the view gone")

    def test_listen_address_change_rebinds_without_dropping_sessions(self):
        p = self.migration_proxy()
        old_port = p.port
        kept = psycopg.connect(host=p.host, port=old_port, user=postgres.SUPERUSER,
                               password=self.pg.password, dbname=self.pg.dbname,
                               sslmode="disable", autocommit=True)
        self.addCleanup(kept.close)
        generation = p.generation()
        p.port = free_port()
        p.write_config()
        p.wait_for_generation(generation + 1)
        wait_until(lambda: can_connect(p.host, p.port), 10, what="the new listen port")
        wait_until(lambda: not can_connect(p.host, old_port), 10,
                   what="the old listen port to close")
        self.assertEqual(kept.execute("SELECT 'still here'").fetchone(), ("still here",))
        with psycopg.connect(host=p.host, port=p.port, user=postgres.SUPERUSER,
                             password=self.pg.password, dbname=self.pg.dbname,
                             sslmode="disable") as conn:
            self.assertEqual(conn.execute("SELECT 2").fetchone(), (2,))

    def test_listen_address_that_cannot_be_bound_keeps_the_running_config(self):
        p = self.migration_proxy()
        generation = p.generation()
        blocker_port = self.pg.port  # Postgres holds it, without SO_REUSEPORT
        old_port, p.port = p.port, blocker_port
        p.write_config()
        wait_until(lambda: p.config_page()["last_reload"]["result"] == "failed", 15,
                   what="the reload to fail")
        self.assertEqual(p.generation(), generation)
        self.assertIn("[listen] address", " ".join(p.config_page()["last_reload"]["errors"]))
        self.assertTrue(can_connect(p.host, old_port))
        p.port = old_port

    def test_a_file_written_in_place_in_two_chunks_is_read_only_once_its_writer_closes_it(self):
        # A tool that truncates, writes the part before users-status, pauses with the file open,
        # then writes the rest: the first half is a valid config without that migration, and
        # loading it would stop the dual writes for that second.
        self.pg.query("CREATE TABLE IF NOT EXISTS chunk_other (id int PRIMARY KEY, a text, b text)")
        self.addCleanup(self.pg.query, "DELETE FROM users WHERE id = 501")
        other = {"name": "chunk-other", "table": "public.chunk_other", "old_column": "a",
                 "new_column": "b", "writes": "both", "reads": "old"}
        p = self.migration_proxy(migrations=[other, MIGRATION])
        generation = p.generation()
        text = p.config_text() + "# saved in two chunks\n"
        cut = text.index('[[migration]]\nname = "users-status"')
        with open(p.config_path, "w") as f:
            f.write(text[:cut])
            f.flush()
            time.sleep(0.6)  # well past the 150 ms debounce
            with psycopg.connect(host=p.host, port=p.port, user=postgres.SUPERUSER,
                                 password=self.pg.password, dbname=self.pg.dbname,
                                 sslmode="disable", autocommit=True) as conn:
                conn.execute("INSERT INTO users (id, status) VALUES (501, 'mid-write')")
            time.sleep(0.4)
            f.write(text[cut:])
        p.wait_for_generation(generation + 1)
        self.assertEqual(self.pg.query("SELECT status, state FROM users WHERE id = 501"),
                         [("mid-write", "mid-write")])
        self.assertEqual(p.generation(), generation + 1, "no generation of the half file")
        self.assertEqual([line for line in p.log_text().splitlines()
                          if "event=config_change" in line and "removed" in line], [])
        self.assertEqual(p.config_page()["flags"]["users-status"]["writes"], "both")

        # Removing a migration that writes both on purpose is allowed, and logged as a warning.
        p.migrations = [other]
        p.write_config()
        p.wait_for_generation(generation + 2)
        p.wait_for_log('event=active_migration_removed generation=' + str(generation + 2) +
                       ' migration=users-status', 10)

    def test_a_postgres_restart_between_two_catalog_checks_is_no_check_failure(self):
        pg = postgres.PostgresCluster().start()
        self.addCleanup(pg.stop)
        create_users_table(pg)
        p = self.migration_proxy(pg=pg, upstream_extra={"catalog_check_interval": "3s"})

        def check():
            return p.config_page()["catalog_check"]

        wait_until(lambda: check()["result"] == "ok", 15, interval=0.05, what="a catalog check")
        # Right after a check, so that the restart is over well before the next one.
        first = check()["time"]
        wait_until(lambda: check()["time"] != first, 15, interval=0.02, what="the next check")
        pg._pg("pg_ctl", "-D", pg.datadir, "-l", pg.logfile, "-w", "-t", "60", "-m", "fast",
               "restart")
        before = check()["time"]
        after = wait_until(lambda: (lambda c: c if c["time"] != before else None)(check()), 15,
                           interval=0.05, what="the check after the restart")
        self.assertEqual(after["result"], "ok", after)
        self.assertNotIn("event=catalog_check_failed", p.log_text())
        self.assertIn("event=catalog_check_reconnect", p.log_text())

    def test_a_failed_catalog_rebuild_is_cleared_once_the_schema_is_fixed(self):
        self.pg.query("CREATE TABLE rb_t (id int PRIMARY KEY, a int, b bigint)")
        self.addCleanup(self.pg.query, "DROP TABLE rb_t")
        p = self.migration_proxy(
            migrations=[{"name": "rb", "table": "public.rb_t", "old_column": "a",
                         "new_column": "b", "writes": "both", "reads": "old"}],
            upstream_extra={"catalog_check_interval": "200ms"})

        def last_reload():
            return p.config_page()["last_reload"]

        self.pg.query("ALTER TABLE rb_t DROP COLUMN b")
        failed = wait_until(lambda: (lambda r: r if r["result"] == "failed" else None)(
            last_reload()), 15, interval=0.05, what="the catalog rebuild to fail")
        self.assertEqual(failed["trigger"], "catalog change")
        self.assertEqual(p.metrics().get("switchyard_config_last_reload_success"), 0)

        self.pg.query("ALTER TABLE rb_t ADD COLUMN b bigint")
        ok = wait_until(lambda: (lambda r: r if r["result"] == "ok" else None)(last_reload()),
                        15, interval=0.05, what="the rebuild after the fix")
        self.assertIn("catalog change undone", ok["trigger"])
        self.assertEqual(p.metrics().get("switchyard_config_last_reload_success"), 1)
        p.wait_for_log("event=catalog_change_undone", 5)
        with psycopg.connect(host=p.host, port=p.port, user=postgres.SUPERUSER,
                             password=self.pg.password, dbname=self.pg.dbname,
                             sslmode="disable", autocommit=True) as conn:
            conn.execute("INSERT INTO rb_t (id, a) VALUES (1, 7)")
        self.assertEqual(self.pg.query("SELECT a, b FROM rb_t"), [(7, 7)])

    def test_catalog_check_reads_none_until_its_first_pass(self):
        p = self.migration_proxy()  # the default interval, 5 s
        check = p.config_page()["catalog_check"]
        self.assertEqual((check["result"], check["time"]), ("none", None), check)

    # -- [log] at reload ---------------------------------------------------------------------

    def run_a_rewritten_statement(self, p):
        """A session that runs a statement the migration rewrites (a debug line), and the log
        line of its end (info, logged after it), in either log format."""
        def ends():
            text = p.log_text()
            return text.count("event=session_end") + text.count('"event":"session_end"')

        before = ends()
        with psycopg.connect(host=p.host, port=p.port, user=postgres.SUPERUSER,
                             password=self.pg.password, dbname=self.pg.dbname,
                             sslmode="disable", autocommit=True) as conn:
            conn.execute("UPDATE users SET status = status WHERE id = 1")
        wait_until(lambda: ends() > before, 10,
                   what="the session's end to be logged")

    def test_a_reload_applies_the_log_level_and_format(self):
        p = self.migration_proxy(log_level="info", log_level_flag=False)
        self.run_a_rewritten_statement(p)
        self.assertNotIn("event=statement_rewritten", p.log_text())
        generation = p.generation()
        p.log_level = "debug"
        p.write_config()
        p.wait_for_generation(generation + 1)
        self.run_a_rewritten_statement(p)
        self.assertIn("level=debug event=statement_rewritten", p.log_text())
        p.log_format = "json"
        p.write_config()
        p.wait_for_generation(generation + 2)
        self.run_a_rewritten_statement(p)
        events = [json.loads(line) for line in p.log_text().splitlines()
                  if line.startswith("{")]
        self.assertIn(("debug", "statement_rewritten"),
                      [(e.get("level"), e.get("event")) for e in events])

    def test_a_reload_keeps_the_log_level_given_on_the_command_line(self):
        p = self.migration_proxy(log_level="info")  # also --log-level info
        generation = p.generation()
        p.log_level = "debug"
        p.write_config()
        p.wait_for_generation(generation + 1)
        p.wait_for_log("event=log_setting_kept key=log.level running=info configured=debug", 10)
        self.run_a_rewritten_statement(p)
        self.assertNotIn("event=statement_rewritten", p.log_text())

    def test_a_config_file_deleted_under_the_watch_is_a_failed_reload(self):
        p = self.migration_proxy()
        generation = p.generation()
        failed_before = p.metrics().get("switchyard_reloads_total", result="failed")
        os.remove(p.config_path)
        wait_until(lambda: p.metrics().get("switchyard_reloads_total", result="failed")
                   == failed_before + 1, 15, what="the failed reload to be counted")
        page = p.config_page()
        self.assertEqual(page["last_reload"]["result"], "failed")
        self.assertIn(p.config_path, " ".join(page["last_reload"]["errors"]))
        self.assertEqual(p.metrics().get("switchyard_config_last_reload_success"), 0)
        self.assertEqual(p.generation(), generation)
        p.write_config()
        p.wait_for_generation(generation + 1)
        self.assertEqual(p.config_page()["last_reload"]["result"], "ok")
        self.assertEqual(p.metrics().get("switchyard_reloads_total", result="failed"),
                         failed_before + 1)


if __name__ == "__main__":
    unittest.main()
