#!/usr/bin/python3
"""Where each proxy's CPU per statement goes, PgBouncer and Switchyard in the same run.

For each round, pgbench runs through PgBouncer and then through the pass-through Switchyard
(the order alternates each round; `--targets` picks others, such as switchyard-rewrite, where
every pgbench_accounts statement is rewritten). For each run it prints, per statement:

  * system calls by kind (recvfrom, sendto, sendmsg, epoll_wait, epoll_ctl), all system calls
    (a total above the kinds' sum means calls of another kind), and context switches, counted
    by `perf stat` on tracepoints attached to the proxy (cheap, unlike strace, which stops the
    proxy at every call);
  * per thread: user and system time and voluntary context switches, from /proc/PID/task
    before and after (threads that did not run are left out);
  * for the whole machine: softirq time (where the kernel moves loopback packets) and TCP
    segments sent, from /proc/stat and /proc/net/snmp. Equal segments with unequal softirq
    time mean the same packets cost more, which is the kernel's placement, not the proxy.

Counts need no hardware counters, so this works on VMs where `perf stat -e instructions` does
not. Without perf (or without access to tracepoints: run as root, or lower
kernel.perf_event_paranoid) the /proc figures are printed alone.

Usage (from the repository root, after building):
  SWITCHYARD_BIN=build/proxy/switchyard /usr/bin/python3 bench/per_statement.py \
      [--proxy-threads N] [--proxy-scheduling batch|normal] [--upstream tcp|unix]
      [--script select-only|tpcb]
      [--mode simple|extended|prepared] [--rounds 3] [--seconds 5] [--targets pgbouncer,switchyard,switchyard-rewrite]
"""

import argparse
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import run_bench  # noqa: E402
from run_bench import SCRIPTS, Bench, log  # noqa: E402

SYSCALLS = ("recvfrom", "sendto", "sendmsg", "epoll_wait", "epoll_pwait", "epoll_ctl")
# raw_syscalls counts every call, so a kind missing from SYSCALLS shows as a total above their sum.
EVENTS = ([f"syscalls:sys_enter_{name}" for name in SYSCALLS] +
          ["raw_syscalls:sys_enter", "context-switches"])


def perf_usable():
    if shutil.which("perf") is None:
        return False
    proc = subprocess.run(["perf", "stat", "-x,", "-e", EVENTS[0], "true"],
                          capture_output=True, text=True)
    return proc.returncode == 0 and "<not supported>" not in proc.stderr


