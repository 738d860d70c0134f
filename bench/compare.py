#!/usr/bin/env python3
"""Cross-manager benchmark with the SAME worker app under every manager (issue 13, goal 6).

    python3 bench/compare.py [--rounds 3] [--quick] [--size 2] [--delay 1000] [--doc docs/benchmarks.md]

Managers: cluster-master (this project, the built jar through the packaged launcher packaging/cluster-master,
its AppCDS archives made by packaging/cluster-master-cds, JAVA_OPTS of packaging/default), PM2 (cluster mode),
npm cluster-master, plain node:cluster (bench/apps/node-cluster.js), all running bench/apps/app.js; gunicorn
running bench/apps/wsgi_app.py (same startup delay, same body). The Java demo worker under cluster-master is
measured in the same rounds but reported in its own table. Every round runs every manager (the order rotates
from round to round), so a load change on the shared machine hits all of them; figures are medians with min-max
over the rounds, and ratios are taken within a round (other / cluster-master), then their median.

Per round: cold start of each (launch to every worker answering, one at a time); master RSS/PSS/USS
(/proc/PID/smaps_rollup) and idle CPU over --idle seconds, all masters idle at once; throughput with wrk
through the shared socket, with the master's CPU meanwhile, against the app alone (one `node app.js`, no
manager) and cluster-master with one worker; kill -9 of a worker to a new pid answering (bench/probe.py kill);
the manager's rolling restart under wrk load: time for the reload command to return, time until every new
worker answers (bench/probe.py serving), failed requests.

pm2 and npm cluster-master are installed (pinned) into bench/.cache/npm on first use; wrk and gunicorn must be
installed (apt-get install wrk gunicorn). Logs and raw results go to bench/.results/STAMP/ (not committed);
the report is printed and, with --doc, replaces the section between the compare markers of that file.
"""
import argparse
import json
import os
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APPS = os.path.join(ROOT, "bench", "apps")
CACHE = os.path.join(ROOT, "bench", ".cache")
NPM_DIR = os.path.join(CACHE, "npm")
PINNED = {"pm2": "7.0.4", "cluster-master": "0.2.1"}
JAR = os.environ.get("JAR", os.path.join(ROOT, "target", "cluster-master-0.1.0-all.jar"))
LAUNCHER = os.path.join(ROOT, "packaging", "cluster-master")
CLK_TCK = os.sysconf("SC_CLK_TCK")
BEGIN, END = "<!-- compare:begin -->", "<!-- compare:end -->"

SESSIONS = []  # Popen objects this script started, each in its own session; their groups are ended at exit


def log(msg):
    print("[compare %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(cmd, logfile, env=None, cwd=ROOT):
    out = open(logfile, "ab")
    p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                         start_new_session=True)
    SESSIONS.append(p)
    return p


def end_group(p, grace=10):
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            p.wait(grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def children(pid):
    kids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid and fields[0] != "Z":
                    kids.append(int(d))
            except (FileNotFoundError, ProcessLookupError, IndexError):
                pass
    return sorted(kids)


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def memory(pid):
    """MiB: RSS, PSS, USS (private clean + dirty) from smaps_rollup; and the thread count."""
    got = {}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0].endswith(":"):
                got[parts[0][:-1]] = int(parts[1])
    with open("/proc/%d/status" % pid) as f:
        threads = int(re.search(r"^Threads:\s+(\d+)", f.read(), re.M).group(1))
    return {"rss": got.get("Rss", 0) / 1024, "pss": got.get("Pss", 0) / 1024,
            "uss": (got.get("Private_Clean", 0) + got.get("Private_Dirty", 0)) / 1024, "threads": threads}


def await_true(cond, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


def probe(args, timeout):
    """bench/probe.py; returns (ms, failures) or (None, failures) when it timed out."""
    r = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "probe.py")] + [str(a) for a in args]
                       + [str(timeout)], capture_output=True, text=True)
    parts = r.stdout.split()
    if r.returncode == 0 and parts:
        return float(parts[0]), int(parts[1])
    return None, int(parts[1]) if len(parts) > 1 else 0


def wrkstat(path):
    r = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "wrkstat.py"), path], capture_output=True,
                       text=True, check=True)
    requests, rps, non2xx, sock, failed, p99, mx = r.stdout.split()
    return {"requests": int(requests), "rps": float(rps), "failed": int(failed), "p99": p99, "max": mx}


# ---- the managers ------------------------------------------------------------------------------------------

