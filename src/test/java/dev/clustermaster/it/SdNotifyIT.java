package dev.clustermaster.it;

import dev.clustermaster.os.Monotonic;
import dev.clustermaster.os.NotifyListener;
import dev.clustermaster.os.Posix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The master speaks sd_notify to $NOTIFY_SOCKET the way a Type=notify / notify-reload service must. */
class SdNotifyIT {
    private static final Duration T = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void readyReloadingWatchdogStopping() throws Exception {
        List<Map<String, String>> got = new CopyOnWriteArrayList<>();
        try (NotifyListener systemd = NotifyListener.bind(dir.resolve("notify.sock"), got::add);
             MasterProcess m = MasterProcess.start(dir,
                     List.of("NOTIFY_SOCKET=" + systemd.path(), "WATCHDOG_USEC=400000"),
                     "--exec", "sleep", "--size", "2", "--ready-grace", "300ms", "--repl", "false",
                     "--runtime-dir", dir.resolve("run").toString(), "--", "600")) {
            Wait.until("READY=1", T, () -> has(got, "READY", "1"));
            Wait.until("STATUS=2/2 ready", T, () -> has(got, "STATUS", "2/2 ready"));
            int readyAt = indexOf(got, "READY", 0);
            assertTrue(got.subList(0, readyAt).stream().noneMatch(msg -> msg.containsKey("WATCHDOG")),
                    "no watchdog ping before the workers are ready: " + got);
            Wait.until("WATCHDOG=1 pings while healthy", T, () -> got.stream().filter(msg -> msg.containsKey("WATCHDOG")).count() >= 2);

            long before = Monotonic.nowMicros();
            assertEquals(0, Posix.get().kill(m.pid(), 1));
            Wait.until("RELOADING=1", T, () -> has(got, "RELOADING", "1"));
            Map<String, String> reloading = got.stream().filter(msg -> msg.containsKey("RELOADING")).findFirst().orElseThrow();
            long usec = Long.parseLong(reloading.get("MONOTONIC_USEC"));
            assertTrue(usec >= before && usec - before < 10_000_000, "MONOTONIC_USEC is CLOCK_MONOTONIC now: " + usec + " vs " + before);
            int reloadAt = got.indexOf(reloading);
            Wait.until("READY=1 after the reload", T, () -> indexOf(got, "READY", reloadAt) > reloadAt);
            assertTrue(got.stream().anyMatch(msg -> msg.getOrDefault("STATUS", "").contains("restarting")), got.toString());

            assertEquals(0, Posix.get().kill(m.pid(), 15));
            assertEquals(0, m.waitForExit(T));
            Map<String, String> stopping = got.stream().filter(msg -> msg.containsKey("STOPPING")).findFirst().orElseThrow();
            assertTrue(Long.parseLong(stopping.get("EXTEND_TIMEOUT_USEC")) > 0, stopping.toString());
        }
    }

    private static boolean has(List<Map<String, String>> got, String key, String value) {
        return got.stream().anyMatch(msg -> value.equals(msg.get(key)));
    }

    private static int indexOf(List<Map<String, String>> got, String key, int from) {
        for (int i = from; i < got.size(); i++) {
            if (got.get(i).containsKey(key)) {
                return i;
            }
        }
        return -1;
    }
}
