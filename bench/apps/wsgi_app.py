# Comparison app for bench/rolling-restart.sh under gunicorn: the same answer as the demo worker.
import os
import time

# imported in each worker (no --preload): the delay imitates a slow start, like DEMO_STARTUP_DELAY_MS
time.sleep(int(os.environ.get("STARTUP_DELAY_MS", "0")) / 1000.0)


def app(environ, start_response):
    body = ("pid %d worker 0\n" % os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]
