#!/usr/bin/env python3
"""What the master's libraries cost a Java worker: a --jar worker with the thin worker jar on its class path
("thin": the build's -all jar with its -worker jar beside it) against the master's whole shaded jar there
("shaded": the same -all jar copied alone, so the master falls back to it, as every worker ran before).

Two apps, each compiled here: a JDK-only HTTP server, and the same server that also calls slf4j-api 2 without a
provider of its own (with the shaded jar it finds the master's logback). Per round, app and variant: a fresh
master (`run --jar APP --size 1 --ready 'log:App serving' --java-cds off`); spawn -> ready from the master's
log lines, the worker's VmRSS after one request, and the classes its JVM loaded (-Xlog:class+load). Rounds are
interleaved; medians with min-max.

    python3 bench/worker-classpath.py --rounds 7
"""
import argparse
import datetime
import os
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request

APP = """
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

public class %(name)s {
    public static void main(String[] args) throws Exception {
        %(logging)s
        ServerSocketChannel listener = (ServerSocketChannel) System.inheritedChannel();
        System.out.println("%(name)s serving");
        while (true) {
            try (SocketChannel c = listener.accept()) {
                c.read(ByteBuffer.allocate(4096));
                c.write(ByteBuffer.wrap("HTTP/1.1 200 OK\\r\\nContent-Length: 3\\r\\nConnection: close\\r\\n\\r\\nok\\n".getBytes()));
            }
        }
    }
}
"""


def build_app(work, name, slf4j):
    """work/NAME.jar; with slf4j, the jar's Class-Path names a copy of slf4j-api in work/lib."""
    src = os.path.join(work, name + ".java")
    logging = 'org.slf4j.LoggerFactory.getLogger(%s.class).info("starting");' % name if slf4j else ""
    with open(src, "w") as f:
        f.write(APP % {"name": name, "logging": logging})
    classes = os.path.join(work, name + "-classes")
    cp = []
    manifest = os.path.join(work, name + ".mf")
    with open(manifest, "w") as f:
        f.write("Main-Class: %s\n" % name)
        if slf4j:
            os.makedirs(os.path.join(work, "lib"), exist_ok=True)
            shutil.copy(slf4j, os.path.join(work, "lib"))
            cp = ["-cp", slf4j]
            f.write("Class-Path: lib/%s\n" % os.path.basename(slf4j))
    subprocess.run(["javac", *cp, "-d", classes, src], check=True)
    jar = os.path.join(work, name + ".jar")
    subprocess.run(["jar", "--create", "--file", jar, "--manifest", manifest, "-C", classes, "."], check=True)
    return jar


def stamp(line):
    return datetime.datetime.fromisoformat(line.split(" ")[0].replace("Z", "+00:00")).timestamp()


def one(master_jar, app, work, tag):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    log = os.path.join(work, tag + ".log")
    loaded = os.path.join(work, tag + ".classes")
    env = dict(os.environ, _JAVA_SR_SIGNUM="39", CM_LOG_JOURNAL="off")
    env.pop("CACHE_DIRECTORY", None)
    with open(log, "w") as out:
        master = subprocess.Popen(
            ["java", "-XX:TieredStopAtLevel=1", "-jar", master_jar, "run", "--jar", app, "--size", "1",
             "--ready", "log:App serving", "--listen", "tcp://127.0.0.1:%d" % port, "--repl", "false",
             "--java-cds", "off", "--jvm-arg=-XX:+UseSerialGC", "--jvm-arg=-Xlog:class+load:file=" + loaded,
             "--runtime-dir", os.path.join(work, tag + "-run")],
            stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.time() + 120
        while "all 1 workers ready" not in open(log).read():
            if time.time() > deadline or master.poll() is not None:
                raise RuntimeError("no ready worker:\n" + open(log).read())
            time.sleep(0.05)
        urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=30).read()
        lines = open(log).read().splitlines()
        spawned = stamp(next(l for l in lines if "starting 1 workers" in l))
        ready_line = next(l for l in lines if re.search(r"worker 1 \(pid \d+\) ready", l))
        pid = re.search(r"\(pid (\d+)\)", ready_line).group(1)
        with open("/proc/%s/status" % pid) as f:
            rss = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) / 1024
        with open(loaded) as f:
            classes = sum(1 for _ in f)
        return (stamp(ready_line) - spawned) * 1000, rss, classes
    finally:
        master.terminate()
        master.wait(60)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--jar", default="target/cluster-master-0.1.0-all.jar", help="the master's -all jar (its -worker jar beside it)")
    p.add_argument("--slf4j", default=os.path.expanduser("~/.m2/repository/org/slf4j/slf4j-api/2.0.17/slf4j-api-2.0.17.jar"))
    a = p.parse_args()
    thin = os.path.abspath(a.jar)
    if not os.path.isfile(thin.replace("-all.jar", "-worker.jar")):
        raise SystemExit("no worker jar beside " + thin + " (mvn -o -q package -DskipTests -DskipPackaging)")
    work = tempfile.mkdtemp(prefix="cm-worker-cp.")
    try:
        shaded = os.path.join(work, "alone", os.path.basename(thin))
        os.makedirs(os.path.dirname(shaded))
        shutil.copy(thin, shaded)
        apps = {"JDK-only app": build_app(work, "JdkApp", None), "slf4j-api 2 app, no provider": build_app(work, "Slf4jApp", a.slf4j)}
        variants = {"thin": thin, "shaded": shaded}
        results = {(app, v): [] for app in apps for v in variants}
        for r in range(a.rounds):
            for app, app_jar in apps.items():
                for v, jar in variants.items():
                    results[(app, v)].append(one(jar, app_jar, work, "%s-%s-%d" % (os.path.basename(app_jar)[:-4], v, r)))

        def med(xs, fmt):
            return (fmt + " (" + fmt + "–" + fmt + ")") % (statistics.median(xs), min(xs), max(xs))
        print("| app | worker class path | spawn → ready (ms) | worker RSS (MiB) | classes loaded |")
        print("|---|---|---|---|---|")
        for (app, v), rs in results.items():
            print("| %s | %s | %s | %s | %d |" % (app, v, med([x[0] for x in rs], "%.0f"), med([x[1] for x in rs], "%.1f"),
                                                  statistics.median([x[2] for x in rs])))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
