#!/usr/bin/python3
"""Proxy benchmark (issue 6): Switchyard against PgBouncer and direct PostgreSQL, same run.

One command starts everything on 127.0.0.1 and free ports, and stops everything on exit (also
on failure or Ctrl-C):
  - a throwaway PostgreSQL 15 (the integration harness: initdb as a non-root user, fsync off),
  - PgBouncer from Debian, session mode, SCRAM-SHA-256 towards the client and the server,
  - Switchyard "untouched": a migration on a table the workload never names (every statement
    takes the pass-through fast path),
  - Switchyard "rewritten": a migration on pgbench_accounts (abalance -> abalance_v2, writes =
    both, reads = new), so every pgbench_accounts UPDATE and SELECT is rewritten.

Then pgbench select-only and TPC-B in -M simple, extended and prepared. Within each cell the
targets are cycled (direct, PgBouncer, Switchyard x2) `--repeat` times so that machine load
hits all of them alike (the order rotates each repeat); medians are reported, and ratios (to
direct; rewriting to pass-through) are taken repeat by repeat before the median. Proxy CPU per
statement comes from utime+stime in /proc/PID/stat before and after each run, divided by the
statements pgbench completed.
Last, idle memory: RSS growth of each proxy with N idle logged-in clients, per client.

Usage (from the repository root, after building the switchyard target):
  SWITCHYARD_BIN=build/proxy/switchyard /usr/bin/python3 bench/run_bench.py [--quick]
Options: --seconds, --repeat, --clients, --threads, --scale, --idle-clients, --proxy-threads,
--proxy-scheduling, --markdown FILE.
The default run takes about 14 minutes on 2 cores; --quick (1 repeat, 3 s runs, 300 idle
clients) about 2.
"""

import argparse
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

import psycopg  # noqa: E402

from harness import pgbouncer, postgres, proxy  # noqa: E402
from harness.util import free_port, tail  # noqa: E402

PASSWORD_ENV = "SWITCHYARD_BENCH_PASSWORD"
PGBOUNCER = pgbouncer.PGBOUNCER
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Statements per pgbench transaction: select-only is one SELECT; TPC-B is BEGIN, 3 UPDATEs,
# a SELECT, an INSERT and END.
SCRIPTS = {"select-only": (["-S"], 1), "tpcb": ([], 7)}
MODES = ("simple", "extended", "prepared")
TARGETS = ("direct", "pgbouncer", "switchyard", "switchyard-rewrite")
# The migration of each Switchyard target: "switchyard" maps a table the workload never names
# (every statement takes the pass-through fast path); "switchyard-rewrite" maps
# pgbench_accounts.abalance, so every pgbench_accounts statement is rewritten.
MIGRATIONS = {
    "switchyard": {"name": "untouched", "table": "public.bench_other", "old_column": "note",
                   "new_column": "note_v2", "writes": "both", "reads": "new"},
    "switchyard-rewrite": {"name": "accounts", "table": "public.pgbench_accounts",
                           "old_column": "abalance", "new_column": "abalance_v2",
                           "writes": "both", "reads": "new"},
}


def add_migration_columns(pg):
    """After pgbench -i: the rewritten migration's new column, filled so that reads = new
    returns the same values, and the table of the untouched migration."""
    pg.query("ALTER TABLE pgbench_accounts ADD COLUMN abalance_v2 int")
    pg.query("UPDATE pgbench_accounts SET abalance_v2 = abalance")
    pg.query("CREATE TABLE bench_other (id int PRIMARY KEY, note text, note_v2 text)")


def upstream_address(pg, transport):
    """Where a proxy reaches `pg`: its TCP port, or its unix socket (directory and port, as
    libpq and Switchyard name it)."""
    return f"{pg.directory}:{pg.port}" if transport == "unix" else f"127.0.0.1:{pg.port}"


