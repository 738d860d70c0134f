#!/usr/bin/env python3
"""Benchmark (not a test): how long a rolling restart of SIZE demo JVM workers takes, by surge and AppCDS.

    python3 bench/rolling-restart.py [--size 4] [--rounds 3] [--restarts 3] [--variant 'LABEL|EXTRA ARGS']...
    # after: mvn -B package -DskipTests (the jar in $JAR or target/)

Per variant and round: a master (packaging/cluster-master, `run --main dev.clustermaster.demo.DemoHttpWorker
--ready notify --probation 0 --size SIZE` + the variant's args) with CACHE_DIRECTORY set as a unit's
CacheDirectory= would (so java.cds=auto manages the workers' AppCDS archive, as under systemd), then RESTARTS
SIGHUPs one after the other. Each figure is the master's "rolling restart of" line to its "rolling restart done"
line (its own ms stamps). The first restart of a master is reported apart: its old workers ran without an
archive, and with AppCDS the first old worker to stop writes it. Variants run round-robin, a fresh master each.
Default variants: surge=auto and surge=SIZE, with AppCDS (the default under systemd) and with --java-cds off.
A variant's args go to `run`: `-e DEMO_STARTUP_DELAY_MS=1000` makes each worker's start-up wait 1 s before READY
(an app that connects to a database first). Under `taskset -c 0` the master and its workers get one CPU.
"""
import argparse
import datetime
import os
import re
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JAR = os.environ.get("JAR", os.path.join(ROOT, "target", "cluster-master-0.1.0-all.jar"))
STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z ")


def stamps(text, what):
    out = []
    for line in text.splitlines():
        m = STAMP.match(line)
        if m and what in line:
            out.append(datetime.datetime.fromisoformat(m.group(1)).timestamp())
    return out


def await_count(path, what, n, seconds, master):
    deadline = time.monotonic() + seconds
    while len(stamps(open(path).read(), what)) < n:
        if time.monotonic() > deadline or master.poll() is not None:
            raise SystemExit("no %d x '%s'; log %s:\n%s" % (n, what, path, open(path).read()[-3000:]))
        time.sleep(0.02)


def one_master(size, extra, restarts):
    """Durations in ms of `restarts` rolling restarts of one master."""
    with tempfile.TemporaryDirectory(prefix="cm-roll-") as d:
        os.chmod(d, 0o700)
        cache = os.path.join(d, "cache")
        os.mkdir(cache, 0o700)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        log = os.path.join(d, "master.log")
        env = dict(os.environ, CLUSTER_MASTER_JAR=JAR, CM_LOG_JOURNAL="off", RUNTIME_DIRECTORY=d, CACHE_DIRECTORY=cache)
        args = ["sh", os.path.join(ROOT, "packaging", "cluster-master"), "run", "--main",
                "dev.clustermaster.demo.DemoHttpWorker", "--ready", "notify", "--size", str(size), "--probation", "0",
                "--listen", "tcp://127.0.0.1:%d" % port, "--repl", "false"] + extra
        master = subprocess.Popen(args, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)
        try:
            await_count(log, "all %d workers ready" % size, 1, 120, master)
            for i in range(restarts):
                time.sleep(1.5)  # the old workers' stops (and an archive's write) settle first
                master.send_signal(signal.SIGHUP)
                await_count(log, "rolling restart done", i + 1, 120, master)
            text = open(log).read()
            begins, ends = stamps(text, "rolling restart of"), stamps(text, "rolling restart done")
            return [(e - b) * 1000 for b, e in zip(begins, ends)]
        finally:
            master.terminate()  # a graceful quit; the workers go with it
            master.wait(120)


def summary(xs):
    return "%.0f ms (%.0f-%.0f, n=%d)" % (statistics.median(xs), min(xs), max(xs), len(xs)) if xs else "n/a"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--restarts", type=int, default=3)
    ap.add_argument("--variant", action="append", default=[])
    a = ap.parse_args()
    if not os.path.exists(JAR):
        raise SystemExit("no %s: mvn -B package -DskipTests first" % JAR)
    specs = a.variant or ["auto|", "auto, no AppCDS|--java-cds off",
                          "surge %d|--surge %d" % (a.size, a.size), "surge %d, no AppCDS|--surge %d --java-cds off" % (a.size, a.size)]
    variants = [(v.split("|", 1)[0], shlex.split(v.split("|", 1)[1]) if "|" in v else []) for v in specs]
    first = {label: [] for label, _ in variants}
    later = {label: [] for label, _ in variants}
    print("load average before: %.2f %.2f %.2f" % os.getloadavg(), flush=True)
    for r in range(a.rounds):
        for label, extra in variants:
            times = one_master(a.size, extra, a.restarts)
            first[label].append(times[0])
            later[label].extend(times[1:])
            print("round %d %-22s %s" % (r + 1, label, " ".join("%.0f" % t for t in times)), flush=True)
    print("load average after: %.2f %.2f %.2f" % os.getloadavg())
    for label, _ in variants:
        print("%-22s first restart: %s; later restarts: %s" % (label, summary(first[label]), summary(later[label])))


if __name__ == "__main__":
    sys.exit(main())
