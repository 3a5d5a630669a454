#!/usr/bin/python3
"""COPY FROM STDIN through Switchyard against direct PostgreSQL, same run.

Starts a throwaway PostgreSQL 15 (the integration harness) and one Switchyard with two
migrations at writes = "both": a rename (`ren.status -> ren.state`, rows rewritten on the data
stream) and a type change with a transform (`acc.status` text -> `acc.state` smallint, staged
through a temporary table: rewrite/copy_staging.cpp). Then loads the same rows with psql's
`\\copy` directly and through each migration, `--repeat` times in rotation, and prints the
median seconds and the ratio to direct. Checks that every row's new column holds the old one's
value (to_new of it for the type change) before printing.

Usage (from the repository root, after building the switchyard target):
  SWITCHYARD_BIN=build/proxy/switchyard /usr/bin/python3 bench/copy_bench.py [--rows 500000]
      [--repeat 3]
About a minute with the defaults.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

from harness import postgres, proxy  # noqa: E402

PASSWORD_ENV = "SWITCHYARD_BENCH_PASSWORD"
TO_NEW = "CASE {value} WHEN 'active' THEN 1 WHEN 'inactive' THEN 0 END"
TO_OLD = "CASE {value} WHEN 1 THEN 'active' WHEN 0 THEN 'inactive' END"
CASES = (("direct", "acc"), ("rename, on the stream", "ren"), ("transform, staged", "acc"))


def load(pg, host, port, table, path):
    """Seconds psql takes to \\copy `path` into `table` (emptied first, directly)."""
    pg.query(f"TRUNCATE {table}")
    started = time.monotonic()
    subprocess.run([os.path.join(postgres.PG_BIN, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                    "-h", host, "-p", str(port), "-U", postgres.SUPERUSER, "-d", pg.dbname, "-c",
                    f"\\copy {table} (id, name, status) FROM '{path}'"],
                   check=True, timeout=600, env={**os.environ, "PGPASSWORD": pg.password})
    return time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not proxy.binary():
        sys.exit("set SWITCHYARD_BIN to the switchyard binary")
    pg = postgres.PostgresCluster(settings={"log_connections": "off"})
    p = None
    try:
        pg.start()
        pg.query("CREATE TABLE acc (id int PRIMARY KEY, name text, status text, state smallint)")
        pg.query("CREATE TABLE ren (id int PRIMARY KEY, name text, status text, state text)")
        os.environ[PASSWORD_ENV] = pg.password
        p = proxy.SwitchyardProxy(pg.port, log_level="warn", extra={
            "upstream": {"address": f"127.0.0.1:{pg.port}", "tls": "disable",
                         "user": postgres.SUPERUSER, "password_env": PASSWORD_ENV,
                         "database": pg.dbname},
            "migration": [
                {"name": "acc", "table": "public.acc", "old_column": "status",
                 "new_column": "state", "writes": "both", "reads": "old", "to_new": TO_NEW,
                 "to_old": TO_OLD},
                {"name": "ren", "table": "public.ren", "old_column": "status",
                 "new_column": "state", "writes": "both", "reads": "old"}]})
        p.start()
        with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as f:
            for i in range(1, args.rows + 1):
                f.write(f"{i}\tname{i}\t{'active' if i % 3 else 'inactive'}\n")
            path = f.name
        os.chmod(path, 0o644)
        times = {name: [] for name, _ in CASES}
        for r in range(args.repeat):
            order = CASES[r % len(CASES):] + CASES[:r % len(CASES)]
            for name, table in order:
                host, port = (pg.host, pg.port) if name == "direct" else (p.host, p.port)
                times[name].append(load(pg, host, port, table, path))
                if name != "direct":
                    wrong = pg.query(
                        f"SELECT count(*) FROM {table} WHERE state IS DISTINCT FROM " +
                        ("CASE status WHEN 'active' THEN 1 WHEN 'inactive' THEN 0 END"
                         if table == "acc" else "status"))[0][0]
                    count = pg.query(f"SELECT count(*) FROM {table}")[0][0]
                    if wrong or count != args.rows:
                        sys.exit(f"{name}: {count} rows, {wrong} with a wrong new column")
        os.unlink(path)
        direct = statistics.median(times["direct"])
        print(f"COPY of {args.rows:,} rows (id, name, status), median of {args.repeat}\n")
        print("| path | seconds | x direct |")
        print("|---|---|---|")
        for name, _ in CASES:
            median = statistics.median(times[name])
            print(f"| {name} | {median:.2f} | {median / direct:.2f} |")
    finally:
        if p is not None:
            p.close()
        pg.stop()


if __name__ == "__main__":
    main()
