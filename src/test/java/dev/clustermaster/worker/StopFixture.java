package dev.clustermaster.worker;

import java.nio.file.Files;
import java.nio.file.Path;

/** For {@link GracefulStopTest}: registers two drains (the second throws if asked), then idles until stopped. */
public final class StopFixture {
    private StopFixture() {
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        ClusterWorker.onStop(() -> {
            try {
                Thread.sleep(300); // a request still in flight
                Files.writeString(out, "drained stopping=" + ClusterWorker.stopping());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        ClusterWorker.onStop(() -> {
            if (args.length > 1 && args[1].equals("throw")) {
                throw new IllegalStateException("drain failed on purpose");
            }
        });
        System.out.println("armed");
        System.out.flush();
        Thread.sleep(60_000); // bounded: a broken test leaves no JVM behind for long
        System.exit(3);
    }
}
