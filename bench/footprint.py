#!/usr/bin/env python3
"""Footprint of the master with idle workers, as the packaged launcher runs it.

Per round: launch packaging/cluster-master (JAVA_OPTS from packaging/default unless --opts is given) with
`run --exec sleep --size N --ready-grace 0`, time launch -> control socket listening and launch -> READY=1 on
our NOTIFY_SOCKET; let it settle; then over --idle seconds the master's CPU (utime+stime), context switches of
all its threads (a proxy for wakeups); then RSS, PSS, thread count; then the wall time of `cluster-master ctl
status` (a whole client JVM). Prints one line per round and the median (min-max) of each figure; with
--doc FILE also replaces the section between the footprint markers in FILE.

    python3 bench/footprint.py --rounds 5 --idle 30 [--label NAME] [--opts "JVM FLAGS"] [--doc docs/benchmarks.md]
"""
import argparse
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
CLK_TCK = os.sysconf("SC_CLK_TCK")


def default_opts():
    with open(os.path.join(ROOT, "packaging/default")) as f:
        for line in f:
            m = re.match(r'^JAVA_OPTS="(.*)"\s*$', line)
            if m:
                return m.group(1)
    return ""


def status_field(pid, name):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    raise KeyError(name)


def pss_kib(pid):
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def ctx_switches(pid):
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def one_round(args, opts, work):
    sock_path = os.path.join(work, "notify.sock")
    ctl_path = os.path.join(work, "ctl.sock")
    for p in (sock_path, ctl_path):
        if os.path.exists(p):
            os.unlink(p)
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(sock_path)
    notify.settimeout(0.005)
    env = dict(os.environ, NOTIFY_SOCKET=sock_path, JAVA_OPTS=opts, CLUSTER_MASTER_JAR=args.jar)
    env.pop("WATCHDOG_USEC", None)
    launcher = os.path.join(ROOT, "packaging/cluster-master")
    cmd = [launcher, "run", "--exec", "sleep", "--size", str(args.size), "--ready-grace", "0",
           "--repl", ctl_path, "--name", "bench-footprint", "--", "100000"]
    log = open(os.path.join(work, "master.log"), "ab")
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=log)
    listening = ready = None
    try:
        deadline = t0 + 60
        while ready is None:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"no READY=1 within 60 s (see {work}/master.log)")
            if listening is None and os.path.exists(ctl_path):
                listening = time.monotonic() - t0
            try:
                msg = notify.recv(4096).decode()
            except socket.timeout:
                continue
            if "READY=1" in msg.split("\n"):
                ready = time.monotonic() - t0
        if listening is None:
            listening = ready
        time.sleep(args.settle)
        pid = proc.pid
        c0, s0, w0 = cpu_ticks(pid), ctx_switches(pid), time.monotonic()
        time.sleep(args.idle)
        c1, s1, w1 = cpu_ticks(pid), ctx_switches(pid), time.monotonic()
        r = {
            "rss_mib": status_field(pid, "VmRSS") / 1024,
            "pss_mib": pss_kib(pid) / 1024,
            "threads": status_field(pid, "Threads"),
            "idle_cpu_pct": (c1 - c0) / CLK_TCK / (w1 - w0) * 100,
            "ctxsw_per_s": (s1 - s0) / (w1 - w0),
            "listening_ms": listening * 1000,
            "ready_ms": ready * 1000,
        }
        t = time.monotonic()
        out = subprocess.run([launcher, "ctl", "--socket", ctl_path, "status"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        r["ctl_ms"] = (time.monotonic() - t) * 1000
        if out.returncode != 0:
            raise RuntimeError("ctl status failed: " + out.stdout.decode(errors="replace"))
        return r
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        notify.close()
        log.close()


FIGURES = [
    ("rss_mib", "master RSS (MiB)", "{:.1f}"),
    ("pss_mib", "master PSS (MiB)", "{:.1f}"),
    ("threads", "master threads", "{:.0f}"),
    ("idle_cpu_pct", "idle CPU (% of a core)", "{:.2f}"),
    ("ctxsw_per_s", "context switches/s (all threads)", "{:.1f}"),
    ("listening_ms", "launch -> control socket (ms)", "{:.0f}"),
    ("ready_ms", "launch -> READY=1 (ms)", "{:.0f}"),
    ("ctl_ms", "`ctl status` wall time (ms)", "{:.0f}"),
]


def summary(rounds):
    rows = []
    for key, label, fmt in FIGURES:
        vals = [r[key] for r in rounds]
        rows.append((label, fmt.format(statistics.median(vals)),
                     fmt.format(min(vals)) + "–" + fmt.format(max(vals))))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--idle", type=float, default=30, help="idle window in seconds")
    ap.add_argument("--settle", type=float, default=5, help="seconds after READY=1 before the idle window")
    ap.add_argument("--size", type=int, default=4)
    ap.add_argument("--jar", default=os.path.join(ROOT, "target/cluster-master-0.1.0-all.jar"))
    ap.add_argument("--opts", default=None, help="JAVA_OPTS (default: the one in packaging/default)")
    ap.add_argument("--label", default="")
    ap.add_argument("--doc", default=None, help="replace the footprint section of this markdown file")
    args = ap.parse_args()
    opts = default_opts() if args.opts is None else args.opts
    work = tempfile.mkdtemp(prefix="cm-footprint-")
    print(f"# {args.label} JAVA_OPTS={opts!r} rounds={args.rounds} idle={args.idle}s work={work}", flush=True)
    rounds = []
    for i in range(args.rounds):
        r = one_round(args, opts, work)
        rounds.append(r)
        print(f"round {i + 1}: " + ", ".join(f"{k}={fmt.format(r[k])}" for k, _, fmt in FIGURES), flush=True)
    rows = summary(rounds)
    table = ["| figure | median | min–max |", "|---|---|---|"] + [f"| {a} | {b} | {c} |" for a, b, c in rows]
    print("\n".join(table))
    if args.doc:
        write_doc(args, opts, table)


def write_doc(args, opts, table):
    begin, end = "<!-- footprint:begin -->", "<!-- footprint:end -->"
    cmd = "python3 bench/footprint.py --rounds {} --idle {:g}{}".format(
        args.rounds, args.idle, "" if args.opts is None else " --opts " + shlex.quote(args.opts))
    jv = subprocess.run(["java", "-version"], stderr=subprocess.PIPE).stderr.decode().splitlines()[0]
    section = "\n".join([
        begin,
        "## Master footprint with idle workers",
        "",
        f"Generated by `{cmd}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} ({os.cpu_count()} CPUs "
        f"shared with other jobs, {jv}). The master runs through the packaged launcher `packaging/cluster-master` "
        f"with `JAVA_OPTS={opts}`, {args.size} `sleep` workers, `--ready-grace 0`; {args.rounds} rounds, "
        f"each a fresh master. Idle CPU and context switches over {args.idle:g} s after a {args.settle:g} s "
        "settle; RSS/PSS from /proc; `ctl status` is the whole client (its own JVM) against that master.",
        "",
        *table,
        end,
    ])
    with open(args.doc) as f:
        text = f.read()
    if begin in text and end in text:
        text = text[:text.index(begin)] + section + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    with open(args.doc, "w") as f:
        f.write(text)
    print(f"wrote {args.doc}")


if __name__ == "__main__":
    sys.exit(main())