def switchyard_for(pg, target, threads=0, scheduling="batch", transport="tcp"):
    """A Switchyard (not started) in front of `pg` with `target`'s migration; the password is
    read from PASSWORD_ENV."""
    return proxy.SwitchyardProxy(pg.port, log_level="warn", extra={
        "upstream": {"address": upstream_address(pg, transport), "tls": "disable",
                     "user": postgres.SUPERUSER, "password_env": PASSWORD_ENV,
                     "database": pg.dbname},
        "migration": [MIGRATIONS[target]],
        "runtime": {"threads": threads, "scheduling": scheduling}})


def pgbench_binary():
    for path in (os.path.join(postgres.PG_BIN, "pgbench"), "/usr/bin/pgbench"):
        if os.path.exists(path):
            return path
    sys.exit("pgbench not found")


def cpu_seconds(pid):
    """utime + stime of a process, in seconds (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        # The command name is in parentheses and may hold spaces: split after it.
        fields = f.read().rsplit(")", 1)[1].split()
    # Fields 14 and 15 of proc(5), counted from 1; fields[0] here is field 3.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


class PgBouncer:
    """Debian's pgbouncer in session mode; SCRAM with the client, SCRAM with the server."""

    def __init__(self, pg, max_clients, wrapper=(), transport="tcp"):
        self.pg = pg
        self.max_clients = max_clients
        self.transport = transport
        self.wrapper = list(wrapper)  # a command to run PgBouncer under (a profiler)
        self.host = "127.0.0.1"
        self.port = None
        self.directory = None
        self.process = None

    def start(self):
        self.directory = tempfile.mkdtemp(prefix="switchyard-bench-pgbouncer-")
        self.port = free_port()
        ini = os.path.join(self.directory, "pgbouncer.ini")
        users = os.path.join(self.directory, "userlist.txt")
        with open(users, "w") as f:
            f.write(f'"{self.pg.user}" "{self.pg.password}"\n')
        # PgBouncer's host names a unix socket's directory the way libpq does.
        server_host = self.pg.directory if self.transport == "unix" else "127.0.0.1"
        with open(ini, "w") as f:
            f.write(f"""[databases]
{self.pg.dbname} = host={server_host} port={self.pg.port} dbname={self.pg.dbname}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = {users}
pool_mode = session
max_client_conn = {self.max_clients + 100}
default_pool_size = {self.max_clients + 50}
logfile = {os.path.join(self.directory, "pgbouncer.log")}
log_connections = 0
log_disconnections = 0
log_pooler_errors = 1
""")
        self.process = pgbouncer.launch(self.directory, ini, users, self.host, self.port,
                                        self.wrapper)

    def log_tail(self):
        return tail(os.path.join(self.directory, "pgbouncer.log"))

    def version(self):
        out = subprocess.run([PGBOUNCER, "--version"], capture_output=True, text=True)
        return out.stdout.splitlines()[0] if out.stdout else "?"

    def close(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None


class Bench:
    def __init__(self, args):
        self.args = args
        self.pg = None
        self.bouncer = None
        self.proxies = {}
        self.endpoints = {}  # target -> (host, port, pid or None)

    # -- setup -------------------------------------------------------------------------------

    def start(self):
        a = self.args
        self.pg = postgres.PostgresCluster(settings={
            "max_connections": a.idle_clients + 100,
            "shared_buffers": "256MB",
            "log_connections": "off",
            "log_disconnections": "off",
        })
        self.pg.start()
        log(f"postgres on port {self.pg.port}; pgbench -i -s {a.scale} ...")
        self.pgbench(self.pg.host, self.pg.port, "-i", "-q", "-s", str(a.scale), timeout=600)
        add_migration_columns(self.pg)
        self.pg.query("VACUUM ANALYZE")

        self.bouncer = PgBouncer(self.pg, a.idle_clients, transport=a.upstream)
        self.bouncer.start()
        os.environ[PASSWORD_ENV] = self.pg.password
        for target in MIGRATIONS:
            p = switchyard_for(self.pg, target, a.proxy_threads, a.proxy_scheduling, a.upstream)
            p.start()
            self.proxies[target] = p
            self.endpoints[target] = (p.host, p.port, p.process.pid)
        self.endpoints["direct"] = (self.pg.host, self.pg.port, None)
        self.endpoints["pgbouncer"] = (self.bouncer.host, self.bouncer.port,
                                       self.bouncer.process.pid)
        self.check_rewrite()

    def check_rewrite(self):
        """The rewritten configuration really rewrites: a row changed through it has both
        columns updated; one changed directly has only the old one."""
        host, port, _ = self.endpoints["switchyard-rewrite"]
        with psycopg.connect(host=host, port=port, user=self.pg.user, password=self.pg.password,
                             dbname=self.pg.dbname, autocommit=True) as conn:
            conn.execute("UPDATE pgbench_accounts SET abalance = abalance + 7 WHERE aid = 1")
        (old, new), = self.pg.query("SELECT abalance, abalance_v2 FROM pgbench_accounts "
                                    "WHERE aid = 1")
        if old != new:
            raise RuntimeError(f"rewrite check failed: abalance {old}, abalance_v2 {new}")
        self.pg.query("UPDATE pgbench_accounts SET abalance = abalance - 7, "
                      "abalance_v2 = abalance_v2 - 7 WHERE aid = 1")

    def close(self):
        for p in self.proxies.values():
            p.close()
        if self.bouncer is not None:
            self.bouncer.close()
        if self.pg is not None:
            self.pg.stop()

    # -- pgbench -----------------------------------------------------------------------------

    def pgbench(self, host, port, *args, timeout):
        env = dict(os.environ, PGPASSWORD=self.pg.password, PGSSLMODE="disable",
                   PGCONNECT_TIMEOUT="10")
        proc = subprocess.run([pgbench_binary(), "-h", host, "-p", str(port), "-U",
                               postgres.SUPERUSER, *args, self.pg.dbname],
                              capture_output=True, text=True, timeout=timeout, env=env)
        if proc.returncode != 0:
            raise RuntimeError(f"pgbench {' '.join(args)} failed ({proc.returncode}):\n"
                               f"{proc.stdout}\n{proc.stderr}")
        return proc.stdout + proc.stderr

    def run_once(self, target, script, mode):
        a = self.args
        host, port, pid = self.endpoints[target]
        flags, per_txn = SCRIPTS[script]
        before = cpu_seconds(pid) if pid else 0.0
        out = self.pgbench(host, port, *flags, "-M", mode, "-n", "-c", str(a.clients), "-j",
                           str(a.threads), "-T", str(a.seconds), timeout=a.seconds + 120)
        after = cpu_seconds(pid) if pid else 0.0
        txns = int(re.search(r"number of transactions actually processed: (\d+)", out)[1])
        failed = re.search(r"number of failed transactions: (\d+)", out)
        if failed and int(failed[1]) != 0:
            raise RuntimeError(f"{target} {script} {mode}: failed transactions\n{out}")
        tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)[1])
        latency = float(re.search(r"latency average = ([\d.]+) ms", out)[1])
        statements = txns * per_txn
        cpu_us = (after - before) * 1e6 / statements if pid and statements else None
        return {"tps": tps, "latency": latency, "cpu_us": cpu_us, "statements": statements,
                "cpu_s": after - before}

    def run_cells(self):
        a = self.args
        results = {}
        cells = [(s, m) for s in SCRIPTS for m in MODES]
        for n, (script, mode) in enumerate(cells, 1):
            runs = {t: [] for t in TARGETS}
            for rep in range(a.repeat):
                # The order rotates each repeat so that no target always runs right after the
                # same neighbour (caches, the load other work puts on the machine meanwhile).
                for target in TARGETS[rep % len(TARGETS):] + TARGETS[:rep % len(TARGETS)]:
                    r = self.run_once(target, script, mode)
                    runs[target].append(r)
                    cpu = f"{r['cpu_us']:.1f} us/stmt" if r["cpu_us"] is not None else ""
                    log(f"[{n}/{len(cells)} rep {rep + 1}] {script:<11} {mode:<8} "
                        f"{target:<18} {r['tps']:>9.1f} tps {cpu}")
            results[(script, mode)] = runs
        return results

    # -- idle memory -------------------------------------------------------------------------

    def idle_memory(self, target):
        """KiB of RSS per idle logged-in client: RSS with N clients minus RSS with none."""
        host, port, pid = self.endpoints[target]
        conns = []
        # One warm-up client first so that lazily initialised per-process state (thread pools,
        # the first upstream login, caches) is not charged to the idle clients.
        warm = psycopg.connect(host=host, port=port, user=self.pg.user,
                               password=self.pg.password, dbname=self.pg.dbname, autocommit=True)
        warm.execute("SELECT 1")
        base = rss_kib(pid)
        try:
            deadline = time.monotonic() + 600
            for _ in range(self.args.idle_clients):
                if time.monotonic() > deadline:
                    raise RuntimeError("idle clients: connecting took over 10 minutes")
                conns.append(psycopg.connect(host=host, port=port, user=self.pg.user,
                                             password=self.pg.password, dbname=self.pg.dbname,
                                             autocommit=True, connect_timeout=30))
            loaded = rss_kib(pid)
        finally:
            for c in conns:
                c.close()
            warm.close()
        return base, loaded, (loaded - base) / max(1, len(conns))


