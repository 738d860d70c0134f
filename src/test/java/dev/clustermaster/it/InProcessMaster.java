package dev.clustermaster.it;

import dev.clustermaster.config.Config;
import dev.clustermaster.runtime.ClusterMaster;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** A master run through the library API inside the test JVM. */
final class InProcessMaster {
    private InProcessMaster() {
    }

    /** sh workers, ready after 200 ms of life; no signal handling, no REPL; runtime files under dir/run. */
    static Config.Builder shWorkers(Path dir, String script, int size) {
        return Config.builder()
                .exec("sh", "-c", script, "worker")
                .size(size).signals(false).repl(false)
                .readyGraceMillis(200)
                .runtimeDir(dir.resolve("run"));
    }

    /** After a test: a master still running quits hard, and the test waits until it has. */
    static void stop(ClusterMaster master, Duration wait) {
        if (master != null && !master.exitCode().isDone()) {
            master.quitHard();
            master.exitCode().orTimeout(wait.toMillis(), TimeUnit.MILLISECONDS).join();
        }
    }
}
