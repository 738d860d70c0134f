#!/usr/bin/env python3
"""Benchmark (not a test): crash to serving of the demo JVM worker, with and without a warm spare.

    python3 bench/spare-kill.py [SPARE] [KILLS] [SIZE]   # after: mvn -B package -DskipTests; SPARE=0, KILLS=3, SIZE=4

Starts a master (packaging/cluster-master, the jar in $JAR or target/) with SIZE demo workers on a loopback port
(`--ready notify --spare SPARE`), waits until SIZE pids answer GET / (and, with a spare, until one is warm), then
KILLS times: `bench/probe.py kill PORT VICTIM PIDS` (SIGKILL to a serving worker, then a new connection about
every millisecond until a pid that was not serving answers), each kill a different slot so no crash backoff
applies. Prints the probe's "ms failures probes" per kill and the median ms, and when the new worker said it
accepts (the demo's "demo: serving on" line, printed once its accept loop waits on the socket, polled in the
master's output): with several workers the probe's answer from the new pid also waits for it to win the accept
race against the warm workers, which serve every probe meanwhile. Then one rolling restart (SIGHUP,
`--probation 0` so only start-ups count): ms from the master's "rolling restart of" line to its "rolling restart
done" line."""
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPARE = int(sys.argv[1]) if len(sys.argv) > 1 else 0
KILLS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
JAR = os.environ.get("JAR", os.path.join(ROOT, "target", "cluster-master-0.1.0-all.jar"))
SIZE = int(sys.argv[3]) if len(sys.argv) > 3 else 4  # 1: no serving worker races the new one for connections


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := s.recv(4096):
                data += chunk
        m = re.search(rb"pid (\d+) worker (\d+)", data)
        return (int(m.group(1)), int(m.group(2))) if m else None
    except OSError:
        return None


def serving(port, seconds=120):
    """{slot: pid} once SIZE slots answered (a settled cluster)."""
    found, deadline = {}, time.monotonic() + seconds
    while len(found) < SIZE:
        if time.monotonic() > deadline:
            raise SystemExit("timeout: only %s answered" % found)
        a = get(port)
        if a:
            found[a[1]] = a[0]
        time.sleep(0.005)
    return found


def warm_spares(log):
    with open(log) as f:
        return len(re.findall(r"spare worker \(pid \d+\) warm", f.read()))


class AcceptingWatch(threading.Thread):
    """Notes the monotonic time the master's output first shows a demo worker, not in `before`, serving."""

    def __init__(self, log, before):
        super().__init__(daemon=True)
        self.log, self.before, self.at, self.offset = log, before, None, os.path.getsize(log)

    def run(self):
        deadline, text = time.monotonic() + 30, ""
        with open(self.log) as f:
            f.seek(self.offset)
            while self.at is None and time.monotonic() < deadline:
                text += f.read()
                for m in re.finditer(r"demo: serving on .* as pid (\d+) worker", text):
                    if int(m.group(1)) not in self.before:
                        self.at = time.monotonic()
                time.sleep(0.0005)


def await_(cond, seconds, what):
    deadline = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > deadline:
            raise SystemExit("timeout waiting for " + what)
        time.sleep(0.02)


def main():
    if not os.path.exists(JAR):
        raise SystemExit("no %s: mvn -B package -DskipTests first" % JAR)
    tmp = tempfile.mkdtemp(prefix="cm-spare-")
    os.chmod(tmp, 0o700)
    port = free_port()
    log = os.path.join(tmp, "master.log")
    env = dict(os.environ, CLUSTER_MASTER_JAR=JAR, CM_LOG_JOURNAL="off", RUNTIME_DIRECTORY=tmp)
    master = subprocess.Popen(["sh", os.path.join(ROOT, "packaging", "cluster-master"), "run",
                               "--main", "dev.clustermaster.demo.DemoHttpWorker", "--ready", "notify",
                               "--size", str(SIZE), "--spare", str(SPARE), "--probation", "0",
                               "--listen", "tcp://127.0.0.1:%d" % port,
                               "--repl", "false"], env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    times, accepts = [], []
    try:
        for k in range(KILLS):
            slots = serving(port)
            if SPARE:
                await_(lambda: warm_spares(log) >= k + 1, 120, "a warm spare")
            slot = k % SIZE + 1
            watch = AcceptingWatch(log, set(slots.values()))
            watch.start()
            probe = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "probe.py"), "kill", str(port),
                                    str(slots[slot]), ",".join(str(p) for p in slots.values())],
                                   capture_output=True, text=True)
            out = probe.stdout.strip()
            watch.join()
            killed = float(re.search(r"killed at monotonic ([0-9.]+)", probe.stderr).group(1))
            accepting = (watch.at - killed) * 1000 if watch.at else None
            print("kill %d (slot %d, pid %d): %s; new worker accepting after %s ms"
                  % (k + 1, slot, slots[slot], out, "%.0f" % accepting if accepting is not None else "?"), flush=True)
            if out.split()[0] != "timeout":
                times.append(float(out.split()[0]))
            if accepting is not None:
                accepts.append(accepting)
            time.sleep(1)  # lets the master log and start the next spare before the next round waits for it
        if times:
            print("spare=%d median: %.0f ms (%s)" % (SPARE, statistics.median(times), ", ".join("%.0f" % t for t in times)))
        if accepts:
            print("spare=%d new worker accepting, median: %.0f ms (%s)"
                  % (SPARE, statistics.median(accepts), ", ".join("%.0f" % t for t in accepts)))
        serving(port)
        if SPARE:
            await_(lambda: warm_spares(log) >= KILLS + 1, 120, "a warm spare")
        os.kill(master.pid, signal.SIGHUP)
        await_(lambda: "rolling restart done" in open(log).read(), 180, "the rolling restart")
        text = open(log).read()
        stamp = lambda line: time.mktime(time.strptime(line[:19], "%Y-%m-%dT%H:%M:%S")) + float(line[19:23])
        begin = next(l for l in text.splitlines() if "rolling restart of" in l)
        end = next(l for l in text.splitlines() if "rolling restart done" in l)
        print("spare=%d rolling restart of %d workers: %.0f ms" % (SPARE, SIZE, (stamp(end) - stamp(begin)) * 1000))
    finally:
        master.send_signal(signal.SIGTERM)
        try:
            master.wait(60)
        except subprocess.TimeoutExpired:
            master.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
