#!/usr/bin/env python3
"""Footprint of the master with idle workers, as the packaged launcher runs it.

Per round: launch packaging/cluster-master (JAVA_OPTS from packaging/default unless --opts is given) with
`run --exec sleep --size N --ready-grace 0`, time launch -> control socket listening and launch -> READY=1 on
our NOTIFY_SOCKET; let it settle; then over --idle seconds the master's CPU (utime+stime), context switches of
all its threads (a proxy for wakeups); then RSS, PSS, thread count; then the wall time of `cluster-master ctl
status` (a whole client JVM). Prints one line per round and the median (min-max) of each figure; with
--doc FILE also replaces the section between the footprint markers in FILE.

Several --variant LABEL|JAR|JAVA_OPTS|CLUSTER_MASTER_JVM_FLAGS|CDS_DIR|LAUNCHER (fields after JAR optional; an
absent field keeps the launcher's default, CDS_DIR "" means none, LAUNCHER defaults to packaging/cluster-master of
this checkout: give an old commit's launcher with its jar) are measured round-robin, one fresh master each per
round, so load on a shared machine hits them alike. `ctl status` runs --ctl-runs times per round (median).

    python3 bench/footprint.py --rounds 5 --idle 30 [--opts "JVM FLAGS"] [--doc docs/benchmarks.md]
    python3 bench/footprint.py --variant 'before|/tmp/old.jar|-Xmx256m||' --variant 'after|target/cluster-master-0.1.0-all.jar'
"""
import argparse
import os
import re
import resource
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
    """tid -> (thread name, voluntary + involuntary context switches): each wake from a sleep is one."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            n = 0
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        n += int(line.split()[1])
            out[tid] = (name, n)
        except FileNotFoundError:
            pass
    return out


def wakeups(before, after):
    """Per thread name, switches in the window; threads born in it count from 0, threads gone are lost."""
    per = {}
    for tid, (name, n) in after.items():
        per[name] = per.get(name, 0) + n - before.get(tid, (name, 0))[1]
    return per


def one_round(args, v, work):
    sock_path = os.path.join(work, "notify.sock")
    ctl_path = os.path.join(work, "ctl.sock")
    for p in (sock_path, ctl_path):
        if os.path.exists(p):
            os.unlink(p)
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(sock_path)
    notify.settimeout(0.005)
    env = dict(os.environ, NOTIFY_SOCKET=sock_path, JAVA_OPTS=v["opts"], CLUSTER_MASTER_JAR=v["jar"])
    env.pop("WATCHDOG_USEC", None)
    if v.get("flags") is not None:
        env["CLUSTER_MASTER_JVM_FLAGS"] = v["flags"]
    env["CLUSTER_MASTER_CDS_DIR"] = v.get("cds") or "/nonexistent"
    launcher = v.get("launcher") or os.path.join(ROOT, "packaging/cluster-master")
    cmd = [launcher, "run", "--exec", "sleep", "--size", str(args.size), "--ready-grace", "0",
           "--repl", ctl_path, "--name", "bench-footprint", "--", "100000"]
    log = open(os.path.join(work, "master.log"), "ab")
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=log)
    listening = ready = listening_cpu = None
    try:
        deadline = t0 + 60
        while ready is None:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"no READY=1 within 60 s (see {work}/master.log)")
            if listening is None and os.path.exists(ctl_path):
                listening = time.monotonic() - t0
                listening_cpu = cpu_ticks(proc.pid) / CLK_TCK
            try:
                msg = notify.recv(4096).decode()
            except socket.timeout:
                continue
            if "READY=1" in msg.split("\n"):
                ready = time.monotonic() - t0
                ready_cpu = cpu_ticks(proc.pid) / CLK_TCK
        if listening is None:
            listening, listening_cpu = ready, ready_cpu
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
            "ctxsw_per_s": sum(wakeups(s0, s1).values()) / (w1 - w0),
        "busiest": sorted(wakeups(s0, s1).items(), key=lambda kv: -kv[1])[:4],
            "listening_ms": listening * 1000,
            "ready_ms": ready * 1000,
            "ready_cpu_ms": ready_cpu * 1000,
            "listening_cpu_ms": listening_cpu * 1000,
        }
        walls, cpus = [], []
        for _ in range(args.ctl_runs):
            t = time.monotonic()
            ru = resource.getrusage(resource.RUSAGE_CHILDREN)
            out = subprocess.run([launcher, "ctl", "--socket", ctl_path, "status"], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            walls.append((time.monotonic() - t) * 1000)
            ru2 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append((ru2.ru_utime + ru2.ru_stime - ru.ru_utime - ru.ru_stime) * 1000)
            if out.returncode != 0:
                raise RuntimeError("ctl status failed: " + out.stdout.decode(errors="replace"))
        r["ctl_ms"] = statistics.median(walls)
        r["ctl_cpu_ms"] = statistics.median(cpus)
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
    ("listening_cpu_ms", "master CPU time until the control socket (ms)", "{:.0f}"),
    ("ready_cpu_ms", "master CPU time until READY=1 (ms)", "{:.0f}"),
    ("ctl_ms", "`ctl status` wall time (ms)", "{:.0f}"),
    ("ctl_cpu_ms", "`ctl status` CPU time (ms)", "{:.0f}"),
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
    ap.add_argument("--ctl-runs", type=int, default=3, help="ctl status runs per round (their median counts)")
    ap.add_argument("--jar", default=os.path.join(ROOT, "target/cluster-master-0.1.0-all.jar"))
    ap.add_argument("--opts", default=None, help="JAVA_OPTS (default: the one in packaging/default)")
    ap.add_argument("--label", default="")
    ap.add_argument("--cds", default=None, help="CLUSTER_MASTER_CDS_DIR for the launcher (default: none)")
    ap.add_argument("--variant", action="append", default=[], help="LABEL|JAR|JAVA_OPTS|JVM_FLAGS|CDS_DIR ('-' = launcher default flags)")
    ap.add_argument("--doc", default=None, help="replace the footprint section of this markdown file")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="cm-footprint-")
    variants = [parse_variant(x) for x in args.variant] or [
        {"label": args.label or "this", "jar": args.jar, "opts": default_opts() if args.opts is None else args.opts,
         "flags": None, "cds": args.cds}]
    print(f"# rounds={args.rounds} idle={args.idle}s work={work}", flush=True)
    for v in variants:
        print(f"# {v}", flush=True)
    results = {v["label"]: [] for v in variants}
    for i in range(args.rounds):
        for v in variants:
            r = one_round(args, v, work)
            results[v["label"]].append(r)
            print(f"round {i + 1} {v['label']}: " + ", ".join(f"{k}={fmt.format(r[k])}" for k, _, fmt in FIGURES)
                  + f", busiest threads {r['busiest']}", flush=True)
    table = ["| figure | " + " | ".join(v["label"] for v in variants) + " |",
             "|---|" + "---|" * len(variants)]
    sums = [summary(results[v["label"]]) for v in variants]
    for row, (_, label, _) in enumerate(FIGURES):
        table.append(f"| {label} | " + " | ".join(f"{s[row][1]} ({s[row][2]})" for s in sums) + " |")
    print("\n".join(table))
    if args.doc:
        write_doc(args, variants, table)


def parse_variant(text):
    f = text.split("|")
    return {"label": f[0], "jar": f[1], "opts": f[2] if len(f) > 2 else "",
            "flags": f[3] if len(f) > 3 and f[3] != "-" else None, "cds": f[4] if len(f) > 4 else None,
            "launcher": f[5] if len(f) > 5 and f[5] else None}


def write_doc(args, variants, table):
    begin, end = "<!-- footprint:begin -->", "<!-- footprint:end -->"
    cmd = "python3 " + " ".join(shlex.quote(a) for a in ["bench/footprint.py"] + sys.argv[1:])
    jv = subprocess.run(["java", "-version"], stderr=subprocess.PIPE).stderr.decode().splitlines()[0]
    defs = [f"- **{v['label']}**: jar `{os.path.relpath(v['jar'], ROOT) if v['jar'].startswith(ROOT) else v['jar']}`, "
            f"JAVA_OPTS `{v['opts'] or '(empty)'}`, launcher flags "
            f"{'`' + v['flags'] + '`' if v['flags'] else '(none)' if v['flags'] == '' else '(the launcher default)'}, "
            f"AppCDS {'archives from `packaging/cluster-master-cds`' if v['cds'] else 'none'}"
            f"{', launcher `' + v['launcher'] + '`' if v.get('launcher') else ''}" for v in variants]
    section = "\n".join([
        begin,
        "## Master footprint with idle workers",
        "",
        f"`{cmd}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {os.cpu_count()} CPUs shared with "
        f"other jobs (expect noise in the timings), {jv}. The master runs through the packaged launcher "
        f"`packaging/cluster-master` with {args.size} `sleep` workers and `--ready-grace 0`; {args.rounds} rounds, "
        f"the variants interleaved, each a fresh master; median (min–max). Idle CPU and context switches over "
        f"{args.idle:g} s after a {args.settle:g} s settle; RSS/PSS from /proc; `ctl status` is the whole "
        f"client (its own JVM) against that master, run {args.ctl_runs} times per round (their median counts). Wall times depend on the load of the shared machine; the CPU "
        "times (user + system) much less. The per-thread wake-ups of each round are in the script's output.",
        "",
        "Jars outside `target/` are builds of the commit the label names (`git worktree add /tmp/b a28c733 && (cd /tmp/b && mvn -o -q package -DskipTests)`); CDS_DIR holds the archives of `CLUSTER_MASTER_JAR=JAR CLUSTER_MASTER_LAUNCHER=LAUNCHER LAUNCHER-cds DIR` (LAUNCHER: that commit's `packaging/cluster-master`). With the launcher's flags the remaining wake-ups are the JVM's own threads (Monitor Deflation, VM Thread, Native Heap Trimmer); the master's threads (cm-loop, cm-poller) do not wake while idle.",
        "",
        *defs,
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
