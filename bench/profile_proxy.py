#!/usr/bin/python3
"""Profiles Switchyard under pgbench: perf when hardware counters work here, else callgrind.

`perf stat -e instructions true` decides: where it counts instructions, `perf record` samples
the running proxy; where it does not (most VMs), the proxy runs under valgrind's callgrind for a
fixed number of pgbench transactions (callgrind is ~50x slower, so counts, not time, bound the
run). Prints the top functions by inclusive and self cost.

Usage (from the repository root, after building the switchyard target):
  SWITCHYARD_BIN=build/proxy/switchyard /usr/bin/python3 bench/profile_proxy.py \
      [--config passthrough|rewrite] [--script select-only|tpcb] [--mode simple|extended|prepared]
      [--transactions 2000] [--out DIR] [--syscalls]

--syscalls attaches `strace -f -c` to the proxy for the pgbench run instead and prints system
calls per statement.
"""

import argparse
import glob
import os
import signal
import stat
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import run_bench  # noqa: E402
from run_bench import SCRIPTS, log, postgres, proxy  # noqa: E402


def perf_counts_instructions():
    proc = subprocess.run(["perf", "stat", "-x,", "-e", "instructions", "true"],
                          capture_output=True, text=True)
    return proc.returncode == 0 and "not supported" not in proc.stderr


def attach_strace(pid, out_dir):
    """strace -c on every thread of `pid`, once it has attached (bounded wait)."""
    tracer = subprocess.Popen(["strace", "-f", "-c", "-p", str(pid), "-o",
                               os.path.join(out_dir, "strace.txt")],
                              stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = tracer.stderr.readline()
        if "attached" in line or not line:
            break
    if tracer.poll() is not None:
        sys.exit("strace could not attach to the proxy")
    return tracer


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", choices=("passthrough", "rewrite"), default="passthrough")
    parser.add_argument("--script", choices=tuple(SCRIPTS), default="select-only")
    parser.add_argument("--mode", choices=run_bench.MODES, default="simple")
    parser.add_argument("--transactions", type=int, default=2000, help="per client")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--out", default=None, help="directory for the profile files")
    parser.add_argument("--syscalls", action="store_true",
                        help="count system calls per statement (strace -c) instead")
    args = parser.parse_args()
    real = proxy.binary()
    if not real:
        sys.exit("set SWITCHYARD_BIN to the switchyard executable")
    out_dir = os.path.abspath(args.out or tempfile.mkdtemp(prefix="switchyard-profile-"))
    os.makedirs(out_dir, exist_ok=True)
    use_perf = not args.syscalls and perf_counts_instructions()
    # The harness starts SWITCHYARD_BIN with "serve --config ..."; a wrapper puts the profiler
    # in front of it.
    wrapper = os.path.join(out_dir, "switchyard-profiled")
    if use_perf:
        tool = f'perf record -g -o "{out_dir}/perf.data" --'
    else:
        tool = (f'valgrind --tool=callgrind --callgrind-out-file="{out_dir}/callgrind.out.%p" '
                "--dump-instr=no --collect-jumps=no")
    if not args.syscalls:
        with open(wrapper, "w") as f:
            f.write(f'#!/bin/sh\nexec {tool} "{os.path.abspath(real)}" "$@"\n')
        os.chmod(wrapper, os.stat(wrapper).st_mode | stat.S_IXUSR)
        os.environ["SWITCHYARD_BIN"] = wrapper
    log(f"profiler: {'strace' if args.syscalls else tool.split()[0]}; output in {out_dir}")

    pg = postgres.PostgresCluster(settings={"max_connections": 60})
    pg.start()
    p = None
    try:
        bench_args = argparse.Namespace(scale=1, clients=args.clients, threads=2, seconds=0,
                                        idle_clients=0)
        b = run_bench.Bench(bench_args)
        b.pg = pg
        b.pgbench(pg.host, pg.port, "-i", "-q", "-s", "1", timeout=300)
        run_bench.add_migration_columns(pg)
        os.environ[run_bench.PASSWORD_ENV] = pg.password
        target = "switchyard" if args.config == "passthrough" else "switchyard-rewrite"
        p = run_bench.switchyard_for(pg, target)
        p.start(timeout=120)
        flags, _ = SCRIPTS[args.script]
        tracer = attach_strace(p.process.pid, out_dir) if args.syscalls else None
        log(f"pgbench {args.script} -M {args.mode}: {args.clients} clients x "
            f"{args.transactions} transactions ...")
        try:
            out = b.pgbench(p.host, p.port, *flags, "-M", args.mode, "-n", "-c",
                            str(args.clients), "-j", "2", "-t", str(args.transactions),
                            timeout=1800)
        finally:
            if tracer is not None:
                tracer.send_signal(signal.SIGINT)  # detaches and writes the summary
                tracer.wait(timeout=60)
        log(out.strip().splitlines()[-1])
        p.stop(timeout=120)
    finally:
        if p is not None:
            p.close()
        pg.stop()

    if args.syscalls:
        per_transaction = 1 if args.script == "select-only" else 7
        statements = args.clients * args.transactions * per_transaction
        with open(os.path.join(out_dir, "strace.txt")) as f:
            summary = f.read()
        print(summary)
        for line in summary.splitlines():
            fields = line.split()
            if fields and fields[-1] == "total":  # % time, seconds, usecs/call, calls, errors
                print(f"{int(fields[3]) / statements:.2f} system calls per statement "
                      f"({statements} statements)")
        return
    if use_perf:
        report = subprocess.run(["perf", "report", "-i", f"{out_dir}/perf.data", "--stdio",
                                 "--no-children", "--percent-limit", "1"],
                                capture_output=True, text=True)
        print(report.stdout[:20000])
        return
    files = sorted(glob.glob(os.path.join(out_dir, "callgrind.out.*")))
    if not files:
        sys.exit("no callgrind output (did the proxy exit cleanly?)")
    for inclusive in (False, True):
        flag = f"--inclusive={'yes' if inclusive else 'no'}"
        report = subprocess.run(["callgrind_annotate", flag, "--threshold=99", files[-1]],
                                capture_output=True, text=True)
        title = "inclusive" if inclusive else "self"
        print(f"==== {title} cost (callgrind_annotate {files[-1]}) ====")
        print("\n".join(report.stdout.splitlines()[:60]))


if __name__ == "__main__":
    main()
