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
                writeAtomically(out.resolve("from-master." + id), msg);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return "";
        });
        ClusterWorker.ready();
        String answer = ClusterWorker.send("hello from " + id).get();
        writeAtomically(out.resolve("reply." + id), answer);
        Thread.sleep(600_000);
    }

    /** The test polls for the file and then reads it: it must never see it created but still empty. */
    private static void writeAtomically(Path target, String text) throws java.io.IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.writeString(tmp, text);
        Files.move(tmp, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
