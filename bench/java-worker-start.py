#!/usr/bin/env python3
"""Spawn-to-READY of the Java demo worker under a real master.

Per variant and round: start a master (`run --main dev.clustermaster.demo.DemoHttpWorker --ready notify --size 1`,
debug log), wait for its worker, then send --restarts SIGHUPs one after the other (each a rolling restart: one
new worker, ready before the old one stops). A worker's time is from the master's "spawned [... java ...] as pid
P" log line to its "worker N (pid P) ready" line (READY=1 received), both stamped by the master in ms. The first
worker of a master starts while the master itself is still warming up and is reported apart. --warmup rounds
(uncounted, one restart each) come first, so a variant with AppCDS has its archive (in a fresh cache directory
shared by all rounds, given as CACHE_DIRECTORY as a unit's CacheDirectory= would: java.cds=auto uses it) before
the measured rounds. On a loaded
machine wall times swing widely, so the worker's own CPU time (utime+stime from /proc, sampled as soon as the
READY line shows, within 50 ms; the demo worker idles once ready) is reported too: it does not depend on load.

Variants (LABEL|JAR|EXTRA MASTER ARGS, args split by the shell's rules) run round-robin, a fresh master each per
round, so load on a shared machine hits them alike:

    python3 bench/java-worker-start.py --rounds 5 --restarts 4 \\
        --variant 'before|/tmp/cm-before/target/cluster-master-0.1.0-all.jar' \\
        --variant 'after|target/cluster-master-0.1.0-all.jar|--java-cds off'
"""
import argparse
import datetime
import os
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z ")
SPAWNED = re.compile(r"spawned \[.*?/bin/java, .* as pid (\d+)")
READY = re.compile(r"worker \d+ \(pid (\d+)\) ready")


def stamp(line):
    m = STAMP.match(line)
    return datetime.datetime.fromisoformat(m.group(1)).timestamp() if m else None


def parse(log):
    spawned, ready = {}, {}
    for line in log.splitlines():
        t = stamp(line)
        if t is None:
            continue
        m = SPAWNED.search(line)
        if m:
            spawned[m.group(1)] = t
        m = READY.search(line)
        if m and m.group(1) not in ready:
            ready[m.group(1)] = t
    order = sorted(spawned, key=spawned.get)
    return [(p, (ready[p] - spawned[p]) * 1000) for p in order if p in ready]


def cpu_ms(pid):
    try:
        with open("/proc/%s/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000.0 / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def one_master(jar, extra, restarts, timeout, cache):
    with tempfile.TemporaryDirectory(prefix="cm-jstart-") as d:
        os.chmod(d, 0o700)
        log_path = os.path.join(d, "master.log")
        env = dict(os.environ, CACHE_DIRECTORY=cache, XDG_CACHE_HOME=cache, CM_LOG_LEVEL="debug", CM_LOG_JOURNAL="off", JOURNAL_STREAM="", _JAVA_SR_SIGNUM="39")
        args = ["java", "-jar", jar, "run", "--main", "dev.clustermaster.demo.DemoHttpWorker", "--ready", "notify",
                "--size", "1", "--repl", "false", "--runtime-dir", os.path.join(d, "run"), "--env", "PORT=0"] + extra
        with open(log_path, "w") as log:
            master = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=d)
        try:
            cpu = {}
            for want in range(1, restarts + 2):
                deadline = time.time() + timeout
                while True:
                    done = parse(open(log_path).read())
                    for p, _ in done:
                        if p not in cpu:
                            cpu[p] = cpu_ms(p)
                    if len(done) >= want:
                        break
                    if time.time() > deadline or master.poll() is not None:
                        raise RuntimeError("no ready worker %d; log %s:\n%s" % (want, log_path, open(log_path).read()[-3000:]))
                    time.sleep(0.05)
                if want <= restarts:
                    time.sleep(1.0)  # let the old worker's stop settle before the next restart
                    master.send_signal(signal.SIGHUP)
        finally:
            master.send_signal(signal.SIGTERM)
            try:
                master.wait(30)
            except subprocess.TimeoutExpired:
                master.kill()
        return [(ms, cpu.get(p)) for p, ms in parse(open(log_path).read())]


def summary(xs):
    if not xs:
        return "n/a"
    return "%.0f ms (%.0f-%.0f, n=%d)" % (statistics.median(xs), min(xs), max(xs), len(xs))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--restarts", type=int, default=4)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--warmup", type=int, default=1, help="uncounted rounds first (they write the AppCDS archive)")
    ap.add_argument("--variant", action="append", default=[])
    a = ap.parse_args()
    variants = []
    for v in a.variant or ["current|" + os.path.join(ROOT, "target/cluster-master-0.1.0-all.jar")]:
        parts = v.split("|")
        variants.append((parts[0], os.path.abspath(parts[1]), shlex.split(parts[2]) if len(parts) > 2 else []))
    first = {label: [] for label, _, _ in variants}
    later = {label: [] for label, _, _ in variants}
    cpu = {label: [] for label, _, _ in variants}
    cache = tempfile.mkdtemp(prefix="cm-jstart-cache-")
    print("load average before: %.2f %.2f %.2f" % os.getloadavg(), flush=True)
    for label, jar, extra in variants * a.warmup:
        one_master(jar, extra, 1, a.timeout, cache)
    for r in range(a.rounds):
        for label, jar, extra in variants:
            times = one_master(jar, extra, a.restarts, a.timeout, cache)
            first[label].append(times[0][0])
            later[label].extend(t for t, _ in times[1:])
            cpu[label].extend(c for _, c in times[1:] if c is not None)
            print("round %d %-10s first %.0f ms, restarts %s; cpu %s" % (r + 1, label, times[0][0],
                  " ".join("%.0f" % t for t, _ in times[1:]), " ".join("%.0f" % c for _, c in times[1:] if c is not None)),
                  flush=True)
    print("load average after: %.2f %.2f %.2f" % os.getloadavg())
    print()
    for label, _, _ in variants:
        print("%-10s first worker: %s; restarted workers: %s; their CPU to READY: %s"
              % (label, summary(first[label]), summary(later[label]), summary(cpu[label])))


if __name__ == "__main__":
    sys.exit(main())
