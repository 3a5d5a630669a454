#!/usr/bin/python3
"""Backfill benchmark (issue 5): rows/s on a 1M-row table, and what a backfill costs the
application traffic running beside it.

One throwaway PostgreSQL 15 cluster (the integration harness) and one Switchyard proxy with
the migration at writes = "both". pgbench runs the same point-read + point-update script
through the proxy twice in one run: first alone (baseline), then while `switchyard backfill`
walks the table. Latencies come from pgbench's per-transaction log (-l), counting in the
second phase only transactions that finished while the backfill ran. A second backfill
(--restart) without traffic gives the uncontended rows/s.

Usage (from the repository root, after building the switchyard target):
  SWITCHYARD_BIN=build/proxy/switchyard /usr/bin/python3 bench/backfill/run_backfill_bench.py \
      [--rows 1000000] [--clients 4] [--baseline-seconds 15] [--backfill-args "..."]
Prints a Markdown table for bench/RESULTS.md.
"""

import argparse
import glob
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))

from harness import postgres, proxy  # noqa: E402

PASSWORD_ENV = "SWITCHYARD_BENCH_PASSWORD"
TO_NEW = "CASE {value} WHEN 'active' THEN 1 WHEN 'inactive' THEN 0 END"
TO_OLD = "CASE {value} WHEN 1 THEN 'active' WHEN 0 THEN 'inactive' END"


def pgbench_binary():
    for path in (os.path.join(postgres.PG_BIN, "pgbench"), "/usr/bin/pgbench"):
        if os.path.exists(path):
            return path
    sys.exit("pgbench not found")


def percentile(values, fraction):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, int(round(fraction * len(ordered))) - 1))
    return ordered[index]


