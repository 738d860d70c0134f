package dev.clustermaster.worker;

import java.util.logging.Logger;

/** A worker main for {@link WorkerMainProcessTest}: talks to the master through every ClusterWorker call. */
public final class EchoWorkerFixture {

    private EchoWorkerFixture() {
    }

    public static void main(String[] args) throws InterruptedException {
        ClusterWorker.onMessage(m -> "pong " + m + " from " + ClusterWorker.id() + "/" + ClusterWorker.restartCount());
        ClusterWorker.onLogLevel(level -> ClusterWorker.send("level " + level + " jul " + Logger.getLogger("").getLevel()));
        ClusterWorker.send("hello " + String.join(",", args)).thenAccept(reply -> ClusterWorker.send("got " + reply));
        ClusterWorker.status("warming up");
        ClusterWorker.ready();
        // Bounded, so a broken test cannot leave this JVM behind; the master's EOF must end it long before.
        Thread.sleep(60_000);
        System.exit(3);
    }
}
