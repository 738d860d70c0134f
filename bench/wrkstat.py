#!/usr/bin/env python3
"""Reads wrk output; prints: requests req_per_sec non2xx socket_errors failed latency_p99 latency_max."""
import re
import sys

text = open(sys.argv[1]).read()


def num(pattern, default="0"):
    m = re.search(pattern, text, re.MULTILINE)
    return m.group(1) if m else default


requests = int(num(r"(\d+) requests in"))
rps = float(num(r"Requests/sec:\s+([\d.]+)"))
non2xx = int(num(r"Non-2xx or 3xx responses: (\d+)"))
m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
sock = sum(int(x) for x in m.groups()) if m else 0
p99 = num(r"^\s+99%\s+(\S+)", "?")
mx = re.search(r"^\s+Latency\s+\S+\s+\S+\s+(\S+)", text, re.MULTILINE)
print(requests, "%.0f" % rps, non2xx, sock, non2xx + sock, p99, mx.group(1) if mx else "?")