class Manager:
    key = name = ""
    node_app = True  # runs bench/apps/app.js (else its own table)

    def __init__(self, out, size, delay):
        self.out, self.size, self.delay = out, size, delay
        self.port = free_port()
        self.proc = None
        self.round = 0

    def logfile(self):
        return os.path.join(self.out, "%s-r%d.log" % (self.key, self.round))

    def env(self, **extra):
        e = dict(os.environ)
        for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"):
            e.pop(k, None)
        e.update(PORT=str(self.port), STARTUP_DELAY_MS=str(self.delay), SIZE=str(self.size))
        e.update({k: str(v) for k, v in extra.items()})
        return e

    def launch(self):
        raise NotImplementedError

    def master(self):
        return self.proc.pid

    def reload_cmd(self):
        raise NotImplementedError

    def reload(self, timeout):
        """Runs the rolling restart; returns the ms until the command returned."""
        t0 = time.monotonic()
        r = subprocess.run(self.reload_cmd(), stdout=open(self.logfile(), "ab"), stderr=subprocess.STDOUT,
                           timeout=timeout, cwd=ROOT, env=self.env())
        if r.returncode != 0:
            log("%s: reload command exited %d (log %s)" % (self.key, r.returncode, self.logfile()))
            self.reload_failed = r.returncode
        return (time.monotonic() - t0) * 1000

    def stop(self):
        if self.proc:
            end_group(self.proc, 15)
            self.proc = None


class ClusterMaster(Manager):
    key, name = "cm", "cluster-master"
    cds_dir = java_opts = ""

    def worker_args(self):
        return ["--exec", "node", "--ready", "log:listening", "--env", "STARTUP_DELAY_MS=%d" % self.delay,
                "--", os.path.join(APPS, "app.js")]

    def run_args(self):
        self.sock = os.path.join(self.out, "%s.sock" % self.key)
        return ["sh", LAUNCHER, "run", "--size", str(self.size), "--listen", "tcp://127.0.0.1:%d" % self.port,
                "--repl", self.sock, "--runtime-dir", os.path.join(self.out, "run-%s" % self.key),
                "--name", "bench-" + self.key] + self.worker_args()

    def env(self, **extra):
        return super().env(CLUSTER_MASTER_JAR=JAR, CLUSTER_MASTER_CDS_DIR=self.cds_dir, JAVA_OPTS=self.java_opts,
                           CM_LOG_JOURNAL="off", **extra)

    def launch(self):
        self.proc = spawn(self.run_args(), self.logfile(), self.env())

    def reload_cmd(self):  # what the shipped unit's ExecReload runs
        return ["sh", LAUNCHER, "ctl", "--socket", self.sock, "reload"]


class ClusterMasterOne(ClusterMaster):
    key, name = "cm1", "cluster-master, 1 worker"


class ClusterMasterNoProbation(ClusterMaster):
    key, name = "cm0", "cluster-master, --probation 0"

    def run_args(self):
        a = super().run_args()
        return a[:3] + ["--probation", "0"] + a[3:]


class ClusterMasterJava(ClusterMaster):
    key, name, node_app = "cmj", "cluster-master, Java demo worker", False

    def worker_args(self):
        return ["--main", "dev.clustermaster.demo.DemoHttpWorker", "--ready", "notify",
                "--env", "DEMO_STARTUP_DELAY_MS=%d" % self.delay]


