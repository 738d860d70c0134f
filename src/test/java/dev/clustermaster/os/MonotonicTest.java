package dev.clustermaster.os;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class MonotonicTest {
    @Test
    void nanoTimeIsClockMonotonic() {
        for (int i = 0; i < 5; i++) {
            long before = Monotonic.nativeMicros();
            long ours = Monotonic.nowMicros();
            long after = Monotonic.nativeMicros();
            // Same clock means ours lies between the two direct reads (1 ms slack for rounding and preemption).
            assertTrue(before - 1000 <= ours && ours <= after + 1000,
                    "nowMicros " + ours + " not within [" + before + ", " + after + "]");
        }
    }

    @Test
    void roughlyTheUptime() throws Exception {
        // CLOCK_MONOTONIC counts from boot (minus suspend); /proc/uptime is close to it on a server.
        double uptime = Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split(" ")[0]);
        double ours = Monotonic.nowMicros() / 1e6;
        assertTrue(ours <= uptime + 1 && ours > 0, "monotonic " + ours + " vs uptime " + uptime);
    }
}
