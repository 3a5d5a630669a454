#!/usr/bin/python3
"""Instructions per statement of each proxy, PgBouncer included: a count, not a timing.

CPU time per statement on a small shared machine moves by several percent from run to run;
instruction counts do not. Each proxy runs under valgrind's callgrind twice, for a short and a
long pgbench run (same clients, --small and --large transactions per client); the difference
of the two totals divided by the difference in statements is what one more statement costs,
without start-up, authentication and shutdown. Kernel time is not counted: this measures the
proxy's own code (user space), where Switchyard and PgBouncer differ.

Targets: pgbouncer (Debian's, session mode, SCRAM), switchyard (a migration on a table the
workload never names: the pass-through fast path), switchyard-rewrite (pgbench_accounts.abalance
-> abalance_v2, writes both, reads new: every pgbench_accounts statement rewritten).

Usage (from the repository root, after building the switchyard target):
  SWITCHYARD_BIN=build/proxy/switchyard /usr/bin/python3 bench/count_instructions.py \\
      [--script select-only|tpcb] [--mode simple|extended|prepared] [--targets a,b,c]
      [--clients 4] [--small 500] [--large 3000] [--keep-profiles DIR]
--keep-profiles keeps callgrind's files (TARGET.small.PID, TARGET.large.PID) for
callgrind_annotate: the functions whose counts grow from the short run to the long one are
where each statement's instructions go. Under a minute for the three targets with the defaults.
"""

import argparse
import glob
import os
import pwd
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import run_bench  # noqa: E402
from run_bench import SCRIPTS, log, postgres, proxy  # noqa: E402

TARGETS = ("pgbouncer", "switchyard", "switchyard-rewrite")


def callgrind(out_dir, name):
    return ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_dir}/{name}.%p",
            "--dump-instr=no", "--collect-jumps=no"]


def total_instructions(path):
    with open(path) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise RuntimeError(f"no instruction total in {path}")


def start_target(target, pg, out_dir, run):
    """Starts `target` under callgrind; returns (host, port, stop)."""
    name = f"{target}.{run}"
    if target == "pgbouncer":
        bouncer = run_bench.PgBouncer(pg, 10, wrapper=callgrind(out_dir, name))
        bouncer.start()

        def stop():
            bouncer.process.terminate()  # SIGTERM: PgBouncer exits, callgrind writes its file
            bouncer.process.wait(timeout=120)
            bouncer.close()
        return bouncer.host, bouncer.port, stop
    wrapper = os.path.join(out_dir, "switchyard-under-callgrind")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nexec " + " ".join(f'"{w}"' for w in callgrind(out_dir, name)) +
                f' "{os.path.abspath(proxy.binary())}" "$@"\n')
    os.chmod(wrapper, 0o755)
    real = os.environ["SWITCHYARD_BIN"]
    os.environ["SWITCHYARD_BIN"] = wrapper
    try:
        p = run_bench.switchyard_for(pg, target)
        p.start(timeout=120)
    finally:
        os.environ["SWITCHYARD_BIN"] = real

    def stop():
        p.stop(timeout=120)
        p.close()
    return p.host, p.port, stop


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--script", choices=tuple(SCRIPTS), default="select-only")
    parser.add_argument("--mode", choices=run_bench.MODES, default="simple")
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--small", type=int, default=500, help="transactions per client")
    parser.add_argument("--large", type=int, default=3000, help="transactions per client")
    parser.add_argument("--keep-profiles", metavar="DIR",
                        help="keep callgrind's files in DIR (created; must not exist)")
    args = parser.parse_args()
    targets = args.targets.split(",")
    if any(t not in TARGETS for t in targets):
        sys.exit(f"--targets: choose from {', '.join(TARGETS)}")
    if args.large <= args.small or args.small < 1:
        sys.exit("--large must be more than --small, both at least 1")
    if not proxy.binary() and any(t != "pgbouncer" for t in targets):
        sys.exit("set SWITCHYARD_BIN to the switchyard executable")
    if shutil.which("valgrind") is None:
        sys.exit("valgrind not found (apt-get install valgrind)")

    if args.keep_profiles:
        try:
            os.makedirs(args.keep_profiles)
        except OSError as e:
            sys.exit(f"--keep-profiles: {e}")
        out_dir = os.path.abspath(args.keep_profiles)
    else:
        out_dir = tempfile.mkdtemp(prefix="switchyard-instructions-")
    if os.geteuid() == 0:  # PgBouncer runs as postgres and writes its profile here
        pw = pwd.getpwnam("postgres")
        os.chown(out_dir, pw.pw_uid, pw.pw_gid)
    pg = postgres.PostgresCluster(settings={"max_connections": 60})
    pg.start()
    results = {}
    try:
        bench = run_bench.Bench(argparse.Namespace(scale=1, clients=args.clients, threads=2,
                                                   seconds=0, idle_clients=0))
        bench.pg = pg
        bench.pgbench(pg.host, pg.port, "-i", "-q", "-s", "1", timeout=300)
        run_bench.add_migration_columns(pg)
        os.environ[run_bench.PASSWORD_ENV] = pg.password
        flags, per_transaction = SCRIPTS[args.script]
        for target in targets:
            totals = []
            for run, transactions in (("small", args.small), ("large", args.large)):
                host, port, stop = start_target(target, pg, out_dir, run)
                try:
                    log(f"{target}: pgbench {args.script} -M {args.mode}, {args.clients} "
                        f"clients x {transactions} transactions under callgrind ...")
                    bench.pgbench(host, port, *flags, "-M", args.mode, "-n", "-c",
                                  str(args.clients), "-j", "2", "-t", str(transactions),
                                  timeout=3600)
                finally:
                    stop()
                files = glob.glob(os.path.join(out_dir, f"{target}.{run}.*"))
                totals.append(sum(total_instructions(f) for f in files))
            statements = args.clients * (args.large - args.small) * per_transaction
            results[target] = (totals[1] - totals[0]) / statements
    finally:
        pg.stop()
        if not args.keep_profiles:
            shutil.rmtree(out_dir, ignore_errors=True)

    print(f"\npgbench {args.script} -M {args.mode}, {args.clients} clients, "
          f"{args.small} and {args.large} transactions per client, callgrind")
    print("| target | instructions per statement | ratio to PgBouncer |")
    print("|---|---|---|")
    for target, per_statement in results.items():
        ratio = (f"{per_statement / results['pgbouncer']:.2f}" if "pgbouncer" in results
                 else "-")
        print(f"| {target} | {per_statement:,.0f} | {ratio} |")


if __name__ == "__main__":
    main()