class Pm2(Manager):
    key, name = "pm2", "PM2"

    def pm2(self, *args):
        return [os.path.join(NPM_DIR, "node_modules", ".bin", "pm2")] + list(args)

    def env(self, **extra):
        return super().env(PM2_HOME=os.path.join(self.out, "pm2-home"), **extra)

    def launch(self):
        # the daemon (God) starts with the first command: part of PM2's cold start, as on a fresh boot
        subprocess.run(self.pm2("start", os.path.join(APPS, "app.js"), "-i", str(self.size), "--name", "bench"),
                       stdout=open(self.logfile(), "ab"), stderr=subprocess.STDOUT, env=self.env(), check=True,
                       timeout=120)

    def master(self):
        with open(os.path.join(self.out, "pm2-home", "pm2.pid")) as f:
            return int(f.read())

    def reload_cmd(self):
        return self.pm2("reload", "bench")

    def stop(self):
        subprocess.run(self.pm2("kill"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=self.env(),
                       timeout=60)


class NpmClusterMaster(Manager):
    key, name = "ncm", "npm cluster-master"

    def launch(self):
        self.repl = os.path.join(self.out, "ncm-repl.sock")
        self.proc = spawn(["node", os.path.join(APPS, "ncm-master.js")], self.logfile(),
                          self.env(NCM_REPL=self.repl, NCM_MODULE=os.path.join(NPM_DIR, "node_modules",
                                                                                "cluster-master")))

    def reload(self, timeout):
        # its documented SIGHUP restart throws at its end in 0.2.1 (restart(cb) gets the signal name as cb);
        # its REPL's restart() is the one that runs. It answers at once; the restart goes on in the background.
        t0 = time.monotonic()
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(self.repl)
            s.sendall(b"restart()\n")
            try:
                s.recv(4096)
            except socket.timeout:
                pass
        return (time.monotonic() - t0) * 1000


class NodeCluster(Manager):
    key, name = "nodecluster", "node:cluster"

    def launch(self):
        self.proc = spawn(["node", os.path.join(APPS, "node-cluster.js")], self.logfile(), self.env())

    def reload_cmd(self):
        return ["kill", "-HUP", str(self.master())]


class Gunicorn(Manager):
    key, name = "gunicorn", "gunicorn"

    def launch(self):
        self.proc = spawn(["gunicorn", "-w", str(self.size), "-b", "127.0.0.1:%d" % self.port, "--chdir", APPS,
                           "wsgi_app:app"], self.logfile(), self.env())

    def reload_cmd(self):
        return ["kill", "-HUP", str(self.master())]


class Alone(Manager):
    key, name = "alone", "app.js alone (1 process, no manager)"

    def launch(self):
        self.proc = spawn(["node", os.path.join(APPS, "app.js")], self.logfile(), self.env(STARTUP_DELAY_MS=0))


# ---- one round -----------------------------------------------------------------------------------------------

def cold_start(m, timeout):
    """Launch to every worker answering (size distinct pids over new connections)."""
    t0 = time.monotonic()
    m.launch()
    ms, _ = probe(["serving", m.port, "", m.size], timeout)
    if ms is None:
        raise RuntimeError("%s: its %d workers did not all answer within %d s (log %s)"
                           % (m.key, m.size, timeout, m.logfile()))
    # probe.py counts from its own start; the launch is before that
    return (time.monotonic() - t0) * 1000 if ms is not None else None


def wait_size(m, timeout=60):
    return await_true(lambda: len(children(m.master())) == m.size, timeout)


def throughput(m, seconds, tag, close=False):
    path = os.path.join(m.out, "wrk-%s-r%d-%s.txt" % (m.key, m.round, tag))
    master = m.master()
    procs = [master] + children(master)
    c0 = {p: cpu_ticks(p) for p in procs}
    t0 = time.monotonic()
    with open(path, "w") as f:
        subprocess.run(["wrk", "-t2", "-c32", "-d%ds" % seconds, "--latency", "--timeout", "5s"]
                       + (["-H", "Connection: close"] if close else []) + ["http://127.0.0.1:%d/" % m.port],
                       stdout=f, stderr=subprocess.STDOUT, check=True, timeout=seconds + 30)
    used = {p: (cpu_ticks(p) - c0[p]) / CLK_TCK for p in procs if alive(p)}
    s = wrkstat(path)
    # CPU per request moves less with the machine's other load than req/s does
    return {"rps": s["rps"], "failed": s["failed"], "p99": s["p99"],
            "master_cpu": used.get(master, 0) / (time.monotonic() - t0) * 100,
            "master_us": used.get(master, 0) / max(s["requests"], 1) * 1e6,
            "all_us": sum(used.values()) / max(s["requests"], 1) * 1e6}


def crash(m, timeout):
    wait_size(m)
    kids = children(m.master())
    ms, _ = probe(["kill", m.port, kids[0], ",".join(map(str, kids))], timeout)
    return ms


def reload_under_load(m, timeout):
    wait_size(m)
    path = os.path.join(m.out, "wrk-%s-r%d-reload.txt" % (m.key, m.round))
    wrk = subprocess.Popen(["wrk", "-t2", "-c16", "-d%ds" % (timeout + 30), "--latency", "--timeout", "5s",
                            "http://127.0.0.1:%d/" % m.port], stdout=open(path, "w"), stderr=subprocess.STDOUT)
    try:
        time.sleep(1)
        master = m.master()
        old = children(master)
        serving = subprocess.Popen([sys.executable, os.path.join(ROOT, "bench", "probe.py"), "serving",
                                    str(m.port), ",".join(map(str, old)), str(m.size), str(timeout)],
                                   stdout=subprocess.PIPE, text=True)
        t0 = time.monotonic()
        m.reload_failed = 0
        try:
            cmd_ms = m.reload(timeout)
        except subprocess.TimeoutExpired:
            cmd_ms = None
        # a master that died mid-restart (npm cluster-master) ends the wait early
        await_true(lambda: serving.poll() is not None or not alive(master), timeout - (time.monotonic() - t0))
        if serving.poll() is None:
            serving.kill()
        text = serving.communicate()[0].split()
        new_ms = float(text[0]) if serving.returncode == 0 and text else None
        probe_failed = int(text[1]) if len(text) > 1 else 0
        if alive(master):
            time.sleep(1)  # the old workers' last requests and the first second of the new ones, still under load
    finally:
        wrk.send_signal(signal.SIGINT)  # wrk prints its figures on SIGINT
        wrk.wait(30)
    s = wrkstat(path)
    survived = alive(master)
    return {"command_ms": cmd_ms if survived else None, "serving_ms": new_ms,
            "failed": s["failed"] + probe_failed if survived else None,
            "wrk_failed": s["failed"], "probe_failed": probe_failed, "rps": s["rps"], "p99": s["p99"],
            "master_survived": survived, "command_exit": m.reload_failed}


def run_round(r, managers, extras, reloads, args):
    res = {"load_start": os.getloadavg(), "uptime_start": uptime()}
    order = managers[r % len(managers):] + managers[:r % len(managers)]
    for m in order + extras + reloads:
        m.round = r + 1
        res[m.key] = {}
    log("round %d: %s; %s" % (r + 1, " ".join(m.key for m in order), res["uptime_start"]))
    try:
        for m in order:
            res[m.key]["cold_ms"] = cold_start(m, args.timeout)
            log("  %s cold start %.0f ms" % (m.key, res[m.key]["cold_ms"]))
        for m in order:
            wait_size(m)
        time.sleep(args.settle)
        t0 = {m.key: cpu_ticks(m.master()) for m in order}
        w0 = time.monotonic()
        time.sleep(args.idle)
        window = time.monotonic() - w0
        for m in order:
            res[m.key]["idle_cpu"] = (cpu_ticks(m.master()) - t0[m.key]) / CLK_TCK / window * 100
            res[m.key].update(memory(m.master()))
        log("  idle: " + ", ".join("%s %.1f MiB %.2f%%" % (m.key, res[m.key]["rss"], res[m.key]["idle_cpu"])
                                   for m in order))
        for m in extras:  # the data path baselines, one at a time beside the idle managers
            m.launch()
            if probe(["serving", m.port, "", m.size], args.timeout)[0] is None:
                raise RuntimeError("%s never answered (log %s)" % (m.key, m.logfile()))
            res[m.key]["tput"] = throughput(m, args.tput, "tput")
            res[m.key]["tput_close"] = throughput(m, args.tput, "close", close=True)
            m.stop()
        for m in order:
            res[m.key]["tput"] = throughput(m, args.tput, "tput")
            res[m.key]["tput_close"] = throughput(m, args.tput, "close", close=True)
        log("  req/s: " + ", ".join("%s %.0f" % (m.key, res[m.key]["tput"]["rps"]) for m in order + extras))
        for m in order:
            res[m.key]["crash_ms"] = crash(m, args.timeout)
        log("  crash: " + ", ".join("%s %s" % (m.key, fmt(res[m.key]["crash_ms"])) for m in order))
        for m in order:
            res[m.key]["reload"] = reload_under_load(m, args.reload_timeout)
            log("  %s reload %s" % (m.key, res[m.key]["reload"]))
        for m in order:
            m.stop()
        for m in reloads:  # variants measured for the rolling restart only
            res[m.key]["cold_ms"] = cold_start(m, args.timeout)
            res[m.key]["reload"] = reload_under_load(m, args.reload_timeout)
            log("  %s reload %s" % (m.key, res[m.key]["reload"]))
            m.stop()
    finally:
        for m in order + extras + reloads:
            m.stop()
    res["load_end"] = os.getloadavg()
    res["uptime_end"] = uptime()
    return res


def uptime():
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


# ---- report --------------------------------------------------------------------------------------------------

def fmt(v, digits=0):
    if v is None:
        return "n/a"
    return ("%%.%df" % digits) % v


def summary(values, digits=0):
    vals = [v for v in values if v is not None]
    if not vals:
        return "n/a"
    missing = len(values) - len(vals)
    s = fmt(statistics.median(vals), digits)
    if len(vals) > 1:
        s += " (%s–%s)" % (fmt(min(vals), digits), fmt(max(vals), digits))
    if missing:
        s += " [n/a in %d of %d rounds]" % (missing, len(values))
    return s


FIGURES = [  # label, getter, digits, a ratio makes sense
    ("master RSS (MiB)", lambda d: d.get("rss"), 1, True),
    ("master PSS (MiB)", lambda d: d.get("pss"), 1, True),
    ("master USS (MiB)", lambda d: d.get("uss"), 1, True),
    ("master threads", lambda d: d.get("threads"), 0, False),
    ("master idle CPU (% of a core)", lambda d: d.get("idle_cpu"), 2, False),
    ("cold start: launch → every worker answering (ms)", lambda d: d.get("cold_ms"), 0, True),
    ("keep-alive load through the shared socket: req/s", lambda d: d.get("tput", {}).get("rps"), 0, True),
    ("keep-alive load: master CPU (% of a core)", lambda d: d.get("tput", {}).get("master_cpu"), 1, False),
    ("keep-alive load: CPU per request, master + workers (µs)", lambda d: d.get("tput", {}).get("all_us"), 0,
     True),
    ("a new connection per request: req/s", lambda d: d.get("tput_close", {}).get("rps"), 0, True),
    ("a new connection per request: master CPU (% of a core)",
     lambda d: d.get("tput_close", {}).get("master_cpu"), 1, False),
    ("a new connection per request: CPU per request, master + workers (µs)",
     lambda d: d.get("tput_close", {}).get("all_us"), 0, True),
    ("kill -9 of a worker → new pid answering (ms)", lambda d: d.get("crash_ms"), 0, True),
    ("rolling restart under load: command returned (ms)", lambda d: d.get("reload", {}).get("command_ms"), 0,
     True),
    ("rolling restart under load: every new worker answering (ms)",
     lambda d: d.get("reload", {}).get("serving_ms"), 0, True),
    ("rolling restart under load: failed requests", lambda d: d.get("reload", {}).get("failed"), 0, False),
    ("rolling restart under load: req/s", lambda d: d.get("reload", {}).get("rps"), 0, True),
]


def ratio_summary(rounds, key, get):
    vals = []
    for res in rounds:
        a, b = get(res.get("cm", {})), get(res.get(key, {}))
        vals.append(b / a if a and b is not None else None)
    return summary(vals, 2) if any(v is not None for v in vals) else "n/a"


def report(data, args, managers):
    rounds = data["rounds"]
    n = len(rounds)
    node = [m for m in managers if m.node_app and m.key not in ("alone", "cm1", "cm0")]
    names = {m.key: m.label for m in managers}
    L = []
    add = L.append
    add("## Managers side by side, the same worker app")
    add("")
    add("`%s` on %s: %d round%s, %d workers each, a %d ms app startup delay; %s." % (
        data["command"], data["date"], n, "" if n == 1 else "s", args.size, args.delay, data["machine"]))
    add("")
    add("Versions: %s." % "; ".join(data["versions"]))
    add("")
    add("The worker is one app for every Node-capable manager: `bench/apps/app.js` (node http; `GET /` answers "
        "`pid P worker W`), which waits STARTUP_DELAY_MS, then listens where its manager expects: on the "
        "inherited socket at fd 3 (`LISTEN_FDS`) under cluster-master (`run --exec node --ready log:listening "
        "-- bench/apps/app.js`, the packaged launcher `packaging/cluster-master` with its AppCDS archives, as "
        "installed), on `PORT` through node:cluster under PM2 (cluster mode, `pm2 start app.js -i N`), npm "
        "cluster-master (`bench/apps/ncm-master.js`) and plain node:cluster (`bench/apps/node-cluster.js`, a "
        "35-line primary written for this bench). gunicorn runs `bench/apps/wsgi_app.py`, the same idea (the "
        "delay in the import, the same body; sync workers, which close every connection). The Java demo "
        "worker is in its own table below.")
    add("")
    add("Each round runs every manager, the order rotated per round; a figure is the median (min–max) over "
        "the rounds. The machine has %d cores, shared with other jobs while this ran (the load per round is "
        "below), and wrk runs on the same cores: absolute times and req/s move with that load, so **compare "
        "the same-round ratios**, which set each manager against cluster-master measured minutes apart in "
        "the same conditions." % os.cpu_count())
    add("")
    add("| figure | " + " | ".join(names[m.key] for m in node) + " |")
    add("|---|" + "---|" * len(node))
    for label, get, digits, _ in FIGURES:
        add("| %s | " % label + " | ".join(summary([get(r.get(m.key, {})) for r in rounds], digits)
                                          for m in node) + " |")
    add("")
    add("Same-round ratios, other / cluster-master (below 1: smaller than cluster-master's figure; the CPU and "
        "failure figures, near 0 for cluster-master, are left out):")
    add("")
    others = [m for m in node if m.key != "cm"]
    add("| figure | " + " | ".join(names[m.key] for m in others) + " |")
    add("|---|" + "---|" * len(others))
    for label, get, digits, ratio in FIGURES:
        if ratio:
            add("| %s | " % label + " | ".join(ratio_summary(rounds, m.key, get) for m in others) + " |")
    add("")
    add("How each figure is taken:")
    add("")
    add("- **Master**: the process that supervises: cluster-master's JVM, PM2's daemon (God, from its "
        "`pm2.pid`), the node primary, gunicorn's arbiter. RSS, PSS and USS (Private_Clean + Private_Dirty) "
        "from `/proc/PID/smaps_rollup`; idle CPU is its utime + stime over %d s with every manager's workers "
        "up and no requests (all managers idle at once, %d s after the last one started). Workers are not "
        "counted. cluster-master also starts a small `sh` orphan guard (not a child) which is not counted "
        "either." % (args.idle, args.settle))
    add("- **Cold start**: from launching the manager (for PM2 `pm2 start`, which also starts its daemon) "
        "until %d distinct worker pids have answered `GET /` on new connections (`bench/probe.py serving`, "
        "one connection about every millisecond). Managers start one at a time." % args.size)
    add("- **Throughput**: `wrk -t2 -c32 -d%ds --latency --timeout 5s` at the manager's port, keep-alive and "
        "then with a new connection per request; the master's CPU is measured over the same seconds. Data "
        "path: under cluster-master the workers accept on the shared socket themselves; node:cluster (and so "
        "PM2 and npm cluster-master) accepts in the primary by default and hands each new connection to a "
        "worker (round-robin), so its primary works for every connection; gunicorn's workers accept "
        "themselves (sync workers: a new connection for every request in both runs)." % args.tput)
    add("- **Crash to serving**: `python3 bench/probe.py kill PORT VICTIM PIDS` sends SIGKILL to one worker "
        "and probes until a pid that was not a worker answers; with the %d ms startup delay of the app, "
        "that delay is the floor." % args.delay)
    add("- **Rolling restart under load**: `wrk -t2 -c16 --timeout 5s` runs, 1 s in the reload starts: "
        "`cluster-master ctl --socket S reload` (what the shipped unit's `systemctl reload` runs), `pm2 "
        "reload bench`, `restart()` on npm cluster-master's REPL (its SIGHUP restart throws at the end in "
        "0.2.1), `kill -HUP` to the node:cluster primary and to gunicorn's arbiter. \"Command returned\" is "
        "the reload command's wall time (ctl and pm2 wait for the restart; a signal or REPL call returns at "
        "once); \"every new worker answering\" is until %d pids that were not workers before answered. wrk "
        "stops 1 s after that. Failed = wrk's non-2xx answers and socket errors plus failed probe "
        "connections. cluster-master keeps each replacement on probation (default 5 s) before its old worker "
        "stops, one slot at a time; the others stop the old worker as soon as the new one listens." % args.size)
    add("")
    add("The data path against the app alone, same rounds (`wrk -t2 -c32 -d%ds --timeout 5s`, keep-alive, and "
        "with `-H 'Connection: close'`, a new connection for every request). Per request: the CPU time "
        "(user + system) the master used, and the master and its workers together, divided by the requests "
        "answered; the ratio is req/s against the app alone in the same round. CPU per request moves less "
        "with the machine's other load than req/s does, but it moves too (busy cores mean more switches and "
        "colder caches):" % args.tput)
    add("")
    add("| system | keep-alive: req/s | ratio | master µs/request | all µs/request | new connections: req/s | "
        "ratio | master µs/request | all µs/request |")
    add("|---|---|---|---|---|---|---|---|---|")
    for key in ["alone", "cm1"] + [m.key for m in node]:
        cells = []
        for mode in ("tput", "tput_close"):
            def rps(d):
                return d.get(mode, {}).get("rps")
            vals = [rps(r.get(key, {})) for r in rounds]
            ratios = [rps(r[key]) / rps(r["alone"]) if rps(r.get("alone", {})) and rps(r.get(key, {}))
                      else None for r in rounds]
            per = [summary([r.get(key, {}).get(mode, {}).get(k) for r in rounds]) for k in ("master_us", "all_us")]
            if key == "alone":
                per[0] = "—"
            cells += [summary(vals), "1" if key == "alone" else summary(ratios, 2)] + per
        label = names[key] + ("" if key in ("alone", "cm1") else ", %d workers" % args.size)
        add("| %s | %s |" % (label, " | ".join(cells)))
    add("")
    if "cm0" in names:
        add("cluster-master's rolling restart without its probation (`run ... --probation 0`, the same Node app, "
            "measured after the others in each round): a replacement's old worker then stops as soon as the "
            "replacement is ready, as under the other managers.")
        add("")
        add("| figure | %s | %s | ratio (same round) |" % (names["cm0"], names["cm"]))
        add("|---|---|---|---|")
        for label, get, digits, ratio in FIGURES:
            if label.startswith("rolling restart"):
                a = [get(r.get("cm0", {})) for r in rounds]
                b = [get(r.get("cm", {})) for r in rounds]
                rs = [x / y if x is not None and y else None for x, y in zip(a, b)]
                add("| %s | %s | %s | %s |" % (label, summary(a, digits), summary(b, digits),
                                               summary(rs, 2) if ratio else ""))
        add("")
    if "cmj" in names:
        add("### The Java demo worker under cluster-master")
        add("")
        add("The same rounds and measurements, `run --main dev.clustermaster.demo.DemoHttpWorker --ready "
            "notify --env DEMO_STARTUP_DELAY_MS=%d` (one JVM per worker; READY=1 when it serves), next to "
            "cluster-master with the Node app of the same rounds:" % args.delay)
        add("")
        add("| figure | %s | %s | ratio Java / Node (same round) |" % (names["cmj"], names["cm"]))
        add("|---|---|---|---|")
        for label, get, digits, ratio in FIGURES:
            a = [get(r.get("cmj", {})) for r in rounds]
            b = [get(r.get("cm", {})) for r in rounds]
            rs = [x / y if x is not None and y else None for x, y in zip(a, b)]
            add("| %s | %s | %s | %s |" % (label, summary(a, digits), summary(b, digits),
                                           summary(rs, 2) if ratio else ""))
        add("")
    add("Load of the machine per round (`uptime` at its start and end):")
    add("")
    add("| round | at start | at end |")
    add("|---|---|---|")
    for i, r in enumerate(rounds):
        add("| %d | %s | %s |" % (i + 1, " ".join("%.2f" % x for x in r["load_start"]),
                                  " ".join("%.2f" % x for x in r["load_end"])))
    add("")
    notes = []
    for r in rounds:
        for m in [x for x in managers if x.key not in ("alone", "cm1")]:
            rl = r.get(m.key, {}).get("reload", {})
            if rl and not rl.get("master_survived", True):
                notes.append("round %d: %s's master exited during its rolling restart (its workers with it; "
                             "wrk then counted %d failed requests, not in the table)" % (
                                 rounds.index(r) + 1, names[m.key], rl["wrk_failed"] + rl["probe_failed"]))
            if rl and rl.get("command_exit"):
                notes.append("round %d: %s's reload command exited %d" % (
                    rounds.index(r) + 1, names[m.key], rl["command_exit"]))
            if rl and rl.get("master_survived", True) and rl.get("serving_ms") is None:
                notes.append("round %d: %s's new workers did not all answer within %d s" % (
                    rounds.index(r) + 1, names[m.key], args.reload_timeout))
    if notes:
        add("Incidents: " + "; ".join(notes) + ". Logs of the run are in `bench/.results/` (not committed).")
        add("")
    return "\n".join(L)


def write_doc(path, text):
    with open(path) as f:
        doc = f.read()
    block = BEGIN + "\n" + text.rstrip() + "\n" + END
    if BEGIN in doc and END in doc:
        doc = doc[:doc.index(BEGIN)] + block + doc[doc.index(END) + len(END):]
    else:
        doc = doc.rstrip() + "\n\n" + block + "\n"
    with open(path + ".tmp", "w") as f:
        f.write(doc)
    os.replace(path + ".tmp", path)


# ---- setup ---------------------------------------------------------------------------------------------------

def java_opts():
    with open(os.path.join(ROOT, "packaging", "default")) as f:
        for line in f:
            m = re.match(r'^JAVA_OPTS="(.*)"\s*$', line)
            if m:
                return m.group(1)
    return ""


def npm_install():
    want = ["%s@%s" % kv for kv in PINNED.items()]
    have = all(os.path.exists(os.path.join(NPM_DIR, "node_modules", k, "package.json")) and
               json.load(open(os.path.join(NPM_DIR, "node_modules", k, "package.json")))["version"] == v
               for k, v in PINNED.items())
    if not have:
        log("npm install %s into %s" % (" ".join(want), NPM_DIR))
        os.makedirs(NPM_DIR, exist_ok=True)
        if not os.path.exists(os.path.join(NPM_DIR, "package.json")):
            with open(os.path.join(NPM_DIR, "package.json"), "w") as f:
                f.write('{"private": true}\n')
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--save-exact"] + want, cwd=NPM_DIR,
                       check=True, stdout=subprocess.DEVNULL)


