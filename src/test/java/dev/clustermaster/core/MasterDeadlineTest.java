package dev.clustermaster.core;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.OptionalLong;

import static dev.clustermaster.core.Harness.of;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Master.nextDeadline(): the only reason the runtime wakes without an event. */
class MasterDeadlineTest {

    static final Policy GRACE = MasterTest.GRACE;    // grace 1 s, stop 5 s, backoff 500 ms..4 s
    static final Policy NOTIFY = MasterTest.NOTIFY;  // ready timeout 3 s

    @Test
    void emptySlotsAreDueAtOnce() {
        Harness h = new Harness(GRACE, 2);
        assertEquals(OptionalLong.of(0), h.master.nextDeadline());
    }

    @Test
    void graceEndIsTheDeadlineOfAStartingWorker() {
        Harness h = new Harness(GRACE, 2);
        h.now = 100;
        h.tick(0);
        assertEquals(OptionalLong.of(1_100), h.master.nextDeadline());
        h.tick(1_000);
        assertEquals(2, h.snapshot().readyCount());
        assertEquals(OptionalLong.empty(), h.master.nextDeadline(), "a settled cluster has nothing to wait for");
    }

    @Test
    void readyTimeoutIsTheDeadlineInNotifyModeUntilTheWorkerSaysReady() {
        Harness h = new Harness(NOTIFY, 2);
        h.tick(0);
        assertEquals(OptionalLong.of(3_000), h.master.nextDeadline());
        h.now = 700;
        h.send(new Event.Ready(1));
        assertEquals(OptionalLong.of(3_000), h.master.nextDeadline(), "worker 2 still starting");
        h.send(new Event.Ready(2));
        assertEquals(OptionalLong.empty(), h.master.nextDeadline());
    }

    @Test
    void stopTimeoutIsADeadlineUntilSigkillIsSent() {
        Harness h = new Harness(GRACE, 1);
        h.tick(0);
        h.tick(1_000);
        h.now = 2_000;
        h.command(1, new Event.Quit());
        assertEquals(OptionalLong.of(7_000), h.master.nextDeadline());
        List<Action> atDeadline = h.tick(5_000);
        long id = h.workerInSlot(1);
        assertTrue(atDeadline.contains(new Action.SignalGroup(id, h.running.get(id), Signal.KILL)), atDeadline.toString());
        assertEquals(OptionalLong.empty(), h.master.nextDeadline(), "SIGKILL is sent once; then only the exit matters");
    }

    @Test
    void crashBackoffIsTheDeadlineOfAnEmptySlot() {
        Harness h = new Harness(GRACE, 1);
        h.tick(0);
        h.now = 10;
        h.exit(h.workerInSlot(1), 1);          // first crash: restarted at once
        h.exit(h.workerInSlot(1), 1);          // second: 500 ms backoff
        assertEquals(OptionalLong.of(510), h.master.nextDeadline());
        assertTrue(of(h.tick(499), Action.Spawn.class).isEmpty());
        assertEquals(1, of(h.tick(1), Action.Spawn.class).size());
    }

    @Test
    void theEarliestOfSeveralDeadlinesWins() {
        Harness h = new Harness(GRACE, 2);
        h.tick(0);
        h.tick(1_000);                          // both ready
        h.command(1, new Event.Resize(1));      // worker 2 stopping: SIGKILL due at 6000
        assertEquals(OptionalLong.of(6_000), h.master.nextDeadline());
        h.exit(h.workerInSlot(1), 1);           // slot 1 restarts at once: grace ends at 2000
        assertEquals(OptionalLong.of(2_000), h.master.nextDeadline());
        h.exit(h.workerInSlot(1), 1);           // second crash: slot 1 empty until 1500
        assertEquals(OptionalLong.of(1_500), h.master.nextDeadline());
    }

    @Test
    void noBackoffDeadlineWhileQuitting() {
        Harness h = new Harness(GRACE, 1);
        h.tick(0);
        h.exit(h.workerInSlot(1), 1);
        h.exit(h.workerInSlot(1), 1);           // slot 1 waits for its backoff
        h.command(1, new Event.Quit());
        assertEquals(OptionalLong.empty(), h.master.nextDeadline(), "a quitting master spawns nothing");
    }
}
