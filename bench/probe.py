#!/usr/bin/env python3
"""Probes for bench/compare.py, over new connections to GET / (about one per millisecond); each answer
names its worker's pid.

probe.py kill PORT VICTIM PIDS [TIMEOUT]    kill -9 VICTIM, print "ms failures probes" once a pid not in PIDS answers
probe.py serving PORT PIDS N [TIMEOUT]      print "ms failures probes" once N distinct pids not in PIDS have answered
(PIDS: comma list of the worker pids before, may be empty; times from the start of the probe; TIMEOUT in
seconds, default 60: then it prints "timeout failures probes" and exits 1)"""
import os
import re
import signal
import socket
import sys
import time

mode, port = sys.argv[1], int(sys.argv[2])
pid_re = re.compile(rb"pid (\d+)")


def pids(arg):
    return {int(p) for p in arg.split(",") if p}


if mode == "kill":
    before, wanted = pids(sys.argv[4]), 1
    timeout = float(sys.argv[5]) if len(sys.argv) > 5 else 60
else:
    before, wanted = pids(sys.argv[3]), int(sys.argv[4])
    timeout = float(sys.argv[5]) if len(sys.argv) > 5 else 60
t0 = time.monotonic()
if mode == "kill":
    os.kill(int(sys.argv[3]), signal.SIGKILL)
    print("killed at monotonic %.6f" % t0, file=sys.stderr, flush=True)  # for callers that time other signs
failures = probes = 0
fresh = set()
while time.monotonic() - t0 < timeout:
    probes += 1
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        m = pid_re.search(data)
        if not data.startswith(b"HTTP/1.1 200") or not m:
            failures += 1
        elif int(m.group(1)) not in before:
            fresh.add(int(m.group(1)))
            if len(fresh) >= wanted:
                print("%.0f %d %d" % ((time.monotonic() - t0) * 1000, failures, probes))
                sys.exit(0)
    except OSError:
        failures += 1
    time.sleep(0.001)
print("timeout %d %d" % (failures, probes))
sys.exit(1)
