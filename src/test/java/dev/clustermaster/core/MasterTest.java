package dev.clustermaster.core;

import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.clustermaster.core.Harness.notifications;
import static dev.clustermaster.core.Harness.of;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MasterTest {

    /** Grace mode, 1 s grace, 5 s stop timeout, backoff 500 ms..4 s, healthy after 10 s. */
    static final Policy GRACE = new Policy(false, 1_000, 60_000, 5_000, 1, new Backoff(500, 4_000), 10_000);
    static final Policy NOTIFY = new Policy(true, 1_000, 3_000, 5_000, 1, new Backoff(500, 4_000), 10_000);

    @Test
    void startsOneWorkerPerSlotFromOne() {
        Harness h = new Harness(GRACE, 3);
        List<Action> actions = h.tick(0);
        List<Action.Spawn> spawns = of(actions, Action.Spawn.class);
        assertEquals(List.of(1, 2, 3), spawns.stream().map(Action.Spawn::slot).toList());
        assertTrue(spawns.stream().allMatch(s -> s.restarts() == 0));
        assertEquals("starting", h.snapshot().phase());
    }

    @Test
    void graceModeAnnouncesReadyOnceWhenAllSlotsServe() {
        Harness h = new Harness(GRACE, 2);
        h.tick(0);
        assertFalse(notifications(h.tick(999)).contains("READY=1"));
        List<String> n = notifications(h.tick(1));
        assertTrue(n.contains("READY=1"), n.toString());
        assertTrue(n.contains("STATUS=2/2 ready"), n.toString());
        assertFalse(notifications(h.tick(1_000)).contains("READY=1"), "READY=1 is sent once");
        assertEquals("running", h.snapshot().phase());
        assertTrue(h.master.healthy());
    }

    @Test
    void notifyModeWaitsForReadyAndFailsASlowWorker() {
        Harness h = new Harness(NOTIFY, 2);
        h.tick(0);
        h.tick(2_000);
        assertEquals(0, h.snapshot().readyCount(), "grace does not count in notify mode");
        h.send(new Event.Ready(1));
        assertEquals(1, h.snapshot().readyCount());
        List<Action> timeout = h.tick(1_000);
        Action.SignalGroup term = of(timeout, Action.SignalGroup.class).get(0);
        assertEquals(2, term.workerId());
        assertEquals(Master.SIGTERM, term.signal());
        assertTrue(of(timeout, Action.Log.class).stream().anyMatch(l -> l.message().contains("not ready after")));
        // the slot is refilled at once (first failure), while the slow one drains
        assertEquals(List.of(2), of(timeout, Action.Spawn.class).stream().map(Action.Spawn::slot).toList());
        assertTrue(of(h.exit(2, 0), Action.Spawn.class).isEmpty(), "its exit is not counted twice");
    }

    @Test
    void crashRestartsTheSlotAtOnceWithTheRestartCountAndKillsItsGroup() {
        Harness h = new Harness(GRACE, 2);
        h.tick(0);
        h.tick(1_000);
        long victim = h.workerInSlot(2);
        int pid = h.running.get(victim);
        h.tick(20_000);
        List<Action> actions = h.exit(victim, 1);
        assertTrue(actions.contains(new Action.SignalGroup(victim, pid, Master.SIGKILL)), "stragglers of the group die");
        assertTrue(actions.contains(new Action.Forget(victim)));
        List<Action.Spawn> spawns = of(actions, Action.Spawn.class);
        assertEquals(1, spawns.size());
        assertEquals(2, spawns.get(0).slot());
        assertEquals(1, spawns.get(0).restarts(), "CM_RESTART counts restarts of the slot");
    }

    @Test
    void crashLoopBacksOffExponentiallyUpToTheCap() {
        Harness h = new Harness(GRACE, 1);
        h.tick(0);
        long[] expectedDelays = {0, 500, 1_000, 2_000, 4_000, 4_000, 4_000};
        for (long delay : expectedDelays) {
            long id = h.workerInSlot(1);
            List<Action> onExit = h.exit(id, 3);
            if (delay == 0) {
                assertEquals(1, of(onExit, Action.Spawn.class).size());
                continue;
            }
            assertTrue(of(onExit, Action.Spawn.class).isEmpty(), "no immediate respawn in a crash loop");
            assertTrue(of(h.tick(delay - 1), Action.Spawn.class).isEmpty(), "not before " + delay + " ms");
            assertEquals(1, of(h.tick(1), Action.Spawn.class).size(), "respawn after " + delay + " ms");
        }
        assertEquals(List.of(1), h.snapshot().failingSlots());
        assertTrue(h.all.stream().anyMatch(a -> a instanceof Action.Log l && l.level() == Action.Level.ERROR
                && l.message().contains("failed 7 times in a row")), "a crash loop is reported");
    }

    @Test
    void aHealthyRunResetsTheCrashCount() {
        Harness h = new Harness(GRACE, 1);
        h.tick(0);
        h.exit(h.workerInSlot(1), 1);          // 1st: at once
        h.exit(h.workerInSlot(1), 1);          // 2nd: 500 ms
        h.tick(500);
        h.tick(11_000);                        // ready and up for > 10 s
        List<Action> actions = h.exit(h.workerInSlot(1), 1);
        assertEquals(1, of(actions, Action.Spawn.class).size(), "first crash after a healthy run restarts at once");
        assertTrue(h.snapshot().failingSlots().isEmpty());
    }

    @Test
    void rollingRestartStartsTheNewWorkerBeforeStoppingTheOld() {
        Harness h = new Harness(NOTIFY, 2);
        h.tick(0);
        h.readyAll();
        long old1 = h.workerInSlot(1);
        long old2 = h.workerInSlot(2);

        List<Action> start = h.command(7, new Event.Restart());
        assertTrue(of(start, Action.Notify.class).stream().anyMatch(n -> n.state().equals("RELOADING=1") && n.reloading()));
        List<Action.Spawn> spawns = of(start, Action.Spawn.class);
        assertEquals(1, spawns.size(), "surge 1: one slot at a time");
        assertEquals(1, spawns.get(0).slot());
        assertEquals(1, spawns.get(0).restarts());
        assertTrue(of(start, Action.SignalGroup.class).isEmpty(), "old worker keeps serving until the new one is ready");
        assertEquals("restarting", h.snapshot().phase());

        List<Action> ready1 = h.send(new Event.Ready(spawns.get(0).workerId()));
        assertEquals(old1, of(ready1, Action.SignalGroup.class).get(0).workerId(), "old slot-1 worker stopped");
        List<Action.Spawn> next = of(ready1, Action.Spawn.class);
        assertEquals(2, next.get(0).slot(), "then slot 2");
        h.obeySignals(ready1);

        List<Action> ready2 = h.send(new Event.Ready(next.get(0).workerId()));
        assertEquals(old2, of(ready2, Action.SignalGroup.class).get(0).workerId());
        assertTrue(ready2.contains(new Action.Reply(7, true, "restarted 2 workers")));
        assertTrue(notifications(ready2).contains("READY=1"), "systemd hears the reload is over");
        h.obeySignals(ready2);
        assertEquals(2, h.snapshot().readyCount());
        assertEquals("running", h.snapshot().phase());
    }

    @Test
    void failedRollingRestartKeepsTheOldWorkersAndReportsFailure() {
        Harness h = new Harness(NOTIFY, 2);
        h.tick(0);
        h.readyAll();
        long old1 = h.workerInSlot(1);
        Action.Spawn fresh = of(h.command(9, new Event.Restart()), Action.Spawn.class).get(0);
        List<Action> failure = h.exit(fresh.workerId(), 1);
        Action.Reply reply = of(failure, Action.Reply.class).get(0);
        assertEquals(9, reply.requestId());
        assertFalse(reply.ok());
        assertTrue(reply.message().contains("exited before it was ready"), reply.message());
        assertTrue(of(failure, Action.SignalGroup.class).stream().noneMatch(s -> s.workerId() == old1 && s.signal() == Master.SIGTERM));
        assertTrue(of(failure, Action.Spawn.class).isEmpty(), "the old worker still holds the slot");
        assertEquals(2, h.snapshot().readyCount());
        assertTrue(of(h.tick(10_000), Action.SignalGroup.class).isEmpty(), "old workers are not retired later");
    }

    @Test
    void aStormOfHangupsEndsWithExactlyTheDesiredWorkers() {
        Harness h = new Harness(NOTIFY, 3);
        h.tick(0);
        h.readyAll();
        for (int i = 0; i < 50; i++) {           // 50 HUPs in one second, faster than workers start
            h.obeySignals(h.send(new Event.SignalReceived("HUP")));
            h.now += 20;
        }
        for (int i = 0; i < 20 && !h.snapshot().phase().equals("running"); i++) {
            int before = h.all.size();
            h.readyAll();
            h.obeySignals(List.copyOf(h.all.subList(before, h.all.size())));
            h.obeySignals(h.tick(10));
        }
        ClusterSnapshot s = h.snapshot();
        assertEquals("running", s.phase());
        assertEquals(3, s.workers().size(), s.workers().toString());
        assertEquals(3, s.readyCount());
        assertEquals(List.of(1, 2, 3), s.workers().stream().map(WorkerView::slot).toList());
        long passes = of(h.all, Action.Notify.class).stream().filter(Action.Notify::reloading).count();
        assertEquals(2, passes, "hangups during a restart coalesce into one more pass");
    }

    @Test
    void resizeUsesLowestSlotsAndStopsTheHighest() {
        Harness h = new Harness(GRACE, 2);
        h.tick(0);
        List<Action> grow = h.command(1, new Event.Resize(4));
        assertEquals(List.of(3, 4), of(grow, Action.Spawn.class).stream().map(Action.Spawn::slot).toList());
        assertTrue(grow.contains(new Action.Reply(1, true, "resized to 4 (was 2)")));
        List<Action> shrink = h.command(2, new Event.Resize(1));
        List<Long> stopped = of(shrink, Action.SignalGroup.class).stream().filter(g -> g.signal() == Master.SIGTERM)
                .map(Action.SignalGroup::workerId).toList();
        assertEquals(List.of(h.workerInSlot(2), h.workerInSlot(3), h.workerInSlot(4)), stopped);
        h.obeySignals(shrink);
        assertEquals(List.of(1), h.snapshot().workers().stream().map(WorkerView::slot).toList());
        assertTrue(of(h.tick(60_000), Action.Spawn.class).isEmpty(), "stopped slots are not restarted");
    }

    @Test
    void ttinAndTtouAddAndRemoveOneWorker() {
        Harness h = new Harness(GRACE, 2);
        h.tick(0);
        assertEquals(3, of(h.send(new Event.SignalReceived("TTIN")), Action.Spawn.class).get(0).slot());
        assertEquals(3, h.master.desiredSize());
        h.send(new Event.SignalReceived("TTOU"));
        h.send(new Event.SignalReceived("TTOU"));
        assertEquals(1, h.master.desiredSize());
    }

    @Test
    void badResizeIsRefusedWithAClearMessage() {
        Harness h = new Harness(GRACE, 2);
        h.tick(0);
        Action.Reply r = of(h.command(3, new Event.Resize(-1)), Action.Reply.class).get(0);
        assertFalse(r.ok());
        assertEquals("size must be between 0 and 64, got -1", r.message());
        assertEquals(2, h.master.desiredSize());
    }

    @Test
    void gracefulQuitTermsThenKillsAtTheDeadlineThenExitsZero() {
        Harness h = new Harness(GRACE, 2);
        h.tick(0);
        h.tick(1_000);
        List<Action> quit = h.send(new Event.SignalReceived("TERM"));
        assertTrue(notifications(quit).stream().anyMatch(n -> n.startsWith("STOPPING=1\nEXTEND_TIMEOUT_USEC=")));
        assertEquals(2, of(quit, Action.SignalGroup.class).stream().filter(s -> s.signal() == Master.SIGTERM).count());
        h.exit(h.workerInSlot(1), 0);                       // one drains in time
        List<Action> late = h.tick(5_000);
        List<Action.SignalGroup> kills = of(late, Action.SignalGroup.class);
        assertEquals(1, kills.size());
        assertEquals(Master.SIGKILL, kills.get(0).signal());
        List<Action> last = h.exit(kills.get(0).workerId(), -1);
        assertTrue(last.contains(new Action.ExitMaster(0)));
        assertTrue(of(h.tick(1_000), Action.Spawn.class).isEmpty(), "nothing respawns while quitting");
    }

    @Test
    void aWorkerThatOutlivesItsSigkillIsNotKilledAgainOnEveryTick() {
        // SIGKILL cannot be caught but takes effect late for a process in uninterruptible sleep (D state).
        Harness h = new Harness(GRACE, 2);
        h.tick(0);
        h.tick(1_000);
        h.send(new Event.SignalReceived("TERM"));
        List<Action.SignalGroup> kills = new java.util.ArrayList<>();
        for (int i = 0; i < 10; i++) {
            kills.addAll(of(h.tick(5_000), Action.SignalGroup.class));
        }
        assertEquals(2, kills.size(), "one SIGKILL per worker past the stop deadline: " + kills);
        assertTrue(kills.stream().allMatch(k -> k.signal() == Master.SIGKILL));

        h.send(new Event.SignalReceived("INT"));            // hard quit on top: nothing new to kill
        for (int i = 0; i < 10; i++) {
            assertTrue(of(h.tick(1_000), Action.SignalGroup.class).isEmpty(), "tick " + i + " after hard quit");
        }
    }

    @Test
    void hardQuitKillsOnceAndNeverAgain() {
        Harness h = new Harness(GRACE, 2);
        h.tick(0);
        h.send(new Event.SignalReceived("INT"));
        assertEquals(2, of(h.send(new Event.SignalReceived("INT")), Action.SignalGroup.class).size());
        for (int i = 0; i < 10; i++) {
            assertTrue(of(h.tick(1_000), Action.SignalGroup.class).isEmpty(), "tick " + i + " after hard quit");
        }
    }

    @Test
    void secondInterruptQuitsHardWithExitOne() {
        Harness h = new Harness(GRACE, 2);
        h.tick(0);
        h.send(new Event.SignalReceived("INT"));
        List<Action> hard = h.send(new Event.SignalReceived("INT"));
        assertEquals(2, of(hard, Action.SignalGroup.class).stream().filter(s -> s.signal() == Master.SIGKILL).count());
        h.obeySignals(hard);
        assertTrue(h.all.contains(new Action.ExitMaster(1)));
    }

    @Test
    void workerSpawnedDuringQuitIsStoppedAsSoonAsItsPidIsKnown() {
        Harness h = new Harness(GRACE, 1);
        List<Action> first = h.master.handle(new Event.Tick(), 0);
        long id = of(first, Action.Spawn.class).get(0).workerId();
        h.master.handle(new Event.Command(1, new Event.Quit()), 0);
        List<Action> spawned = h.master.handle(new Event.Spawned(id, 4242), 1);
        assertTrue(spawned.contains(new Action.SignalGroup(id, 4242, Master.SIGTERM)));
    }

    @Test
    void spawnFailureBacksOffLikeACrash() {
        Harness h = new Harness(GRACE, 1);
        List<Action> first = h.master.handle(new Event.Tick(), 0);
        long id = of(first, Action.Spawn.class).get(0).workerId();
        List<Action> again = h.master.handle(new Event.SpawnFailed(id, "No such file or directory"), 0);
        assertEquals(1, of(again, Action.Spawn.class).size());
        long id2 = of(again, Action.Spawn.class).get(0).workerId();
        List<Action> later = h.master.handle(new Event.SpawnFailed(id2, "No such file or directory"), 0);
        assertTrue(of(later, Action.Spawn.class).isEmpty());
        assertTrue(of(later, Action.Log.class).stream().anyMatch(l -> l.message().contains("cannot start worker 1: No such file")));
    }

    @Test
    void zeroBackoffStillYieldsBetweenFailedStarts() {
        Harness h = new Harness(new Policy(false, 1_000, 60_000, 5_000, 1, new Backoff(0, 0), 10_000), 1);
        List<Action> first = h.master.handle(new Event.Tick(), 0);
        long id = of(first, Action.Spawn.class).get(0).workerId();
        List<Action> again = h.master.handle(new Event.SpawnFailed(id, "gone"), 0);
        long id2 = of(again, Action.Spawn.class).get(0).workerId();
        assertTrue(of(h.master.handle(new Event.SpawnFailed(id2, "gone"), 0), Action.Spawn.class).isEmpty(),
                "the second failure in a row waits for a later tick");
        assertEquals(1, of(h.master.handle(new Event.Tick(), 1), Action.Spawn.class).size());
    }

    @Test
    void signalCommandTargetsOneSlotOrAll() {
        Harness h = new Harness(GRACE, 3);
        h.tick(0);
        List<Action> one = h.command(5, new Event.SignalWorkers(2, 10, "SIGUSR1"));
        assertEquals(List.of(h.workerInSlot(2)), of(one, Action.SignalGroup.class).stream().map(Action.SignalGroup::workerId).toList());
        assertTrue(one.contains(new Action.Reply(5, true, "sent SIGUSR1 to 1 worker")));
        assertEquals(3, of(h.command(6, new Event.SignalWorkers(null, 10, "SIGUSR1")), Action.SignalGroup.class).size());
        assertFalse(of(h.command(7, new Event.SignalWorkers(9, 10, "SIGUSR1")), Action.Reply.class).get(0).ok());
    }

    @Test
    void everyStopSignalIsFollowedByAContinueSoAStoppedWorkerActsOnIt() {
        Harness h = new Harness(GRACE, 2);
        h.tick(0);
        List<Action> stop = h.command(5, new Event.StopWorkers());
        for (Action.SignalGroup term : of(stop, Action.SignalGroup.class)) {
            if (term.signal() == Master.SIGTERM) {
                List<Action> after = stop.subList(stop.indexOf(term) + 1, stop.size());
                assertTrue(after.contains(new Action.SignalGroup(term.workerId(), term.pid(), Master.SIGCONT)),
                        "SIGCONT after " + term + " in " + stop);
            }
        }
        assertEquals(2, of(stop, Action.SignalGroup.class).stream().filter(g -> g.signal() == Master.SIGCONT).count());
    }

    @Test
    void stopWorkersReplacesEveryWorkerInItsSlot() {
        Harness h = new Harness(GRACE, 2);
        h.tick(0);
        List<Action> actions = h.command(4, new Event.StopWorkers());
        assertEquals(2, of(actions, Action.SignalGroup.class).stream().filter(g -> g.signal() == Master.SIGTERM).count());
        assertEquals(List.of(1, 2), of(actions, Action.Spawn.class).stream().map(Action.Spawn::slot).toList());
        assertEquals(List.of(1, 1), of(actions, Action.Spawn.class).stream().map(Action.Spawn::restarts).toList());
    }
}
