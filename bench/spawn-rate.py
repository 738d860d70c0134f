#!/usr/bin/env python3
"""Benchmark (not a test): how fast the master spawns N `sleep` workers.

    python3 bench/spawn-rate.py [N] [ROUNDS]       # after: mvn -B package -DskipTests; N=256, ROUNDS=3

Starts a master (packaging/cluster-master launcher, the jar in $JAR or target/) with one `sleep` worker, waits
until it runs, then asks for N workers on the REPL (resize(N)) and polls the master's children in /proc until
N are alive. Prints per round: ms from the resize to N children, workers/s, ms per spawn and the master's own CPU
time (utime + stime) per spawn; then the medians.
Loopback/unix sockets only; the master and its workers are stopped at the end of each round."""
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N = int(sys.argv[1]) if len(sys.argv) > 1 else 256
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
JAR = os.environ.get("JAR", os.path.join(ROOT, "target", "cluster-master-0.1.0-all.jar"))


def children(pid):
    kids = set()
    for task in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                kids.update(int(p) for p in f.read().split())
        except OSError:
            pass
    return kids


def cpu_ms(pid):
    """utime + stime of a process, in ms."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def await_(cond, seconds, what):
    deadline = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > deadline:
            raise SystemExit("timeout waiting for " + what)
        time.sleep(0.002)


def repl(path, line):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(path)
        s.sendall(line.encode() + b"\n")
        data = b""
        while b"\n" not in data.lstrip(b"> "):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.decode().strip()


def round_once(tmp):
    sock = os.path.join(tmp, "repl.sock")
    env = dict(os.environ, CLUSTER_MASTER_JAR=JAR, CM_LOG_JOURNAL="off", RUNTIME_DIRECTORY=tmp)
    master = subprocess.Popen(["sh", os.path.join(ROOT, "packaging", "cluster-master"), "run", "--exec", "sleep",
                               "--size", "1", "--max-children", str(max(N, 1024)), "--repl", sock, "--", "100000"],
                              env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "master.log"), "w"))
    try:
        await_(lambda: len(children(master.pid)) >= 1 and os.path.exists(sock), 60, "the first worker and the REPL")
        cpu0 = cpu_ms(master.pid)
        t0 = time.monotonic()
        answer = repl(sock, "resize(%d)" % N)
        await_(lambda: len(children(master.pid)) >= N, 120, "%d workers (resize answered %r)" % (N, answer))
        return (time.monotonic() - t0) * 1000, cpu_ms(master.pid) - cpu0
    finally:
        master.send_signal(signal.SIGTERM)
        try:
            master.wait(60)
        except subprocess.TimeoutExpired:
            master.kill()
            master.wait()


def main():
    if not os.path.exists(JAR):
        raise SystemExit("no %s: mvn -B package -DskipTests first" % JAR)
    times, cpus = [], []
    for r in range(ROUNDS):
        tmp = tempfile.mkdtemp(prefix="cm-spawn-")
        os.chmod(tmp, 0o700)
        try:
            ms, cpu = round_once(tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        times.append(ms)
        cpus.append(cpu)
        print("round %d: %d workers in %.0f ms: %.0f/s, %.2f ms per spawn, master CPU %.2f ms per spawn"
              % (r + 1, N - 1, ms, (N - 1) / ms * 1000, ms / (N - 1), cpu / (N - 1)), flush=True)
    med = statistics.median(times)
    print("median: %.0f ms (min %.0f, max %.0f), %.0f workers/s, %.2f ms per spawn, master CPU %.2f ms per spawn"
          % (med, min(times), max(times), (N - 1) / med * 1000, med / (N - 1), statistics.median(cpus) / (N - 1)))


if __name__ == "__main__":
    main()
