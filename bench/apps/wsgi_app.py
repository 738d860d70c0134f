# The Node app's idea for gunicorn in bench/compare.py: imported in each worker (no --preload), it first waits
# STARTUP_DELAY_MS (a slow start, as app.js waits before listen()), then answers GET / with "pid P worker 0".
import os
import time

time.sleep(int(os.environ.get("STARTUP_DELAY_MS", "0")) / 1000.0)


def app(environ, start_response):
    body = ("pid %d worker 0\n" % os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]