def threads_of(pid):
    """tid -> (name, utime ticks, stime ticks, voluntary context switches)."""
    out = {}
    for task in glob.glob(f"/proc/{pid}/task/*"):
        try:
            with open(f"{task}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"{task}/comm") as f:
                name = f.read().strip()
            voluntary = 0
            with open(f"{task}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        voluntary = int(line.split()[1])
        except OSError:
            continue  # a thread that ended meanwhile
        out[os.path.basename(task)] = (name, int(fields[11]), int(fields[12]), voluntary)
    return out


def machine_counters():
    """(softirq seconds over all CPUs, TCP segments sent) so far."""
    softirq = 0.0
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu "):
                softirq = int(line.split()[7]) / os.sysconf("SC_CLK_TCK")
                break
    segments = 0
    with open("/proc/net/snmp") as f:
        lines = [line.split() for line in f if line.startswith("Tcp:")]
    if len(lines) == 2 and "OutSegs" in lines[0]:
        segments = int(lines[1][lines[0].index("OutSegs")])
    return softirq, segments


class PerfStat:
    """`perf stat` attached to a process for the length of a `with` block."""

    def __init__(self, pid, directory):
        self.pid = pid
        self.path = os.path.join(directory, f"perf-{pid}.csv")
        self.process = None

    def __enter__(self):
        self.process = subprocess.Popen(
            ["perf", "stat", "-x,", "-e", ",".join(EVENTS), "-o", self.path, "-p",
             str(self.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # perf attaches asynchronously; its output file appears once it has.
        deadline = time.monotonic() + 10
        while not os.path.exists(self.path):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("perf stat did not attach")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)

    def counts(self):
        counts = {}
        with open(self.path) as f:
            for line in f:
                fields = line.strip().split(",")
                if len(fields) > 2 and fields[0] and fields[0][0].isdigit():
                    name = fields[2]
                    name = ("all calls" if name == "raw_syscalls:sys_enter" else
                            name.replace("syscalls:sys_enter_", ""))
                    counts[name] = float(fields[0])
        return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--proxy-threads", type=int, default=0,
                        help="Switchyard's [runtime] threads (default 0: one per usable CPU)")
    parser.add_argument("--proxy-scheduling", choices=("batch", "normal"), default="batch",
                        help="Switchyard's [runtime] scheduling (default batch)")
    parser.add_argument("--upstream", choices=("tcp", "unix"), default="tcp",
                        help="how both proxies reach Postgres (default tcp)")
    parser.add_argument("--script", choices=tuple(SCRIPTS), default="select-only")
    parser.add_argument("--mode", choices=run_bench.MODES, default="simple")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--targets", default="pgbouncer,switchyard",
                        help="comma-separated, from: pgbouncer, switchyard (pass-through), "
                             "switchyard-rewrite (every pgbench_accounts statement rewritten)")
    args = parser.parse_args()
    targets = args.targets.split(",")
    if not targets or any(t not in ("pgbouncer", "switchyard", "switchyard-rewrite")
                          for t in targets):
        parser.error("--targets: choose from pgbouncer, switchyard, switchyard-rewrite")
    if not 1 <= args.rounds <= 20 or not 1 <= args.seconds <= 120:
        parser.error("--rounds must be 1-20 and --seconds 1-120")
    bench = Bench(argparse.Namespace(clients=args.clients, threads=2, scale=10,
                                     seconds=args.seconds, repeat=1,
                                     proxy_threads=args.proxy_threads,
                                     proxy_scheduling=args.proxy_scheduling,
                                     upstream=args.upstream, idle_clients=100))
    use_perf = perf_usable()
    if not use_perf:
        log("perf cannot count tracepoints here: /proc figures only")
    ticks = os.sysconf("SC_CLK_TCK")
    directory = tempfile.mkdtemp(prefix="per-statement-")
    try:
        bench.start()
        for n in range(args.rounds):
            for target in targets if n % 2 == 0 else targets[::-1]:
                pid = bench.endpoints[target][2]
                before = threads_of(pid)
                machine_before = machine_counters()
                if use_perf:
                    with PerfStat(pid, directory) as perf:
                        result = bench.run_once(target, args.script, args.mode)
                    counts = perf.counts()
                else:
                    result = bench.run_once(target, args.script, args.mode)
                    counts = {}
                after = threads_of(pid)
                softirq, segments = (now - then for now, then in
                                     zip(machine_counters(), machine_before))
                statements = result["statements"]
                calls = " ".join(f"{name} {value / statements:.2f}"
                                 for name, value in counts.items() if value)
                print(f"round {n + 1} {target:<10} {result['tps']:>8.0f} tps  "
                      f"{result['cpu_us']:5.2f} us/stmt  {calls}", flush=True)
                print(f"    machine          softirq {softirq * 1e6 / statements:5.2f} us  "
                      f"tcp segments sent {segments / statements:.2f}", flush=True)
                for tid, (name, utime, stime, voluntary) in sorted(after.items()):
                    if tid not in before:
                        continue
                    _, utime0, stime0, voluntary0 = before[tid]
                    if utime == utime0 and stime == stime0:
                        continue
                    scale = 1e6 / ticks / statements
                    print(f"    {name:<16} user {(utime - utime0) * scale:5.2f} us  "
                          f"system {(stime - stime0) * scale:5.2f} us  "
                          f"voluntary switches {(voluntary - voluntary0) / statements:.2f}",
                          flush=True)
    finally:
        bench.close()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
