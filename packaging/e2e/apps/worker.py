#!/usr/bin/env python3
"""The e2e's Python worker: serves HTTP on the socket the master passes at fd 3 (LISTEN_FDS), says READY=1 on
NOTIFY_SOCKET once serving, and on SIGTERM finishes the request in hand and exits."""
import os, signal, socket, sys, threading
from http.server import BaseHTTPRequestHandler, HTTPServer

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("pid %d worker %s greeting %s\n" % (os.getpid(), os.environ.get("CM_CHILD_ID"),
                                                    os.environ.get("GREETING", "-"))).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

assert int(os.environ.get("LISTEN_FDS", "0")) >= 1, "no listening socket passed (LISTEN_FDS)"
server = HTTPServer(("127.0.0.1", 0), Handler, bind_and_activate=False)
server.socket = socket.socket(fileno=3)
server.socket.setblocking(False)   # all idle workers wake for a connection: the losers must not block in accept
signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
notify = os.environ.get("NOTIFY_SOCKET")
if notify:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.connect(notify)
        s.send(b"READY=1")
print("python worker %s serving" % os.environ.get("CM_CHILD_ID"), flush=True)
server.serve_forever(poll_interval=0.2)
print("python worker %s drained" % os.environ.get("CM_CHILD_ID"), flush=True)