def log(message):
    print(message, file=sys.stderr, flush=True)


def machine():
    mem_kib = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (f"{os.cpu_count()} cores ({model}), {mem_kib / 1024 / 1024:.1f} GiB RAM, "
            f"Linux {platform.release()}")


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def report(bench, results, idle, started, load_before):
    a = bench.args
    lines = []
    out = lines.append
    out(f"Command: `{' '.join(sys.argv)}`")
    out(f"Machine: {machine()}; load average before {load_before}, after {loadavg()}; "
        f"wall time {(time.monotonic() - started) / 60:.1f} min.")
    out(f"PostgreSQL 15 (fsync = off, synchronous_commit = off, full_page_writes = off, "
        f"shared_buffers = 256MB, max_connections = {a.idle_clients + 100}); "
        f"{bench.bouncer.version()} (pool_mode = session, auth_type = scram-sha-256); "
        f"both proxies reach Postgres over "
        f"{'its unix socket' if a.upstream == 'unix' else 'TCP on 127.0.0.1'}; "
        f"pgbench -s {a.scale} -c {a.clients} -j {a.threads} -T {a.seconds}, "
        f"{a.repeat} repeat(s) per target, targets cycled within each cell in an order that "
        f"rotates each repeat; medians.")
    out("")
    out("| script | mode | target | tps | latency ms | ratio to direct | proxy CPU us/stmt |")
    out("|---|---|---|---|---|---|---|")
    verdicts = []
    for (script, mode), runs in results.items():
        med = {}
        for target in TARGETS:
            rs = runs[target]
            cpu = [r["cpu_us"] for r in rs if r["cpu_us"] is not None]
            med[target] = {
                "tps": statistics.median(r["tps"] for r in rs),
                "latency": statistics.median(r["latency"] for r in rs),
                "cpu": statistics.median(cpu) if cpu else None,
                # The ratio of each repeat to the direct run of the same repeat, then the median:
                # neighbours in time see the same machine load.
                "ratio": statistics.median(r["tps"] / d["tps"]
                                           for r, d in zip(rs, runs["direct"])),
            }
        for target in TARGETS:
            m = med[target]
            cpu = f"{m['cpu']:.1f}" if m["cpu"] is not None else "-"
            out(f"| {script} | {mode} | {target} | {m['tps']:.0f} | {m['latency']:.3f} | "
                f"{m['ratio']:.2f} | {cpu} |")
        sy, pb, rw = med["switchyard"], med["pgbouncer"], med["switchyard-rewrite"]
        # Paired like the ratio to direct: each repeat's rewriting run against the pass-through
        # run of the same repeat. The range shows how far one cell moves between repeats.
        changes = [rewriting["tps"] / passing["tps"] - 1
                   for rewriting, passing in zip(runs["switchyard-rewrite"], runs["switchyard"])]
        rw_change = statistics.median(changes)
        # The verdict compares the medians; the paired ratios (each repeat's pass-through run
        # against PgBouncer's run of the same repeat) show how far the comparison itself moves.
        cpu_ratios = [passing["cpu_us"] / bouncer["cpu_us"]
                      for passing, bouncer in zip(runs["switchyard"], runs["pgbouncer"])
                      if passing["cpu_us"] and bouncer["cpu_us"]]
        cpu_paired = ((statistics.median(cpu_ratios), min(cpu_ratios), max(cpu_ratios))
                      if cpu_ratios else None)
        verdicts.append((script, mode, sy["cpu"] <= pb["cpu"], sy["ratio"] >= pb["ratio"],
                         rw_change >= -0.05, sy, pb, (rw_change, min(changes), max(changes)),
                         cpu_paired))
    out("")
    out("| script | mode | pass-through CPU <= PgBouncer (medians; paired ratio: median, range) "
        "| ratio >= PgBouncer | "
        "rewritten tps within 5% of pass-through (median of repeats; range) |")
    out("|---|---|---|---|---|")
    for script, mode, cpu_ok, ratio_ok, rw_ok, sy, pb, (change, low, high), paired in verdicts:
        cpu_pairs = (f"; {paired[0]:.2f}x, {paired[1]:.2f} to {paired[2]:.2f}x" if paired
                     else "")
        out(f"| {script} | {mode} | {'yes' if cpu_ok else 'NO'} ({sy['cpu']:.1f} vs "
            f"{pb['cpu']:.1f}{cpu_pairs}) | {'yes' if ratio_ok else 'NO'} ({sy['ratio']:.2f} vs "
            f"{pb['ratio']:.2f}) | {'yes' if rw_ok else 'NO'} "
            f"({change * 100:+.1f}%; {low * 100:+.1f} to {high * 100:+.1f}%) |")
    if idle:
        out("")
        out(f"Idle memory: {a.idle_clients} idle logged-in clients (psycopg, SCRAM), RSS growth "
            "of the proxy process after one warm-up client.")
        out("")
        out("| proxy | RSS before KiB | RSS with clients KiB | KiB per idle client |")
        out("|---|---|---|---|")
        for target, (base, loaded, per) in idle.items():
            out(f"| {target} | {base} | {loaded} | {per:.2f} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="1 repeat, 3 s runs, 300 idle clients (about 2 minutes)")
    parser.add_argument("--seconds", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--proxy-threads", type=int, default=0,
                        help="Switchyard's [runtime] threads (default 0: one per usable CPU)")
    parser.add_argument("--proxy-scheduling", choices=("batch", "normal"), default="batch",
                        help="Switchyard's [runtime] scheduling (default batch)")
    parser.add_argument("--upstream", choices=("tcp", "unix"), default="tcp",
                        help="how both proxies reach Postgres (default tcp; clients always "
                        "connect over TCP)")
    parser.add_argument("--idle-clients", type=int, default=None)
    parser.add_argument("--skip-idle", action="store_true", help="no idle-memory measurement")
    parser.add_argument("--skip-pgbench", action="store_true", help="idle memory only")
    parser.add_argument("--markdown", help="also write the report to this file")
    args = parser.parse_args()
    args.seconds = args.seconds or (3 if args.quick else 10)
    args.repeat = args.repeat or (1 if args.quick else 3)
    args.idle_clients = args.idle_clients or (300 if args.quick else 2000)
    if not proxy.binary():
        sys.exit("set SWITCHYARD_BIN to the switchyard executable")
    if not os.path.exists(PGBOUNCER):
        sys.exit(f"{PGBOUNCER} not found (apt-get install pgbouncer)")

    # SIGTERM/SIGHUP become SystemExit so that the finally below stops every process.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda n, _frame: sys.exit(128 + n))
    started = time.monotonic()
    load_before = loadavg()
    bench = Bench(args)
    try:
        bench.start()
        results = {} if args.skip_pgbench else bench.run_cells()
        idle = {}
        if not args.skip_idle:
            for target in ("pgbouncer", "switchyard"):
                log(f"idle memory: {args.idle_clients} clients through {target} ...")
                idle[target] = bench.idle_memory(target)
        text = report(bench, results, idle, started, load_before)
    finally:
        bench.close()
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
