"""Process and session lifecycle: timeouts, unreachable upstream, SIGTERM drain, backends
terminated under a live proxy, and the check command."""

import json
import math
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import psycopg

from harness import rawclient as rc
from harness.base import IntegrationCase, requires_proxy
from harness.postgres import SUPERUSER
from harness.proxy import binary, render_config
from harness.util import can_connect, free_port, socket_inodes, wait_until


def thread_names(pid):
    """Thread id -> name, as `top -H` shows them."""
    names = {}
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/comm") as comm:
                names[int(task)] = comm.read().strip()
        except FileNotFoundError:  # a thread that ended meanwhile
            pass
    return names


def worker_threads(pid):
    """The names of a process's worker threads."""
    return sorted(name for name in thread_names(pid).values() if name.startswith("sy-worker-"))


@requires_proxy
class LifecycleTest(IntegrationCase):
    @classmethod
    def setUpClass(cls):
        cls.start_stack(proxy_kwargs={"timeouts": {"startup": "1s"}})
        cls.pg.query("CREATE TABLE drained (v int)")

    def test_client_that_sends_nothing_is_dropped_after_the_startup_timeout(self):
        with self.raw_session() as established, self.raw() as silent, self.raw() as partial:
            start = time.monotonic()
            partial.send(rc.startup({"user": SUPERUSER})[:6])
            silent_msgs = silent.read_until_closed(timeout=8)
            elapsed = time.monotonic() - start
            partial_msgs = partial.read_until_closed(timeout=8)
            self.assertGreaterEqual(elapsed, 0.8, "dropped before the 1s startup timeout")
            self.assertLess(elapsed, 5)
            for messages in (silent_msgs, partial_msgs):
                self.assertIn(rc.kinds(messages), (b"", b"E"), messages)
            # A session that finished startup is not subject to the startup timeout.
            self.assertEqual(rc.rows(established.simple("SELECT 'kept'")), [["kept"]])

    def test_unreachable_upstream_gets_08006_naming_the_address_promptly(self):
        dead_port = free_port()
        proxy = self.start_proxy(dead_port, timeouts={"connect": "2s"})
        start = time.monotonic()
        with rc.RawConnection(proxy.host, proxy.port) as conn:
            conn.send(rc.startup({"user": SUPERUSER, "database": self.pg.dbname}))
            messages = conn.read_until_closed(timeout=10)
        self.assertLess(time.monotonic() - start, 3)
        self.assertEqual(rc.kinds(messages), b"E", messages)
        fields = rc.errors(messages)[0]
        self.assertEqual(fields["C"], "08006")
        self.assertIn(f"127.0.0.1:{dead_port}", fields["M"])
        with self.assertRaises(psycopg.OperationalError) as caught:
            psycopg.connect(host=proxy.host, port=proxy.port, user=SUPERUSER,
                            dbname=self.pg.dbname, sslmode="disable", connect_timeout=10)
        self.assertIn(f"127.0.0.1:{dead_port}", str(caught.exception))
        self.assertTrue(proxy.alive())

    def test_sigterm_lets_an_open_transaction_finish_and_refuses_new_clients(self):
        proxy = self.start_proxy(timeouts={"drain": "20s"})
        conn = psycopg.connect(host=proxy.host, port=proxy.port, user=SUPERUSER,
                               password=self.pg.password, dbname=self.pg.dbname,
                               sslmode="disable", autocommit=False)
        try:
            conn.execute("INSERT INTO drained VALUES (1)")
            proxy.signal(signal.SIGTERM)
            wait_until(lambda: not can_connect(proxy.host, proxy.port, timeout=0.5), 5,
                       what="the listener to close")
            self.assertTrue(proxy.alive(), "exited while a transaction was open")
            conn.execute("INSERT INTO drained VALUES (2)")
            conn.commit()
        finally:
            conn.close()
        start = time.monotonic()
        self.assertEqual(proxy.wait(timeout=10), 0, proxy.log_tail())
        self.assertLess(time.monotonic() - start, 10)
        self.assertEqual(self.pg.query("SELECT v FROM drained WHERE v IN (1, 2) ORDER BY v"),
                         [(1,), (2,)])

    def test_a_transaction_ending_during_a_drain_is_told_why_the_session_closes(self):
        # After the COMMIT's ReadyForQuery the session closes; the client must hear 57P01
        # (as an idle one does), not a bare close that reads as a crash.
        proxy = self.start_proxy(timeouts={"drain": "20s"})
        with rc.RawConnection(proxy.host, proxy.port) as conn:
            conn.start(SUPERUSER, self.pg.dbname, password=self.pg.password)
            conn.simple("BEGIN")
            conn.simple("SELECT 1")
            proxy.signal(signal.SIGTERM)
            wait_until(lambda: not can_connect(proxy.host, proxy.port, timeout=0.5), 5,
                       what="the listener to close")
            committed = conn.simple("COMMIT")
            self.assertIn(b"C", rc.kinds(committed), committed)
            after = conn.read_until_closed(timeout=10)
            self.assertEqual([e["C"] for e in rc.errors(after)], ["57P01"], committed + after)
        self.assertEqual(proxy.wait(timeout=10), 0, proxy.log_tail())

    def test_sigterm_closes_idle_sessions_at_once_with_admin_shutdown(self):
        proxy = self.start_proxy(timeouts={"drain": "20s"})
        conns = [psycopg.connect(host=proxy.host, port=proxy.port, user=SUPERUSER,
                                 password=self.pg.password, dbname=self.pg.dbname,
                                 sslmode="disable", autocommit=True) for _ in range(3)]
        try:
            for conn in conns:
                conn.execute("SELECT 1")
            start = time.monotonic()
            proxy.signal(signal.SIGTERM)
            # Idle between transactions, each session ends now, not at the drain timeout.
            self.assertEqual(proxy.wait(timeout=15), 0, proxy.log_tail())
            self.assertLess(time.monotonic() - start, 10)
            for conn in conns:
                with self.assertRaisesRegex(psycopg.OperationalError, "shutting down"):
                    conn.execute("SELECT 1")
        finally:
            for conn in conns:
                conn.close()

    def test_drain_timeout_closes_sessions_that_do_not_finish(self):
        proxy = self.start_proxy(timeouts={"drain": "1s"})
        conn = psycopg.connect(host=proxy.host, port=proxy.port, user=SUPERUSER,
                               password=self.pg.password, dbname=self.pg.dbname,
                               sslmode="disable", autocommit=False)
        try:
            conn.execute("INSERT INTO drained VALUES (100)")
            start = time.monotonic()
            proxy.signal(signal.SIGTERM)
            status = proxy.wait(timeout=10)
            elapsed = time.monotonic() - start
            self.assertEqual(status, 0, proxy.log_tail())
            self.assertGreaterEqual(elapsed, 0.8, "did not wait for the drain timeout")
            self.assertLess(elapsed, 6)
            with self.assertRaises(psycopg.OperationalError):
                conn.execute("INSERT INTO drained VALUES (101)")
                conn.commit()
        finally:
            conn.close()
        wait_until(lambda: self.pg.query(
            "SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%'"
        )[0][0] == 0, 10, what="the abandoned transaction's backend to end")
        self.assertEqual(self.pg.query("SELECT count(*) FROM drained WHERE v >= 100"), [(0,)])

    def test_drain_timeout_tells_the_sessions_left_why_and_cancels_what_they_run(self):
        proxy = self.start_proxy(timeouts={"drain": "1s"})
        with rc.RawConnection(proxy.host, proxy.port, timeout=15) as in_transaction, \
                rc.RawConnection(proxy.host, proxy.port, timeout=15) as running:
            for conn in (in_transaction, running):
                conn.start(SUPERUSER, self.pg.dbname, password=self.pg.password)
            in_transaction.simple("BEGIN")
            in_transaction.simple("INSERT INTO drained VALUES (200)")
            running.send(rc.query("SELECT pg_sleep(60) /* drain-timeout-victim */"))
            wait_until(lambda: self.pg.query(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE "
                "'%drain-timeout-victim%' AND state = 'active' AND pid <> pg_backend_pid()"
            )[0][0] == 1, 10, what="the long query to run")
            proxy.signal(signal.SIGTERM)
            for conn in (in_transaction, running):
                messages = conn.read_until_closed(timeout=15)
                self.assertEqual([f["C"] for f in rc.errors(messages)], ["57P01"])
                self.assertIn("drain timeout", rc.errors(messages)[0]["M"])
            self.assertEqual(proxy.wait(timeout=10), 0, proxy.log_tail())
        # Cancelled, not left to run its 60 s until it next writes to a closed connection.
        wait_until(lambda: self.pg.query(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%drain-timeout-victim%' "
            "AND pid <> pg_backend_pid()")[0][0] == 0, 10, what="the long query to be cancelled")
        self.assertEqual(self.pg.query("SELECT count(*) FROM drained WHERE v = 200"), [(0,)])

    def test_default_threads_follow_the_cpus_the_process_may_use(self):
        # One worker per CPU of the affinity mask, cut to the cgroup's CPU limit if the machine
        # has one; each is named so that `top -H` tells the workers apart.
        cpus = sorted(os.sched_getaffinity(0))
        masks = ([cpus[0]], cpus[:2]) if len(cpus) > 1 else ([cpus[0]],)
        proxies = [(self.start_proxy(wrapper=("taskset", "-c", ",".join(map(str, mask)))),
                    len(mask)) for mask in masks]
        for proxy, allowed in proxies + [(self.proxy, len(cpus))]:
            proxy.wait_for_log("event=threads_chosen threads=", 10)
            chosen = re.search(r"event=threads_chosen threads=(\d+) cpus_online=\d+ "
                               r"cpus_allowed=(\d+) cgroup_cpu_limit=(\S+)", proxy.log_text())
            self.assertIsNotNone(chosen, proxy.log_text())
            threads, limit = int(chosen.group(1)), chosen.group(3)
            self.assertEqual(int(chosen.group(2)), allowed)
            self.assertEqual(threads, allowed if limit == "none"
                             else min(allowed, math.ceil(float(limit))))
            with self.connect(host=proxy.host, port=proxy.port) as conn:
                self.assertEqual(conn.execute("SELECT 'served'").fetchone(), ("served",))
            self.assertEqual(worker_threads(proxy.process.pid),
                             sorted(f"sy-worker-{i}" for i in range(threads)))

    def test_workers_run_under_the_configured_scheduling_policy(self):
        # Batch by default (fewer wake-ups on a machine shared with the database);
        # "normal" leaves them as every other thread. Only the workers change.
        normal = self.start_proxy(extra={"runtime": {"scheduling": "normal"}})
        self.proxy.wait_for_log("event=listening", 10)
        refused = re.search(r"event=scheduling_refused .*", self.proxy.log_text())
        if refused:  # a seccomp filter outside the project's control; the proxy still serves
            self.skipTest(refused.group(0))
        for proxy, policy in ((self.proxy, os.SCHED_BATCH), (normal, os.SCHED_OTHER)):
            proxy.wait_for_log("event=listening", 10)
            self.assertIn(f"scheduling={'batch' if policy == os.SCHED_BATCH else 'normal'}",
                          proxy.log_text())
            with self.connect(host=proxy.host, port=proxy.port) as conn:
                self.assertEqual(conn.execute("SELECT 'served'").fetchone(), ("served",))
            names = thread_names(proxy.process.pid)
            workers = [tid for tid, name in names.items() if name.startswith("sy-worker-")]
            self.assertTrue(workers, names)
            for tid, name in names.items():
                expected = policy if tid in workers else os.SCHED_OTHER
                self.assertEqual(os.sched_getscheduler(tid), expected, f"{name} ({tid})")

    def test_upstream_named_by_host_name_serves_writes_and_cancels(self):
        # A worker cannot run Asio's resolver: the name is looked up on the blocking pool and
        # the session resumes on its worker; a cancel resolves the name again the same way.
        named = self.start_proxy(upstream_host="localhost")
        self.pg.query("CREATE TABLE by_name (id int PRIMARY KEY, note text)")
        self.addCleanup(self.pg.query, "DROP TABLE by_name")
        with self.connect(host=named.host, port=named.port) as conn:
            conn.execute("INSERT INTO by_name VALUES (1, 'through localhost')")
        self.assertEqual(self.pg.query("SELECT note FROM by_name"), [("through localhost",)])
        with rc.RawConnection(named.host, named.port) as victim:
            victim.start(SUPERUSER, self.pg.dbname, password=self.pg.password)
            pid = int(rc.rows(victim.simple("SELECT pg_backend_pid()"))[0][0])
            victim.send(rc.query("SELECT pg_sleep(30)"))
            wait_until(lambda: self.pg.query(
                "SELECT state FROM pg_stat_activity WHERE pid = %s", (pid,)) == [("active",)],
                10, what="the sleep to start")
            with rc.RawConnection(named.host, named.port) as cancel:
                cancel.send(rc.cancel_request(victim.backend_pid, victim.backend_key))
                self.assertEqual(cancel.read_until_closed(timeout=10), [])
            messages = victim.read_until_ready(timeout=10)
            self.assertEqual(rc.errors(messages)[0]["C"], "57014")
        named.wait_for_log("event=cancel_forwarded", 10)
        self.assertIn("upstream=localhost:", named.log_text())

    def test_idle_proxy_exits_zero_on_sigterm(self):
        proxy = self.start_proxy()
        self.assertEqual(proxy.stop(timeout=10), 0, proxy.log_tail())

    def test_a_log_reader_that_goes_away_costs_log_lines_not_the_process(self):
        # A pipe to a log shipper, `| tee` or `| head` that exits: the next log line must not
        # kill the proxy (SIGPIPE) and every session in it.
        directory = tempfile.mkdtemp(prefix="switchyard-sigpipe-")
        port = free_port()
        path = os.path.join(directory, "switchyard.toml")
        with open(path, "w") as f:
            f.write(render_config({"listen": {"address": f"127.0.0.1:{port}"},
                                   "upstream": {"address": f"127.0.0.1:{self.pg.port}"}}))
        proc = subprocess.Popen([binary(), "serve", "--config", path, "--log-level", "debug"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        try:
            proc.stdout.readline()  # the first line: it runs and writes to the pipe
            wait_until(lambda: can_connect("127.0.0.1", port, timeout=0.2), 15,
                       what="switchyard to accept connections")
            with psycopg.connect(self.conninfo(port=port), autocommit=True) as held:
                held.execute("BEGIN")
                proc.stdout.close()  # the reader goes away
                for _ in range(3):  # each session logs at debug
                    with psycopg.connect(self.conninfo(port=port), autocommit=True) as other:
                        self.assertEqual(other.execute("SELECT 7").fetchone()[0], 7)
                self.assertEqual(held.execute("SELECT 'still here'").fetchone()[0],
                                 "still here")
                held.execute("COMMIT")
            self.assertIsNone(proc.poll(), "the proxy exited when its log reader went away")
        finally:
            proc.kill()
            proc.wait(timeout=10)
            shutil.rmtree(directory, ignore_errors=True)

    def test_idle_client_closes_a_session_idle_outside_a_transaction_with_a_fatal(self):
        proxy = self.start_proxy(timeouts={"idle_client": "1s"})
        with rc.RawConnection(proxy.host, proxy.port, timeout=10) as conn:
            conn.start(SUPERUSER, self.pg.dbname, password=self.pg.password)
            self.assertEqual(rc.rows(conn.simple("SHOW idle_session_timeout")), [["1s"]])
            # RESET ALL keeps it: it is the session's default, not a SET.
            conn.simple("RESET ALL")
            messages = conn.read_until_closed(timeout=10)
            self.assertEqual([f["C"] for f in rc.errors(messages)], ["57P05"])
        # A client's own setting wins; without idle_client nothing is added.
        with psycopg.connect(self.conninfo(port=proxy.port,
                                           options="-c idle_session_timeout=0")) as conn:
            self.assertEqual(conn.execute("SHOW idle_session_timeout").fetchone()[0], "0")
        with self.connect() as conn:
            self.assertEqual(conn.execute("SHOW idle_session_timeout").fetchone()[0], "0")

    def test_terminating_one_backend_leaves_other_sessions_working(self):
        with self.connect() as victim, self.connect() as bystander:
            victim_pid = victim.execute("SELECT pg_backend_pid()").fetchone()[0]
            bystander.execute("SELECT 1")
            self.assertEqual(self.pg.query("SELECT pg_terminate_backend(%s)", (victim_pid,)),
                             [(True,)])
            with self.assertRaises(psycopg.OperationalError):
                victim.execute("SELECT 1")
            self.assertEqual(bystander.execute("SELECT 'fine'").fetchone()[0], "fine")
        self.assert_endpoint_works()
        self.assertTrue(self.proxy.alive())

    def test_terminated_backend_is_reported_to_a_raw_client(self):
        with self.raw_session() as conn:
            pid = int(rc.rows(conn.simple("SELECT pg_backend_pid()"))[0][0])
            self.pg.query("SELECT pg_terminate_backend(%s)", (pid,))
            messages = conn.read_until_closed(timeout=10)
            self.assertEqual([f["C"] for f in rc.errors(messages)], ["57P01"])

    def test_client_and_upstream_sockets_probe_with_keepalive(self):
        # A peer that vanishes without a FIN or reset must not hold a session forever: the
        # kernel's keepalive timer ("tr" 2 in /proc/net/tcp) runs on both of the proxy's sockets.
        # Right after a reply a socket's retransmit timer (1) runs until the peer's ACK; the
        # keepalive timer shows once the connection is idle.
        with self.raw_session() as conn:
            self.assertEqual(rc.rows(conn.simple("SELECT 1")), [["1"]])
            client_port = conn.sock.getsockname()[1]
            seen = {}

            def idle_with_keepalive():
                timers = proxy_socket_timers(self.proxy.process.pid)
                seen["client"] = [t for (local, remote), t in timers.items()
                                  if local == self.proxy.port and remote == client_port]
                seen["upstream"] = [t for (_, remote), t in timers.items()
                                    if remote == self.pg.port]
                return seen["client"] == [2] and seen["upstream"] and \
                    set(seen["upstream"]) == {2}

            try:
                wait_until(idle_with_keepalive, 10, what="keepalive timers")
            except TimeoutError:
                self.fail(f"no keepalive timer on the proxy's sockets: {seen}")


def proxy_socket_timers(pid):
    """(local port, remote port) -> the timer kind of each established TCP socket of `pid`."""
    inodes = socket_inodes(pid)
    timers = {}
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            local, remote, state, timer, inode = fields[1], fields[2], fields[3], fields[5], fields[9]
            if inode in inodes and state == "01":  # ESTABLISHED
                port = lambda address: int(address.split(":")[1], 16)  # noqa: E731
                timers[(port(local), port(remote))] = int(timer.split(":")[0], 16)
    return timers


@requires_proxy
class LoggingTest(IntegrationCase):
    """What the logs may and may not contain (DESIGN section 5 and section 2 on secrets)."""

    PASSWORD = "Sekr1t-never-logged"

    @classmethod
    def setUpClass(cls):
        # Cleartext password authentication: the secret itself crosses the proxy.
        cls.start_stack(pg_kwargs={"auth": "password"})
        cls.pg.create_role("logged_user", cls.PASSWORD)

    def session_through(self, proxy, marker):
        with psycopg.connect(host=proxy.host, port=proxy.port, user="logged_user",
                             password=self.PASSWORD, dbname=self.pg.dbname,
                             sslmode="disable", autocommit=True) as conn:
            conn.execute(f"SELECT '{marker}-extended'")
            psycopg.ClientCursor(conn).execute(f"SELECT '{marker}-simple'")
            with self.assertRaises(psycopg.errors.UndefinedColumn):
                conn.execute(f"SELECT {marker.replace('-', '_')}_failing")

    def test_json_log_format_writes_one_object_per_line(self):
        proxy = self.start_proxy(log_level="debug", extra_args=["--log-format", "json"])
        self.session_through(proxy, "json")
        self.assertEqual(proxy.stop(), 0)
        lines = [line for line in proxy.log_text().splitlines() if line.strip()]
        self.assertGreaterEqual(len(lines), 2)
        for line in lines:
            self.assertIsInstance(json.loads(line), dict, line)
        self.assertTrue(any("listening" in line for line in lines), lines)

    def test_query_text_is_not_logged_at_info(self):
        proxy = self.start_proxy(log_level="info")
        self.session_through(proxy, "qmarker")
        self.assertEqual(proxy.stop(), 0)
        log = proxy.log_text()
        self.assertNotIn("qmarker", log)

    def test_passwords_are_never_logged_even_at_trace(self):
        proxy = self.start_proxy(log_level="trace")
        self.session_through(proxy, "trace")
        wrong = "Wr0ng-secret-attempt"
        with self.assertRaises(psycopg.OperationalError):
            psycopg.connect(host=proxy.host, port=proxy.port, user="logged_user",
                            password=wrong, dbname=self.pg.dbname, sslmode="disable")
        self.assertEqual(proxy.stop(), 0)
        log = proxy.log_text()
        for secret in (self.PASSWORD, wrong):
            self.assertNotIn(secret, log)
            self.assertNotIn(secret.encode().hex(), log.lower())


class CommandLineTest(unittest.TestCase):
    """The non-serving commands: check, --help, --version."""

    @classmethod
    def setUpClass(cls):
        if not binary():
            raise unittest.SkipTest("needs SWITCHYARD_BIN")
        cls.dir = tempfile.TemporaryDirectory(prefix="switchyard-cli-")
        cls.addClassCleanup(cls.dir.cleanup)

    def run_binary(self, *args):
        return subprocess.run([binary(), *args], capture_output=True, text=True, timeout=30)

    def write(self, name, text):
        path = os.path.join(self.dir.name, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_check_accepts_a_minimal_config(self):
        path = self.write("good.toml", render_config({
            "listen": {"address": "127.0.0.1:6432"},
            "upstream": {"address": "127.0.0.1:5432"}}))
        proc = self.run_binary("check", "--config", path)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

    def test_check_reports_every_error_with_line_and_key(self):
        path = self.write("bad.toml", '[listen]\naddress = "127.0.0.1:6432"\n\n[upstream]\n'
                          'address = "127.0.0.1:5432"\ntls = "sometimes"\n\n[timeouts]\n'
                          'startup = "soon"\n')
        proc = self.run_binary("check", "--config", path)
        output = proc.stdout + proc.stderr
        self.assertEqual(proc.returncode, 1, output)
        # Each error names the file, its line and the key path.
        self.assertRegex(output, r"bad\.toml:6\b.*upstream\.tls")
        self.assertRegex(output, r"bad\.toml:9\b.*timeouts\.startup")

    def test_check_rejects_a_config_without_upstream(self):
        path = self.write("noupstream.toml", '[listen]\naddress = "127.0.0.1:6432"\n')
        proc = self.run_binary("check", "--config", path)
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn("upstream", proc.stdout + proc.stderr)

    def test_a_database_that_is_down_stops_serve_and_check_with_what_to_do(self):
        # Migrations are checked against the catalog before anything is served. The advice
        # fits the command: only check and rewrite have --offline.
        socket_dir = os.path.join(self.dir.name, "no-postgres-here")
        path = self.write("down.toml", render_config({
            "listen": {"address": "127.0.0.1:0"},
            "upstream": {"address": socket_dir, "user": "switchyard", "password_env": "HOME",
                         "database": "app"},
            "migration": [{"name": "m", "table": "public.users", "old_column": "status",
                           "new_column": "state", "writes": "both", "reads": "old"}]}))
        serve = self.run_binary("serve", "--config", path)
        self.assertEqual(serve.returncode, 1, serve.stdout + serve.stderr)
        self.assertIn(f"{socket_dir}/.s.PGSQL.5432", serve.stderr)
        self.assertIn("does not start without it", serve.stderr)
        self.assertNotIn("--offline", serve.stderr)
        check = self.run_binary("check", "--config", path)
        self.assertEqual(check.returncode, 1, check.stdout + check.stderr)
        self.assertIn("`--offline` skips this", check.stderr)
        self.assertEqual(self.run_binary("check", "--offline", "--config", path).returncode, 0)

    def test_offline_tools_run_without_the_password(self):
        # A config whose secret lives only where the proxy runs: check and rewrite still work
        # offline (no database), and the online check says which variable is missing.
        variable = "SWITCHYARD_TEST_UNSET_PASSWORD"
        path = self.write("secret.toml", render_config({
            "listen": {"address": "127.0.0.1:6432"},
            "upstream": {"address": "127.0.0.1:5432", "user": "switchyard",
                         "password_env": variable, "database": "app"},
            "migration": [{"name": "m", "table": "public.users", "old_column": "status",
                           "new_column": "state", "writes": "both", "reads": "old"}]}))
        env = {k: v for k, v in os.environ.items() if k != variable}

        def run(*args):
            return subprocess.run([binary(), *args], capture_output=True, text=True,
                                  timeout=30, env=env)

        checked = run("check", "--config", path, "--offline")
        self.assertEqual(checked.returncode, 0, checked.stdout + checked.stderr)
        rewritten = run("rewrite", "--config", path, "--offline", "--sql",
                        "UPDATE public.users SET status = 'x' WHERE id = 1")
        self.assertEqual(rewritten.returncode, 0, rewritten.stdout + rewritten.stderr)
        self.assertIn("state = 'x'", rewritten.stdout)
        online = run("check", "--config", path)
        self.assertEqual(online.returncode, 1, online.stdout + online.stderr)
        self.assertIn(variable + " is not set", online.stderr)

    def test_every_usage_error_exits_2_with_one_line_naming_the_flag(self):
        # The same exit status for a bad flag, a bad value and a missing one, whichever the
        # command, checked before the config file is read (none of these files exists).
        missing = os.path.join(self.dir.name, "absent.toml")
        rows = [
            (["--log-format", "xml"], "option '--log-format' needs a command before it"),
            (["serve", "--config", missing, "--log-level", "loud"],
             "--log-level must be one of trace, debug, info, warn, error, critical, off, "
             "not 'loud'"),
            (["serve", "--config", missing, "--log-format", "xml"],
             "--log-format must be one of text, json, not 'xml'"),
            (["check", "--config", missing, "--log-level=loud"], "--log-level must be one of"),
            (["serve", "--config", missing, "--log-level"],
             "--log-level needs a value: one of trace, debug"),
            (["check", "--config"], "--config needs a value"),
            (["check"], "'check' needs --config FILE"),
            (["rewrite", "--config", missing, "--bogus"],
             "unknown option '--bogus' for 'rewrite'"),
            (["rewrite", "--config", missing, "--offline=yes"], "--offline takes no value"),
            (["frob"], "unknown command 'frob'"),
            ([], "no command given"),
            (["backfill", "--config", missing, "--migration", "m", "--progress", "loud"],
             '--progress: expects auto, bar or log, got "loud"'),
            (["verify", "--config", missing, "--migration", "m", "--direction", "sideways"],
             '--direction: expects both, to-new or to-old, got "sideways"'),
            (["backfill", "--config", missing, "--batch-size", "0", "--migration", "m"],
             "--batch-size: expects an integer >= 1"),
            (["backfill", "--config", missing], "--migration NAME is required"),
            (["status", "--config"], "--config needs a value"),
            (["status", "--config", missing, "--dry-run"], 'unknown option "--dry-run"'),
        ]
        for args, message in rows:
            with self.subTest(args=args):
                proc = self.run_binary(*args)
                self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
                self.assertEqual(proc.stdout, "")
                self.assertIn(message, proc.stderr)
                self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)

    def test_an_offline_rewrite_names_the_table_as_written_and_how_to_give_its_columns(self):
        # Offline no catalog is read; a name written without its schema was named by the first
        # schema the server searches, pg_catalog, which no user table is in.
        path = self.write("offline.toml", render_config({
            "listen": {"address": "127.0.0.1:6432"},
            "upstream": {"address": "127.0.0.1:5432", "user": "switchyard",
                         "password_env": "SWITCHYARD_TEST_UNSET_PASSWORD", "database": "app"},
            "migration": [{"name": "m", "table": "public.users", "old_column": "status",
                           "new_column": "state", "writes": "both", "reads": "new"}]}))
        rows = [
            ("SELECT * FROM users",
             'the columns of public.users (written users: migration "m"\'s table'),
            ("SELECT status FROM users JOIN orders USING (id)",
             "orders (written without a schema: the one the search_path finds)"),
            ("SELECT status FROM public.users", "the columns of public.users\n"),
        ]
        for sql, needed in rows:
            with self.subTest(sql=sql):
                proc = self.run_binary("rewrite", "--config", path, "--offline", "--sql", sql)
                self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
                self.assertIn("-- outcome: needs the catalog", proc.stdout)
                self.assertIn(needed, proc.stdout)
                self.assertNotIn("pg_catalog", proc.stdout)
                self.assertIn("run without --offline, and the rewrite reads them from the "
                              "database", proc.stdout)

    def test_help_and_version(self):
        help_proc = self.run_binary("--help")
        self.assertEqual(help_proc.returncode, 0)
        self.assertIn("serve", help_proc.stdout + help_proc.stderr)
        version = self.run_binary("--version")
        self.assertEqual(version.returncode, 0)
        self.assertRegex(version.stdout + version.stderr, r"\d+\.\d+\.\d+")


if __name__ == "__main__":
    unittest.main()
