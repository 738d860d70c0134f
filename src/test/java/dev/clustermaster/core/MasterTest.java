package dev.clustermaster.core;

import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.clustermaster.core.Harness.notifications;
import static dev.clustermaster.core.Harness.of;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
        assertEquals(Phase.STARTING, h.snapshot().phase());
    }

    @Test
    void graceModeAnnouncesReadyOnceWhenAllSlotsServe() {
        Harness h = new Harness(GRACE, 2);
        h.tick(0);
        assertFalse(notifications(h.tick(999)).contains(new Notice.Ready()));
        List<Notice> n = notifications(h.tick(1));
        assertTrue(n.contains(new Notice.Ready()), n.toString());
        assertTrue(n.contains(new Notice.Status("2/2 ready")), n.toString());
        assertFalse(notifications(h.tick(1_000)).contains(new Notice.Ready()), "READY=1 is sent once");
        assertEquals(Phase.RUNNING, h.snapshot().phase());
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
        assertEquals(Signal.TERM, term.signal());
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
        assertTrue(actions.contains(new Action.SignalGroup(victim, pid, Signal.KILL)), "stragglers of the group die");
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
        assertTrue(notifications(start).contains(new Notice.Reloading(NOTIFY.restartBudgetMillis(2))), start.toString());
        List<Action.Spawn> spawns = of(start, Action.Spawn.class);
        assertEquals(1, spawns.size(), "surge 1: one slot at a time");
        assertEquals(1, spawns.get(0).slot());
        assertEquals(1, spawns.get(0).restarts());
        assertTrue(of(start, Action.SignalGroup.class).isEmpty(), "old worker keeps serving until the new one is ready");
        assertEquals(Phase.RESTARTING, h.snapshot().phase());

        List<Action> ready1 = h.send(new Event.Ready(spawns.get(0).workerId()));
        assertEquals(old1, of(ready1, Action.SignalGroup.class).get(0).workerId(), "old slot-1 worker stopped");
        List<Action.Spawn> next = of(ready1, Action.Spawn.class);
        assertEquals(2, next.get(0).slot(), "then slot 2");
        h.obeySignals(ready1);

        List<Action> ready2 = h.send(new Event.Ready(next.get(0).workerId()));
        assertEquals(old2, of(ready2, Action.SignalGroup.class).get(0).workerId());
        assertTrue(ready2.contains(new Action.Reply(7, true, "restarted 2 workers")));
        assertTrue(notifications(ready2).contains(new Notice.Ready()), "systemd hears the reload is over");
        h.obeySignals(ready2);
        assertEquals(2, h.snapshot().readyCount());
        assertEquals(Phase.RUNNING, h.snapshot().phase());
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
        assertTrue(of(failure, Action.SignalGroup.class).stream().noneMatch(s -> s.workerId() == old1 && s.signal() == Signal.TERM));
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
            h.obeySignals(h.send(new Event.SignalReceived(Signal.HUP)));
            h.now += 20;
        }
        for (int i = 0; i < 20 && h.snapshot().phase() != Phase.RUNNING; i++) {
            int before = h.all.size();
            h.readyAll();
            h.obeySignals(List.copyOf(h.all.subList(before, h.all.size())));
            h.obeySignals(h.tick(10));
        }
        ClusterSnapshot s = h.snapshot();
        assertEquals(Phase.RUNNING, s.phase());
        assertEquals(3, s.workers().size(), s.workers().toString());
        assertEquals(3, s.readyCount());
        assertEquals(List.of(1, 2, 3), s.workers().stream().map(WorkerView::slot).toList());
        long passes = notifications(h.all).stream().filter(n -> n instanceof Notice.Reloading).count();
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
        List<Long> stopped = of(shrink, Action.SignalGroup.class).stream().filter(g -> g.signal() == Signal.TERM)
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
        assertEquals(3, of(h.send(new Event.SignalReceived(Signal.TTIN)), Action.Spawn.class).get(0).slot());
        assertEquals(3, h.master.desiredSize());
        h.send(new Event.SignalReceived(Signal.TTOU));
        h.send(new Event.SignalReceived(Signal.TTOU));
        assertEquals(1, h.master.desiredSize());
        List<Action> last = h.send(new Event.SignalReceived(Signal.TTOU));
        assertEquals(1, h.master.desiredSize(), "stray TTOUs never stop the last worker");
        assertTrue(of(last, Action.Log.class).stream().anyMatch(l -> l.message().startsWith("SIGTTOU ignored")), "" + last);
        assertEquals(0, of(h.command(1, new Event.Resize(0)), Action.Reply.class).stream().filter(r -> !r.ok()).count(),
                "an explicit resize(0) still may");
        assertEquals(0, h.master.desiredSize());
    }

    @Test
    void aReloadKeepsARuntimeSizeUnlessItCarriesASize() {
        Harness h = new Harness(GRACE, 2);
        h.tick(0);
        h.send(new Event.SignalReceived(Signal.TTIN));
        h.command(1, new Event.Resize(4));
        assertEquals(4, h.master.desiredSize());
        h.command(2, new Event.Reload(GRACE, java.util.OptionalInt.empty()));
        assertEquals(4, h.master.desiredSize(), "the config's size did not change: the operator's resize stays");
        h.command(3, new Event.Reload(GRACE, java.util.OptionalInt.of(2)));
        assertEquals(2, h.master.desiredSize(), "the config's size changed: it applies");
        Action.Reply bad = of(h.command(4, new Event.Reload(GRACE, java.util.OptionalInt.of(65))), Action.Reply.class).get(0);
        assertFalse(bad.ok());
        assertEquals(2, h.master.desiredSize());
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
        List<Action> quit = h.send(new Event.SignalReceived(Signal.TERM));
        assertTrue(notifications(quit).contains(new Notice.Stopping(5_000 + 5_000)), quit.toString());
        assertEquals(2, of(quit, Action.SignalGroup.class).stream().filter(s -> s.signal() == Signal.TERM).count());
        h.exit(h.workerInSlot(1), 0);                       // one drains in time
        List<Action> late = h.tick(5_000);
        List<Action.SignalGroup> kills = of(late, Action.SignalGroup.class);
        assertEquals(1, kills.size());
        assertEquals(Signal.KILL, kills.get(0).signal());
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
        h.send(new Event.SignalReceived(Signal.TERM));
        List<Action.SignalGroup> kills = new java.util.ArrayList<>();
        for (int i = 0; i < 10; i++) {
            kills.addAll(of(h.tick(5_000), Action.SignalGroup.class));
        }
        assertEquals(2, kills.size(), "one SIGKILL per worker past the stop deadline: " + kills);
        assertTrue(kills.stream().allMatch(k -> k.signal() == Signal.KILL));

        h.send(new Event.SignalReceived(Signal.INT));            // hard quit on top: nothing new to kill
        for (int i = 0; i < 10; i++) {
            assertTrue(of(h.tick(1_000), Action.SignalGroup.class).isEmpty(), "tick " + i + " after hard quit");
        }
    }

    @Test
    void hardQuitKillsOnceAndNeverAgain() {
        Harness h = new Harness(GRACE, 2);
        h.tick(0);
        h.send(new Event.SignalReceived(Signal.INT));
        assertEquals(2, of(h.send(new Event.SignalReceived(Signal.INT)), Action.SignalGroup.class).size());
        for (int i = 0; i < 10; i++) {
            assertTrue(of(h.tick(1_000), Action.SignalGroup.class).isEmpty(), "tick " + i + " after hard quit");
        }
    }

    @Test
    void aQuitOnlyEscalatesAndOtherRequestsAreRefusedMeanwhile() {
        Harness h = new Harness(GRACE, 2);
        h.tick(0);
        List<Action> hard = h.command(1, new Event.QuitHard());
        assertEquals(List.of(new Action.Reply(1, true, "killing 2 workers")), of(hard, Action.Reply.class));
        List<Action> graceful = h.command(2, new Event.Quit());
        assertTrue(of(graceful, Action.SignalGroup.class).isEmpty(), "a graceful quit does not undo the hard one: " + graceful);
        assertEquals(List.of(new Action.Reply(3, false, "the master is stopping")),
                of(h.command(3, new Event.Resize(1)), Action.Reply.class));
        assertEquals(List.of(new Action.Reply(4, false, "the master is stopping")),
                of(h.command(4, new Event.SignalWorkers(null, Signal.USR1)), Action.Reply.class));
        h.obeySignals(hard);
        assertTrue(h.all.contains(new Action.ExitMaster(1)), "a hard quit exits 1 even after a graceful one was asked");
    }

    @Test
    void signalsTheMasterDoesNotActOnAreIgnored() {
        Harness h = new Harness(GRACE, 2);
        h.tick(0);
        List<Action> usr1 = h.send(new Event.SignalReceived(Signal.USR1));
        assertEquals(List.of(new Action.Log(Action.Level.DEBUG, "signal USR1 ignored")), usr1);
        assertEquals(2, h.snapshot().desiredSize());
    }

    @Test
    void secondInterruptQuitsHardWithExitOne() {
        Harness h = new Harness(GRACE, 2);
        h.tick(0);
        h.send(new Event.SignalReceived(Signal.INT));
        List<Action> hard = h.send(new Event.SignalReceived(Signal.INT));
        assertEquals(2, of(hard, Action.SignalGroup.class).stream().filter(s -> s.signal() == Signal.KILL).count());
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
        assertTrue(spawned.contains(new Action.SignalGroup(id, 4242, Signal.TERM)));
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
        List<Action> one = h.command(5, new Event.SignalWorkers(2, Signal.USR1));
        assertEquals(List.of(h.workerInSlot(2)), of(one, Action.SignalGroup.class).stream().map(Action.SignalGroup::workerId).toList());
        assertTrue(one.contains(new Action.Reply(5, true, "sent SIGUSR1 to 1 worker")));
        assertEquals(3, of(h.command(6, new Event.SignalWorkers(null, Signal.USR1)), Action.SignalGroup.class).size());
        assertFalse(of(h.command(7, new Event.SignalWorkers(9, Signal.USR1)), Action.Reply.class).get(0).ok());
    }

    @Test
    void everyStopSignalIsFollowedByAContinueSoAStoppedWorkerActsOnIt() {
        Harness h = new Harness(GRACE, 2);
        h.tick(0);
        List<Action> stop = h.command(5, new Event.StopWorkers());
        for (Action.SignalGroup term : of(stop, Action.SignalGroup.class)) {
            if (term.signal() == Signal.TERM) {
                List<Action> after = stop.subList(stop.indexOf(term) + 1, stop.size());
                assertTrue(after.contains(new Action.SignalGroup(term.workerId(), term.pid(), Signal.CONT)),
                        "SIGCONT after " + term + " in " + stop);
            }
        }
        assertEquals(2, of(stop, Action.SignalGroup.class).stream().filter(g -> g.signal() == Signal.CONT).count());
    }

    @Test
    void stopWorkersReplacesEveryWorkerInItsSlot() {
        Harness h = new Harness(GRACE, 2);
        h.tick(0);
        List<Action> actions = h.command(4, new Event.StopWorkers());
        assertEquals(2, of(actions, Action.SignalGroup.class).stream().filter(g -> g.signal() == Signal.TERM).count());
        assertEquals(List.of(1, 2), of(actions, Action.Spawn.class).stream().map(Action.Spawn::slot).toList());
        assertEquals(List.of(1, 1), of(actions, Action.Spawn.class).stream().map(Action.Spawn::restarts).toList());
    }

    /** Signals sent to groups, without the SIGCONT that follows every stop signal. */
    private static List<Action.SignalGroup> stops(List<Action> actions) {
        return of(actions, Action.SignalGroup.class).stream().filter(s -> s.signal() != Signal.CONT).toList();
    }

    // ---- probation ------------------------------------------------------------------------------------------------

    @Test
    void aReplacementOnProbationKeepsTheOldWorkerServingUntilTheWindowEnds() {
        Harness h = new Harness(NOTIFY.withProbation(5_000), 2);
        h.tick(0);
        h.readyAll();
        long old1 = h.workerInSlot(1);
        Action.Spawn fresh = of(h.command(7, new Event.Restart()), Action.Spawn.class).get(0);
        List<Action> ready = h.send(new Event.Ready(fresh.workerId()));
        assertTrue(of(ready, Action.SignalGroup.class).isEmpty(), "old worker serves during probation");
        assertTrue(of(ready, Action.Spawn.class).isEmpty(), "the restart waits for probation");
        assertEquals("probation", h.snapshot().workers().stream().filter(w -> w.workerId() == fresh.workerId())
                .findFirst().orElseThrow().note());
        assertTrue(of(h.tick(4_999), Action.SignalGroup.class).isEmpty());
        List<Action> passed = h.tick(1);
        assertEquals(List.of(old1), stops(passed).stream().map(Action.SignalGroup::workerId).toList());
        assertEquals(List.of(2), of(passed, Action.Spawn.class).stream().map(Action.Spawn::slot).toList(), "then slot 2");
    }

    @Test
    void aDeathInsideProbationAbortsTheRestartWithOldWorkersServing() {
        Harness h = new Harness(NOTIFY.withProbation(5_000), 3);
        h.tick(0);
        h.readyAll();
        List<Long> old = List.of(h.workerInSlot(1), h.workerInSlot(2), h.workerInSlot(3));
        // slot 1 is replaced by a good build
        Action.Spawn new1 = of(h.command(7, new Event.Restart()), Action.Spawn.class).get(0);
        h.send(new Event.Ready(new1.workerId()));
        List<Action> passed = h.tick(5_000);
        h.obeySignals(passed);
        Action.Spawn new2 = of(passed, Action.Spawn.class).get(0);
        // slot 2's new worker dies 1.5 s after READY
        h.send(new Event.Ready(new2.workerId()));
        h.tick(1_500);
        List<Action> died = h.exit(new2.workerId(), 1);
        Action.Reply reply = of(died, Action.Reply.class).get(0);
        assertFalse(reply.ok());
        assertEquals(7, reply.requestId());
        assertTrue(reply.message().contains("died 1500 ms after READY, within its probation of 5000 ms"), reply.message());
        assertTrue(of(died, Action.SignalGroup.class).stream().noneMatch(s -> s.signal() == Signal.TERM), "nobody is stopped");
        assertTrue(of(died, Action.Spawn.class).isEmpty(), "slot 2's old worker still holds it");
        assertTrue(of(h.tick(30_000), Action.SignalGroup.class).isEmpty());
        List<Long> serving = h.snapshot().workers().stream().map(WorkerView::workerId).toList();
        assertEquals(List.of(new1.workerId(), old.get(1), old.get(2)), serving);
        assertEquals(Phase.RUNNING, h.snapshot().phase());
        assertTrue(h.snapshot().workers().stream().allMatch(w -> w.note().isEmpty()), h.snapshot().workers().toString());
    }

    // ---- operator actions -------------------------------------------------------------------------------------------

    @Test
    void workersKilledByTheOperatorAreNotCrashes() {
        Harness h = new Harness(GRACE, 2);
        h.tick(0);
        h.tick(1_000);
        for (int round = 0; round < 3; round++) {
            h.command(10 + round, new Event.SignalWorkers(null, Signal.KILL));
            for (int slot = 1; slot <= 2; slot++) {
                long id = h.workerInSlot(slot);
                h.running.remove(id);
                List<Action> exit = h.send(new Event.Exited(id, new WorkerExit.Killed(Signal.KILL, false)));
                assertEquals(1, of(exit, Action.Spawn.class).size(), "restarted at once, round " + round);
                assertTrue(of(exit, Action.Log.class).stream().anyMatch(l -> l.level() == Action.Level.INFO
                        && l.message().contains("exited after the operator's SIGKILL")), exit.toString());
            }
            h.tick(100);
        }
        assertTrue(h.snapshot().failingSlots().isEmpty());
        assertTrue(h.all.stream().noneMatch(a -> a instanceof Action.Log l && l.level() == Action.Level.ERROR));
        // a real crash later still counts
        h.tick(1_000);
        h.tick(20_000);
        List<Action> crash = h.exit(h.workerInSlot(1), 1);
        assertTrue(of(crash, Action.Log.class).stream().anyMatch(l -> l.level() == Action.Level.WARN && l.message().contains("died: exit 1")));
    }

    // ---- stop signal ----------------------------------------------------------------------------------------------

    @Test
    void theStopSignalIsUsedForResizeRestartAndQuitThenKill() {
        Harness h = new Harness(NOTIFY.withStopSignal(Signal.QUIT), 2);
        h.tick(0);
        h.readyAll();
        List<Action> shrink = h.command(1, new Event.Resize(1));
        assertEquals(List.of(Signal.QUIT), stops(shrink).stream().map(Action.SignalGroup::signal).toList());
        h.exit(h.workerInSlot(2), 0);
        Action.Spawn fresh = of(h.command(2, new Event.Restart()), Action.Spawn.class).get(0);
        List<Action> ready = h.send(new Event.Ready(fresh.workerId()));
        assertEquals(List.of(Signal.QUIT), stops(ready).stream().map(Action.SignalGroup::signal).toList());
        List<Action> quit = h.command(3, new Event.Quit());
        assertTrue(stops(quit).stream().allMatch(s -> s.signal() == Signal.QUIT), quit.toString());
        List<Action> late = h.tick(5_000);
        assertTrue(of(late, Action.SignalGroup.class).stream().allMatch(s -> s.signal() == Signal.KILL), late.toString());
        assertFalse(of(late, Action.SignalGroup.class).isEmpty());
    }

    // ---- crash-loop hand-off ------------------------------------------------------------------------------------

    static final Policy LOOP = GRACE.withCrashLoop(new Policy.CrashLoop(3, 60_000));

    /** Crashes the worker of each slot until the backoff lets it restart, n rounds. */
    private static void crashAll(Harness h, int rounds, int... slots) {
        for (int r = 0; r < rounds; r++) {
            for (int slot : slots) {
                h.exit(h.workerInSlot(slot), 3);
            }
            h.tick(4_000);
        }
    }

    @Test
    void oneFlakySlotNeverBringsTheServiceDown() {
        Harness h = new Harness(LOOP, 2);
        h.tick(0);
        h.tick(1_000);
        crashAll(h, 20, 1);
        assertEquals(List.of(1), h.snapshot().failingSlots());
        assertTrue(h.all.stream().noneMatch(a -> a instanceof Action.ExitMaster));
        assertNotEquals(Phase.STOPPING, h.snapshot().phase());
    }

    @Test
    void everySlotCrashLoopingMakesTheMasterExitWithSixtyNine() {
        Harness h = new Harness(LOOP, 2);
        h.tick(0);
        crashAll(h, 2, 1, 2);
        assertTrue(h.all.stream().noneMatch(a -> a instanceof Action.ExitMaster), "2 failures are below the limit of 3");
        h.exit(h.workerInSlot(1), 3);
        assertTrue(h.all.stream().noneMatch(a -> a instanceof Action.ExitMaster), "slot 2 is not looping yet");
        List<Action> last = h.exit(h.workerInSlot(2), 3);
        assertTrue(of(last, Action.Log.class).stream().anyMatch(l -> l.level() == Action.Level.ERROR
                && l.message().startsWith("crash loop: every slot (1..2) failed 3 times in a row")), last.toString());
        assertEquals(Phase.STOPPING, h.snapshot().phase());
        h.obeySignals(last);
        h.obeySignals(h.tick(5_000));
        assertTrue(h.all.contains(new Action.ExitMaster(Policy.CrashLoop.EXIT_CODE)), h.all.toString());
    }

    @Test
    void slowFailuresOutsideTheWindowDoNotGiveUp() {
        Harness h = new Harness(GRACE.withCrashLoop(new Policy.CrashLoop(3, 10_000)), 1);
        h.tick(0);
        for (int i = 0; i < 6; i++) {
            h.exit(h.workerInSlot(1), 3);
            h.tick(6_000);                                // 6 s apart: 3 failures never fit in 10 s
        }
        assertTrue(h.all.stream().noneMatch(a -> a instanceof Action.ExitMaster));
        assertEquals(1, h.snapshot().workers().size());
    }

    // ---- watchdog -------------------------------------------------------------------------------------------------

    @Test
    void aHungWorkerGetsADumpThenTheStopSignalThenKillAndIsReplacedAtOnce() {
        Harness h = new Harness(NOTIFY.withWatchdog(3_000, Signal.QUIT), 2);
        h.tick(0);
        h.readyAll();
        long hung = h.workerInSlot(1);
        int pid = h.running.get(hung);
        assertTrue(of(h.tick(60_000), Action.SignalGroup.class).isEmpty(), "no WATCHDOG=1 yet: not watched");
        h.send(new Event.WatchdogPing(hung));
        h.tick(2_000);
        assertTrue(of(h.tick(999), Action.SignalProcess.class).isEmpty());
        List<Action> expiry = h.tick(1);
        assertEquals(List.of(new Action.SignalProcess(hung, pid, Signal.QUIT)), of(expiry, Action.SignalProcess.class));
        assertTrue(of(expiry, Action.SignalGroup.class).isEmpty(), "the dump gets time before the stop signal");
        assertEquals(h.now + 1_000, h.master.nextDeadline().getAsLong(), "the loop wakes for the stop signal, not before");
        assertEquals(List.of(1), of(expiry, Action.Spawn.class).stream().map(Action.Spawn::slot).toList(), "replacement at once");
        h.send(new Event.Ready(of(expiry, Action.Spawn.class).get(0).workerId()));
        assertTrue(of(expiry, Action.Log.class).stream().anyMatch(l -> l.level() == Action.Level.ERROR
                && l.message().contains("hung: no WATCHDOG=1 for 3000 ms")), expiry.toString());
        assertEquals(List.of(new Action.SignalGroup(hung, pid, Signal.TERM)), stops(h.tick(1_000)));
        assertEquals(List.of(new Action.SignalGroup(hung, pid, Signal.KILL)), of(h.tick(5_000), Action.SignalGroup.class));
        assertTrue(of(h.exit(hung, -1), Action.Spawn.class).isEmpty(), "already replaced");
        assertEquals(2, h.snapshot().workers().size());
    }

    // ---- recycling ------------------------------------------------------------------------------------------------

    @Test
    void aWorkerAskingToBeRecycledIsReplacedNewOneReadyFirst() {
        Harness h = new Harness(NOTIFY, 2);
        h.tick(0);
        h.readyAll();
        long old = h.workerInSlot(2);
        List<Action> asked = h.send(new Event.RecycleRequested(old));
        Action.Spawn fresh = of(asked, Action.Spawn.class).get(0);
        assertEquals(2, fresh.slot());
        assertTrue(of(asked, Action.SignalGroup.class).isEmpty(), "the old one serves until the new one is ready");
        assertEquals("recycling: request", h.snapshot().workers().stream().filter(w -> w.workerId() == old).findFirst().orElseThrow().note());
        List<Action> ready = h.send(new Event.Ready(fresh.workerId()));
        assertEquals(List.of(old), stops(ready).stream().map(Action.SignalGroup::workerId).toList());
        h.obeySignals(ready);
        assertEquals(1L, h.snapshot().recycled().get(RecycleReason.REQUEST));
        assertTrue(h.snapshot().failingSlots().isEmpty());
        assertTrue(of(h.tick(60_000), Action.Spawn.class).isEmpty(), "once");
    }

    @Test
    void aWorkerAboveMaxRssIsRecycled() {
        Harness h = new Harness(NOTIFY.withRecycling(new Policy.Recycling(100L << 20, 0, 5_000)), 2);
        h.tick(0);
        h.readyAll();
        assertEquals(1, of(h.all, Action.SampleUsage.class).size(), "sampled once at the start");
        assertTrue(of(h.tick(4_999), Action.SampleUsage.class).isEmpty());
        assertEquals(1, of(h.tick(1), Action.SampleUsage.class).size(), "then every 5 s");
        h.send(new Event.Usage(h.workerInSlot(1), 50L << 20));
        List<Action> big = h.send(new Event.Usage(h.workerInSlot(2), 200L << 20));
        assertEquals(List.of(2), of(big, Action.Spawn.class).stream().map(Action.Spawn::slot).toList());
        assertTrue(of(big, Action.Log.class).stream().anyMatch(l -> l.message().contains("rss 200 MiB above the limit of 100 MiB")));
        h.obeySignals(h.send(new Event.Ready(of(big, Action.Spawn.class).get(0).workerId())));
        assertEquals(1L, h.snapshot().recycled().get(RecycleReason.RSS));
    }

    @Test
    void oldWorkersAreRecycledOneAtATimeWithJitter() {
        Harness h = new Harness(NOTIFY.withRecycling(new Policy.Recycling(0, 60_000, 5_000)), 3);
        h.tick(0);
        h.readyAll();
        assertTrue(of(h.tick(59_999), Action.Spawn.class).isEmpty());
        int recycled = 0;
        for (int i = 0; i < 80; i++) {                         // 8 s in 100 ms steps: past 60 s + the 6 s jitter
            List<Action> step = h.tick(100);
            List<Action.Spawn> spawns = of(step, Action.Spawn.class);
            assertTrue(spawns.size() <= 1, "one at a time");
            for (Action.Spawn s : spawns) {
                assertEquals(1, h.snapshot().workers().stream().filter(w -> w.note().startsWith("recycling: age")).count());
                h.obeySignals(h.send(new Event.Ready(s.workerId())));
                recycled++;
            }
        }
        assertEquals(3, recycled);
        assertEquals(3L, h.snapshot().recycled().get(RecycleReason.AGE));
        long distinct = java.util.stream.LongStream.rangeClosed(1, 3).map(id -> Master.jitter(id, 6_000)).distinct().count();
        assertEquals(3, distinct, "each worker gets its own jitter");
    }

    @Test
    void aFailedRecycleKeepsTheOldWorkerAndBacksOff() {
        Harness h = new Harness(NOTIFY, 1);
        h.tick(0);
        h.readyAll();
        long old = h.workerInSlot(1);
        Action.Spawn fresh = of(h.send(new Event.RecycleRequested(old)), Action.Spawn.class).get(0);
        List<Action> failed = h.exit(fresh.workerId(), 1);
        assertTrue(of(failed, Action.SignalGroup.class).stream().noneMatch(s -> s.workerId() == old && s.signal() == Signal.TERM));
        assertTrue(of(failed, Action.Log.class).stream().anyMatch(l -> l.message().contains("recycling failed, the old worker keeps serving")));
        assertEquals(List.of(old), h.snapshot().workers().stream().map(WorkerView::workerId).toList());
        assertEquals("", h.snapshot().workers().get(0).note());
        assertTrue(of(h.tick(60_000), Action.Spawn.class).isEmpty(), "a request is not retried after a failure");
    }

    @Test
    void workerStatusIsShown() {
        Harness h = new Harness(NOTIFY, 1);
        h.tick(0);
        h.send(new Event.WorkerStatus(h.workerInSlot(1), "42 requests"));
        assertEquals("42 requests", h.snapshot().workers().get(0).status());
    }

    @Test
    void supervisionDeadlinesAreReportedSoTheLoopWakesForThem() {
        Harness h = new Harness(NOTIFY.withProbation(5_000).withWatchdog(3_000, Signal.QUIT), 1);
        h.tick(0);
        h.readyAll();
        assertEquals(Long.MAX_VALUE, h.master.nextSupervisionDeadline(), "nothing to wait for");
        long old = h.workerInSlot(1);
        h.send(new Event.WatchdogPing(old));
        assertEquals(3_000, h.master.nextSupervisionDeadline());
        h.tick(1_000);
        Action.Spawn fresh = of(h.command(1, new Event.Restart()), Action.Spawn.class).get(0);
        h.send(new Event.Ready(fresh.workerId()));
        assertEquals(3_000, h.master.nextSupervisionDeadline(), "the watchdog comes before probation's end at 6000");
        h.send(new Event.WatchdogPing(old));
        assertEquals(4_000, h.master.nextSupervisionDeadline());
        h.tick(2_000);
        h.send(new Event.WatchdogPing(old));
        assertEquals(6_000, h.master.nextSupervisionDeadline(), "now probation ends first");
        assertEquals(6_000, h.master.nextDeadline().getAsLong(), "and the loop wakes for it");
    }
}