def read_latencies(prefix, window=None):
    """(latency_ms list) from pgbench -l files; window=(start, end) epoch seconds filters by
    completion time."""
    out = []
    for path in glob.glob(prefix + "*"):
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) < 6:
                    continue
                latency_us = int(parts[2])
                finished = int(parts[4]) + int(parts[5]) / 1e6
                if window is None or window[0] <= finished <= window[1]:
                    out.append(latency_us / 1000.0)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--baseline-seconds", type=int, default=15)
    parser.add_argument("--max-backfill-seconds", type=int, default=30)
    parser.add_argument("--backfill-args", default="", help="extra backfill options")
    args = parser.parse_args()
    binary = proxy.binary()
    if not binary:
        sys.exit("set SWITCHYARD_BIN to the switchyard executable")
    work = tempfile.mkdtemp(prefix="switchyard-bench-backfill-")
    pg = postgres.PostgresCluster(settings={"max_connections": 60})
    pg.start()
    app = None
    try:
        print(f"loading {args.rows} rows ...", file=sys.stderr)
        pg.query("CREATE TABLE bench_t (id int PRIMARY KEY, status text, "
                 "other int NOT NULL DEFAULT 0)")
        pg.query("INSERT INTO bench_t (id, status) SELECT g, CASE WHEN g % 2 = 0 THEN 'active' "
                 f"ELSE 'inactive' END FROM generate_series(1, {args.rows}) g")
        pg.query("ALTER TABLE bench_t ADD COLUMN state smallint")
        pg.query("VACUUM ANALYZE bench_t")
        os.environ[PASSWORD_ENV] = pg.password
        migration = {"name": "bench", "table": "public.bench_t", "old_column": "status",
                     "new_column": "state", "writes": "both", "reads": "old",
                     "to_new": TO_NEW, "to_old": TO_OLD}
        app = proxy.SwitchyardProxy(pg.port, log_level="info", extra={
            "upstream": {"address": f"127.0.0.1:{pg.port}", "tls": "disable",
                         "user": postgres.SUPERUSER, "password_env": PASSWORD_ENV,
                         "database": pg.dbname},
            "migration": [migration]})
        app.start()

        script = os.path.join(work, "traffic.sql")
        with open(script, "w") as f:
            f.write(f"\\set id random(1, {args.rows})\n\\set flip random(0, 1)\n"
                    "SELECT status, other FROM bench_t WHERE id = :id;\n"
                    "UPDATE bench_t SET status = CASE WHEN :flip = 0 THEN 'active' ELSE "
                    "'inactive' END, other = other + 1 WHERE id = :id;\n")

        def pgbench(seconds, prefix):
            return subprocess.Popen(
                [pgbench_binary(), "-h", app.host, "-p", str(app.port), "-U", postgres.SUPERUSER,
                 "-n", "-f", script, "-c", str(args.clients), "-j", "2", "-T", str(seconds),
                 "-l", "--log-prefix", prefix, pg.dbname],
                env=dict(os.environ, PGPASSWORD=pg.password), cwd=work,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

        print("baseline traffic ...", file=sys.stderr)
        base_prefix = os.path.join(work, "base")
        out, _ = pgbench(args.baseline_seconds, base_prefix).communicate()
        baseline = read_latencies(base_prefix)

        config = app.config_path
        backfill_cmd = [binary, "backfill", "--config", config, "--migration", "bench",
                        "--progress", "log", *shlex.split(args.backfill_args)]
        print("backfill with traffic ...", file=sys.stderr)
        during_prefix = os.path.join(work, "during")
        bench = pgbench(args.max_backfill_seconds, during_prefix)
        time.sleep(1)  # let the clients connect: this is load shaping, not synchronisation
        started = time.time()
        backfill = subprocess.run(backfill_cmd, capture_output=True, text=True)
        finished = time.time()
        if backfill.returncode != 0:
            sys.exit(f"backfill failed:\n{backfill.stderr}")
        bench.communicate()
        during = read_latencies(during_prefix, (started, finished))
        contended_s = finished - started

        print("backfill without traffic ...", file=sys.stderr)
        t0 = time.time()
        alone = subprocess.run(backfill_cmd + ["--restart"], capture_output=True, text=True)
        alone_s = time.time() - t0
        # --restart re-walks every row but only rewrites rows that differ (none now), so the
        # uncontended figure is for a walk that updates nothing; reset the column to measure
        # a real copy.
        pg.query("UPDATE bench_t SET state = NULL")
        pg.query("VACUUM bench_t")
        t0 = time.time()
        fresh = subprocess.run(backfill_cmd + ["--restart"], capture_output=True, text=True)
        fresh_s = time.time() - t0
        for run in (alone, fresh):
            if run.returncode != 0:
                sys.exit(f"backfill failed:\n{run.stderr}")
        verify = subprocess.run([binary, "verify", "--config", config, "--migration", "bench"],
                                capture_output=True, text=True)

        def row(name, values):
            return (f"| {name} | {len(values)} | {statistics.median(values):.2f} | "
                    f"{percentile(values, 0.99):.2f} |")

        print()
        print(f"rows: {args.rows}, pgbench clients: {args.clients} (point SELECT + UPDATE of "
              "the migrated column through Switchyard, writes = \"both\"), backfill options: "
              f"defaults {args.backfill_args}".rstrip())
        print()
        print("| backfill | seconds | rows/s |")
        print("|---|---|---|")
        print(f"| with traffic (copies every row) | {contended_s:.1f} | "
              f"{args.rows / contended_s:,.0f} |")
        print(f"| no traffic, copies every row | {fresh_s:.1f} | {args.rows / fresh_s:,.0f} |")
        print(f"| no traffic, nothing left to copy (walk only) | {alone_s:.1f} | "
              f"{args.rows / alone_s:,.0f} |")
        print()
        print("| pgbench traffic | transactions | median ms | p99 ms |")
        print("|---|---|---|---|")
        print(row("without backfill", baseline))
        print(row("during backfill", during))
        print()
        print(f"verify after: exit {verify.returncode}: {verify.stdout.strip().splitlines()[0]}")
    finally:
        if app is not None:
            app.close()
        pg.stop()


if __name__ == "__main__":
    main()