def versions(out):
    def cmd(*c):
        r = subprocess.run(list(c), capture_output=True, text=True)
        return (r.stdout + r.stderr).strip().splitlines()[0] if (r.stdout + r.stderr).strip() else "?"
    head = subprocess.run(["git", "-C", ROOT, "log", "-1", "--format=%h %cd", "--date=format:%Y-%m-%d %H:%M"],
                          capture_output=True, text=True).stdout.strip()
    return ["cluster-master at %s (`mvn -o -q package -DskipTests`)" % head,
            cmd("java", "-version"),
            "node " + cmd("node", "--version"),
            "PM2 %s and npm cluster-master %s (npm, pinned; the script installs them into bench/.cache/npm)"
            % (PINNED["pm2"], PINNED["cluster-master"]),
            cmd("gunicorn", "--version") + " and wrk " + cmd("wrk", "--version").split(" [")[0].split()[-1]
            + " (Debian packages)"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=None, help="rounds (default 3; 1 with --quick)")
    ap.add_argument("--quick", action="store_true", help="1 round, short idle and load windows")
    ap.add_argument("--size", type=int, default=2, help="workers per manager (default 2)")
    ap.add_argument("--delay", type=int, default=1000, help="the app's startup delay in ms (default 1000)")
    ap.add_argument("--idle", type=int, default=None, help="idle CPU window in s (default 30; 5 with --quick)")
    ap.add_argument("--tput", type=int, default=None, help="wrk seconds for throughput (default 5; 2 quick)")
    ap.add_argument("--only", default="", help="comma list of managers (cm,pm2,ncm,nodecluster,gunicorn,cmj)")
    ap.add_argument("--doc", help="replace the compare section of this file (docs/benchmarks.md)")
    ap.add_argument("--out", help="results dir (default bench/.results/STAMP)")
    ap.add_argument("--report", metavar="RESULTS_JSON", help="only write the report of an earlier run")
    args = ap.parse_args()
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.idle = args.idle or (5 if args.quick else 30)
    args.tput = args.tput or (2 if args.quick else 5)
    args.settle, args.timeout, args.reload_timeout = 3, 60, 45
    if args.report:
        with open(args.report) as f:
            data = json.load(f)
        for k, v in data.get("args", {}).items():
            setattr(args, k, v)
        keys = [k for k in ("cm", "pm2", "ncm", "nodecluster", "gunicorn", "cmj", "alone", "cm1", "cm0")
                if k in data["rounds"][0]]
        text = report(data, args, [labelled(k) for k in keys])
        print(text)
        if args.doc:
            write_doc(args.doc, text)
        return

    for tool, hint in (("wrk", "apt-get install wrk"), ("gunicorn", "apt-get install gunicorn"),
                       ("node", "apt-get install nodejs"), ("npm", "apt-get install npm"),
                       ("java", "a JDK 17")):
        if not shutil.which(tool):
            sys.exit("compare.py: %s not found: %s" % (tool, hint))
    if not os.path.exists(JAR):
        sys.exit("compare.py: no %s: run `mvn -o -q package -DskipTests` first" % JAR)
    newer = [os.path.join(d, f) for d, _, fs in os.walk(os.path.join(ROOT, "src", "main")) for f in fs
             if os.path.getmtime(os.path.join(d, f)) > os.path.getmtime(JAR)]
    if newer and "JAR" not in os.environ:
        sys.exit("compare.py: %s is older than %s: run `mvn -o -q package -DskipTests` first (or set JAR=)"
                 % (os.path.relpath(JAR, ROOT), os.path.relpath(newer[0], ROOT)))
    npm_install()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = os.path.abspath(args.out or os.path.join(ROOT, "bench", ".results", stamp))
    os.makedirs(out, exist_ok=True)

    # AppCDS archives as the package's postinst makes them, for this jar
    cds = os.path.join(out, "cds")
    log("AppCDS archives into %s" % cds)
    subprocess.run(["sh", os.path.join(ROOT, "packaging", "cluster-master-cds"), cds], cwd=ROOT, check=True,
                   env=dict(os.environ, CLUSTER_MASTER_JAR=JAR, CLUSTER_MASTER_LAUNCHER=LAUNCHER,
                            CM_LOG_JOURNAL="off"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ClusterMaster.cds_dir, ClusterMaster.java_opts = cds, java_opts()

    kinds = [ClusterMaster, Pm2, NpmClusterMaster, NodeCluster, Gunicorn, ClusterMasterJava]
    only = set(filter(None, args.only.split(",")))
    managers = [k(out, args.size, args.delay) for k in kinds if not only or k.key in only or k.key == "cm"]
    extras = [Alone(out, 1, 0), ClusterMasterOne(out, 1, args.delay)]
    reloads = [ClusterMasterNoProbation(out, args.size, args.delay)]
    for m in managers + extras + reloads:
        m.label = LABELS[m.key]

    command = "python3 bench/compare.py" + "".join(" " + a for a in map(shlex.quote, sys.argv[1:]))
    data = {"command": command, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "args": {k: getattr(args, k) for k in ("size", "delay", "idle", "tput", "settle", "reload_timeout")},
            "machine": "%d CPUs (%s), Linux %s" % (os.cpu_count(), cpu_model(), os.uname().release),
            "versions": versions(out), "rounds": []}
    t_start = time.monotonic()
    try:
        for r in range(args.rounds):
            data["rounds"].append(run_round(r, managers, extras, reloads, args))
            with open(os.path.join(out, "results.json"), "w") as f:
                json.dump(data, f, indent=1)
    finally:
        for p in SESSIONS:
            end_group(p, 5)
    text = report(data, args, managers + extras + reloads)
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write(text + "\n")
    print(text)
    log("%d rounds in %.0f s; results in %s" % (args.rounds, time.monotonic() - t_start, out))
    if args.doc:
        write_doc(args.doc, text)
        log("wrote %s" % args.doc)


LABELS = {"cm": "cluster-master", "pm2": "PM2 " + PINNED["pm2"],
          "ncm": "npm cluster-master " + PINNED["cluster-master"],
          "nodecluster": "node:cluster", "gunicorn": "gunicorn", "cmj": "cluster-master, Java demo worker",
          "alone": "app.js alone (1 process, no manager)", "cm1": "cluster-master, 1 worker",
          "cm0": "cluster-master, `--probation 0`"}


def labelled(key):
    """A stand-in for a manager of an earlier run: its key, label and table."""
    m = type("Earlier", (), {})()
    m.key, m.label, m.node_app = key, LABELS[key], key != "cmj"
    return m


def cpu_model():
    with open("/proc/cpuinfo") as f:
        m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
    return m.group(1).split()[0] if m else "?"


if __name__ == "__main__":
    main()
