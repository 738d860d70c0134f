package dev.clustermaster.it;

import dev.clustermaster.worker.ClusterWorker;

import java.nio.file.Files;
import java.nio.file.Path;

/** Test worker: says ready, asks the master something, records the answer and what the master sends it. */
public final class MessagingWorker {
    public static void main(String[] args) throws Exception {
        Path out = Path.of(System.getenv("OUT"));
        int id = ClusterWorker.id();
        ClusterWorker.onMessage(msg -> {
            try {
                Files.writeString(out.resolve("from-master." + id), msg);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return "";
        });
        ClusterWorker.ready();
        String answer = ClusterWorker.send("hello from " + id).get();
        Files.writeString(out.resolve("reply." + id), answer);
        Thread.sleep(600_000);
    }
}
