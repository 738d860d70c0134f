package dev.clustermaster.core;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class BackoffTest {

    @Test
    void firstCrashRestartsAtOnceThenDoublesUpToTheCap() {
        Backoff b = new Backoff(500, 4_000);
        assertEquals(0, b.delayMillis(1));
        assertEquals(500, b.delayMillis(2));
        assertEquals(1_000, b.delayMillis(3));
        assertEquals(2_000, b.delayMillis(4));
        assertEquals(4_000, b.delayMillis(5));
        assertEquals(4_000, b.delayMillis(6));
        assertEquals(4_000, b.delayMillis(1_000), "no overflow on long crash loops");
    }

    @Test
    void rejectsInvertedBounds() {
        assertThrows(IllegalArgumentException.class, () -> new Backoff(5_000, 100));
        assertThrows(IllegalArgumentException.class, () -> new Backoff(-1, 100));
    }
}
