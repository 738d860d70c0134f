package dev.clustermaster.core;

import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.clustermaster.core.Harness.of;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Warm spares (spare=N): started and held, promoted into a slot when a worker dies or a restart needs one. */
class SpareTest {

    static final Policy NOTIFY = new Policy(true, 1_000, 3_000, 5_000, 1, new Backoff(500, 4_000), 10_000).withSpares(1);

    /** Two serving workers and a warm spare; returns the spare's id. */
    private static long warm(Harness h) {
        List<Action> start = h.tick(0);
        List<Action.Spawn> spawns = of(start, Action.Spawn.class);
        assertEquals(List.of(1, 2, 0), spawns.stream().map(Action.Spawn::slot).toList(), "two slots and one spare (slot 0)");
        assertTrue(spawns.get(2).spare());
        h.readyAll();
        List<Long> held = h.holdSpares();
        assertEquals(1, held.size());
        assertEquals(2, h.snapshot().readyCount(), "a warm spare serves no slot");
        assertEquals("spare", h.snapshot().workers().stream().filter(w -> w.slot() == 0).findFirst().orElseThrow().note());
        return held.get(0);
    }

    @Test
    void aRestartsTimeBoundDoesNotCountOnSpares() {
        Policy plain = new Policy(true, 1_000, 3_000, 5_000, 1, new Backoff(500, 4_000), 10_000);
        assertEquals(plain.restartBudgetMillis(4), NOTIFY.restartBudgetMillis(4),
                "a stale spare is replaced first and a fresh one may not be warm: spares must not shorten the bound");
        assertEquals(4 * (3_000 + 5_000) + 5_000 + 10_000, NOTIFY.restartBudgetMillis(4), "4 rounds of (ready timeout + 5 s), then the stop timeout + 10 s");
    }

    @Test
    void aDeadWorkersSlotGoesToTheSpareAtOnceAndANewSpareStarts() {
        Harness h = new Harness(NOTIFY, 2);
        long spare = warm(h);
        long dead = h.workerInSlot(2);
        int restartsBefore = h.snapshot().workers().stream().filter(w -> w.workerId() == dead).findFirst().orElseThrow().restarts();

        List<Action> died = h.exit(dead, 1);
        List<Action.Promote> promoted = of(died, Action.Promote.class);
        assertEquals(1, promoted.size(), "promoted in the same event as the death: " + died);
        assertEquals(spare, promoted.get(0).workerId());
        assertEquals(2, promoted.get(0).slot(), "the spare takes the dead worker's slot (its CM_CHILD_ID)");
        assertEquals(restartsBefore + 1, promoted.get(0).restarts(), "and the slot's next restart count");
        assertTrue(of(died, Action.Spawn.class).isEmpty(), "no new worker for slot 2, and no JVM starting beside the "
                + "promoted spare until it accepts: " + died);
        assertEquals(2, h.snapshot().readyCount(), "slot 2 serves again without waiting for a start");
        assertEquals(List.of(), h.snapshot().failingSlots());

        List<Action> accepts = h.send(new Event.Ready(spare));
        List<Action.Spawn> spawns = of(accepts, Action.Spawn.class);
        assertEquals(List.of(0), spawns.stream().map(Action.Spawn::slot).toList(),
                "the promoted spare said READY=1 (it accepts): a new spare starts: " + accepts);
    }

    @Test
    void withoutReadyFromThePromotedSpareTheNextSpareStartsASecondLater() {
        Harness h = new Harness(NOTIFY, 2);
        warm(h);
        h.exit(h.workerInSlot(1), 1);
        assertTrue(of(h.tick(Master.PROMOTION_SETTLE_MILLIS - 1), Action.Spawn.class).isEmpty());
        assertEquals(List.of(0), of(h.tick(1), Action.Spawn.class).stream().map(Action.Spawn::slot).toList(),
                "an app that never says READY after its hold gets its next spare " + Master.PROMOTION_SETTLE_MILLIS + " ms later");
    }

    @Test
    void thePromotionGoesBeforeTheDeadWorkersGroupKill() {
        Harness h = new Harness(NOTIFY, 2);
        long spare = warm(h);
        long dead = h.workerInSlot(1);
        List<Action> died = h.exit(dead, 1);
        int promote = indexOf(died, a -> a instanceof Action.Promote p && p.workerId() == spare);
        int kill = indexOf(died, a -> a instanceof Action.SignalGroup g && g.workerId() == dead && g.signal() == Signal.KILL);
        assertTrue(promote >= 0 && kill >= 0, "a promotion and the dead worker's group kill: " + died);
        assertTrue(promote < kill, "the slot's connections wait only for the promotion, not for the cleanup: " + died);
        int spawn = indexOf(died, a -> a instanceof Action.Spawn);
        assertTrue(spawn < 0 || kill < spawn, "the group kill still precedes any new process (whose pid could be the dead one's): " + died);
    }

    @Test
    void aSecondCrashWithinTheBackoffIsServedByAWarmSpareAtOnceAndTheNextSpareWaits() {
        Harness h = new Harness(NOTIFY, 2);
        long first = warm(h);
        h.exit(h.workerInSlot(2), 1);
        h.send(new Event.Ready(first));  // it accepts: the next spare starts
        long second = h.holdSpares().get(0);
        h.now += 100;  // the promoted spare dies soon: the slot's second failure in a row, backoff 500 ms

        List<Action> again = h.exit(first, 1);
        List<Action.Promote> promoted = of(again, Action.Promote.class);
        assertEquals(1, promoted.size(), "the warm spare serves the slot at once, backoff or not: " + again);
        assertEquals(second, promoted.get(0).workerId());
        assertEquals(2, promoted.get(0).slot());
        assertTrue(of(again, Action.Spawn.class).isEmpty(), "but the next spare's start waits for the slot's backoff: " + again);
        assertEquals(2, h.snapshot().readyCount());
        assertTrue(of(h.send(new Event.Ready(second)), Action.Spawn.class).isEmpty(), "it accepts, but the backoff holds");
        assertTrue(of(h.tick(499), Action.Spawn.class).isEmpty(), "not before the backoff ends");
        assertEquals(List.of(0), of(h.tick(1), Action.Spawn.class).stream().map(Action.Spawn::slot).toList(),
                "a new spare once it ends");
    }

    @Test
    void aPromotedSpareThatDiesWithinItsSlotsBackoffHoldsTheNextSpareToTheNewBackoff() {
        Harness h = new Harness(NOTIFY, 2);
        long first = warm(h);
        h.exit(h.workerInSlot(2), 1);
        h.send(new Event.Ready(first));
        long second = h.holdSpares().get(0);
        h.now += 100;
        h.exit(first, 1);                              // slot 2's second failure: backoff 500 ms, the spare takes it
        h.send(new Event.Ready(second));
        h.now += 100;

        h.exit(second, 1);                             // its third, 100 ms later: backoff 1000 ms, no spare left
        List<Action> within = h.tick(999);
        assertTrue(of(within, Action.Spawn.class).isEmpty(), "no process starts within slot 2's new backoff, "
                + "not even a spare that would be warm and promoted into slot 2 before that backoff ends: " + within);
        assertEquals(List.of(2, 0), of(h.tick(1), Action.Spawn.class).stream().map(Action.Spawn::slot).toList());
    }

    @Test
    void aSpareHeldLongerThanTheHealthyUptimeThatDiesRightAfterItsPromotionIsNoHealthyRun() {
        Harness h = new Harness(NOTIFY, 2);
        long spare = warm(h);
        h.tick(60_000);                                // held a minute, far beyond healthy.uptime (10 s)
        h.exit(h.workerInSlot(2), 1);                  // served a minute: a healthy run, the spare takes slot 2
        h.send(new Event.Ready(spare));
        h.now += 5;

        List<Action> died = h.exit(spare, 1);          // served its slot 5 ms
        assertTrue(of(died, Action.Spawn.class).isEmpty(), "slot 2's second failure in a row: its backoff applies: " + died);
        assertEquals(List.of(2), h.snapshot().failingSlots());
        assertTrue(of(died, Action.Log.class).stream().anyMatch(l -> l.level() == Action.Level.ERROR
                && l.message().contains("slot 2 failed 2 times in a row, next start in 500 ms")), died.toString());
    }

    @Test
    void aCrashLogSaysWhenAWarmSpareTakesTheSlotAtOnce() {
        Harness h = new Harness(NOTIFY, 2);
        long first = warm(h);
        List<Action> once = h.exit(h.workerInSlot(2), 1);
        assertTrue(of(once, Action.Log.class).stream().anyMatch(l -> l.level() == Action.Level.WARN
                && l.message().endsWith("died: exit 1; a warm spare takes its slot")), once.toString());
        h.send(new Event.Ready(first));
        h.holdSpares();
        h.now += 100;

        List<Action> again = h.exit(first, 1);
        assertTrue(of(again, Action.Log.class).stream().anyMatch(l -> l.level() == Action.Level.ERROR
                && l.message().endsWith("slot 2 failed 2 times in a row; a warm spare takes it now, the next spare "
                + "starts in 500 ms at the earliest")), "not 'next start in 500 ms' followed by an instant promotion: " + again);
    }

    @Test
    void aWorkerPastItsReadyTimeoutGoesToAWarmSpareAndTheLogSaysSo() {
        Harness h = new Harness(NOTIFY, 2);
        warm(h);
        h.exit(h.workerInSlot(2), 1);                  // the spare takes slot 2
        h.exit(h.workerInSlot(1), 1);                  // no warm spare left: slot 1 starts a worker
        long slow = h.workerInSlot(1);
        h.tick(Master.PROMOTION_SETTLE_MILLIS);
        long spare = h.holdSpares().get(0);

        List<Action> late = h.tick(3_000 - Master.PROMOTION_SETTLE_MILLIS);  // slot 1's worker never said READY=1
        assertEquals(List.of(spare), of(late, Action.Promote.class).stream().map(Action.Promote::workerId).toList(), late.toString());
        assertTrue(of(late, Action.Log.class).stream().anyMatch(l -> l.message().startsWith("worker 1 (pid " + h.running.get(slow)
                + ") not ready after 3000 ms; slot 1 failed 2 times in a row; a warm spare takes it now")), late.toString());
    }

    private static int indexOf(List<Action> actions, java.util.function.Predicate<Action> p) {
        for (int i = 0; i < actions.size(); i++) {
            if (p.test(actions.get(i))) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void aStoppingSpareIsNotShownAsStarting() {
        Harness h = new Harness(NOTIFY, 2);
        long held = warm(h);
        h.command(1, new Event.Quit());
        WorkerView stopping = h.snapshot().workers().stream().filter(w -> w.workerId() == held).findFirst().orElseThrow();
        assertEquals(WorkerState.STOPPING, stopping.state(), "a quit stops the spare");
        assertEquals("spare", stopping.note(), "stopping, not starting");
    }

    @Test
    void aSpareStoppedBeforeItsPromotionIsToldOverIpcBeforeItsStopSignal() {
        Harness h = new Harness(NOTIFY, 2);
        long held = warm(h);
        List<Action> quit = h.command(1, new Event.Quit());
        List<Action.StopSpare> told = of(quit, Action.StopSpare.class);
        assertEquals(List.of(held), told.stream().map(Action.StopSpare::workerId).toList(),
                "only the held spare gets a STOP frame (its hold must end): " + quit);
        int frame = quit.indexOf(told.get(0));
        int signal = -1;
        for (int i = 0; i < quit.size(); i++) {
            if (quit.get(i) instanceof Action.SignalGroup s && s.workerId() == held && s.signal() == Signal.TERM) {
                signal = i;
            }
        }
        assertTrue(signal > frame, "the frame, then the stop signal: " + quit);
    }

    @Test
    void aPromotedSpareIsStoppedLikeAnyWorker() {
        Harness h = new Harness(NOTIFY, 2);
        long spare = warm(h);
        h.exit(h.workerInSlot(2), 1);
        List<Action> quit = h.command(1, new Event.Quit());
        assertTrue(of(quit, Action.StopSpare.class).stream().noneMatch(s -> s.workerId() == spare),
                "it serves slot 2 now, it is not held: " + quit);
    }

    @Test
    void neverTwoSpares() {
        Harness h = new Harness(NOTIFY, 2);
        warm(h);
        for (int i = 0; i < 3; i++) {
            h.exit(h.workerInSlot(1), 1);
            h.holdSpares();
            h.tick(2_500);  // past the slot's backoff (500, 1000, 2000 ms), within a new spare's ready timeout
            h.readyAll();
            long spares = h.snapshot().workers().stream().filter(w -> w.slot() == 0 && w.state() != WorkerState.STOPPING).count();
            assertEquals(1, spares, "one spare, round " + i + ": " + h.snapshot().workers());
        }
        assertEquals(2, h.snapshot().readyCount(), h.snapshot().workers() + " " + h.all);
    }

    @Test
    void aDeadSpareIsReplacedAfterItsBackoff() {
        Harness h = new Harness(NOTIFY, 2);
        long spare = warm(h);
        List<Action> first = h.exit(spare, 1);
        assertEquals(List.of(0), of(first, Action.Spawn.class).stream().map(Action.Spawn::slot).toList(), "first death: at once");
        long second = h.holdSpares().get(0);
        List<Action> again = h.exit(second, 1);
        assertTrue(of(again, Action.Spawn.class).isEmpty(), "second death in a row: the backoff applies");
        List<Action> later = h.tick(500);
        assertEquals(List.of(0), of(later, Action.Spawn.class).stream().map(Action.Spawn::slot).toList());
        assertTrue(of(later, Action.Promote.class).isEmpty());
    }

    @Test
    void aRollingRestartStopsTheStaleSpareAndStartsAFreshOneOnlyWhenItIsDone() {
        Harness h = new Harness(NOTIFY, 2);
        long stale = warm(h);
        long old1 = h.workerInSlot(1);
        int mark = h.all.size();

        List<Action> start = h.command(7, new Event.Restart());
        assertTrue(of(start, Action.SignalGroup.class).stream().anyMatch(s -> s.workerId() == stale && s.signal() == Signal.TERM),
                "the spare runs the code being replaced: stopped");
        assertEquals(List.of(1), of(start, Action.Spawn.class).stream().map(Action.Spawn::slot).toList(),
                "one slot at a time (surge 1), no fresh spare while the restart needs the CPU");
        h.obeySignals(start);
        for (int i = 0; i < 5 && !h.all.contains(new Action.Reply(7, true, "restarted 2 workers")); i++) {
            assertEquals(2, h.snapshot().readyCount(), "never fewer serving than size");
            assertTrue(of(h.all.subList(mark, h.all.size()), Action.Spawn.class).stream().noneMatch(Action.Spawn::spare),
                    "no spare during the restart");
            h.readyAll();
            h.obeySignals(List.copyOf(h.all));
        }
        assertTrue(h.all.contains(new Action.Reply(7, true, "restarted 2 workers")), h.all.toString());
        assertTrue(of(h.all, Action.Promote.class).isEmpty(), "no spare took a slot");
        assertTrue(!h.running.containsKey(old1), "the old worker of slot 1 was stopped");
        assertEquals(1, of(h.all.subList(mark, h.all.size()), Action.Spawn.class).stream().filter(Action.Spawn::spare).count(),
                "a fresh spare starts in the step that ends the restart");
        h.holdSpares();
        assertEquals(2, h.snapshot().readyCount());
        assertEquals(1, h.snapshot().workers().stream().filter(w -> w.slot() == 0 && w.state() == WorkerState.READY).count(),
                "and is warm");
    }

    @Test
    void aSpareThatSaysReadyBeforePromotionTurnsSparesOffUntilAReload() {
        Harness h = new Harness(NOTIFY, 2);
        h.tick(0);
        h.readyAll();
        long spare = h.running.keySet().stream().filter(id -> h.slotOf.get(id) == 0).findFirst().orElseThrow();
        List<Action> ready = h.send(new Event.Ready(spare));
        assertTrue(of(ready, Action.SignalGroup.class).stream().anyMatch(s -> s.workerId() == spare && s.signal() == Signal.TERM),
                "an unheld spare accepts as one worker too many: stopped");
        assertTrue(of(ready, Action.Log.class).stream().anyMatch(l -> l.level() == Action.Level.ERROR
                && l.message().contains("ClusterWorker.inheritedListener()")), ready.toString());
        h.obeySignals(ready);
        h.tick(5_000);
        assertEquals(0, h.snapshot().workers().stream().filter(w -> w.slot() == 0).count(), "no new spare");
        int mark = h.all.size();
        h.command(3, new Event.Reload(NOTIFY, java.util.OptionalInt.of(2)));
        for (int i = 0; i < 5 && !h.all.contains(new Action.Reply(3, true, "restarted 2 workers")); i++) {
            h.readyAll();
            h.obeySignals(List.copyOf(h.all));
        }
        assertTrue(of(h.all.subList(mark, h.all.size()), Action.Spawn.class).stream().anyMatch(Action.Spawn::spare),
                "a reload tries spares again (once its rolling restart is done): " + h.all.subList(mark, h.all.size()));
    }

    // ---- recycling (worker.max-rss, worker.max-age, RECYCLE=1): a warm spare runs the same code --------------------

    /** TERM signals to one worker's group (a stop), without the CONT after it. */
    private static boolean stopped(List<Action> actions, long workerId) {
        return of(actions, Action.SignalGroup.class).stream().anyMatch(g -> g.workerId() == workerId && g.signal() == Signal.TERM);
    }

    @Test
    void aRecycledWorkersSlotGoesToTheWarmSpareAndTheOldOneStopsOnceTheSpareAccepts() {
        Harness h = new Harness(NOTIFY, 2);
        long spare = warm(h);
        long old = h.workerInSlot(2);

        List<Action> asked = h.send(new Event.RecycleRequested(old));
        List<Action.Promote> promoted = of(asked, Action.Promote.class);
        assertEquals(1, promoted.size(), "the spare takes the slot at once, no start-up to wait for: " + asked);
        assertEquals(spare, promoted.get(0).workerId());
        assertEquals(2, promoted.get(0).slot());
        assertTrue(of(asked, Action.Spawn.class).isEmpty(), "no replacement JVM: " + asked);
        assertFalse(stopped(asked, old), "the old worker serves until the spare accepts: " + asked);
        assertEquals("recycling: request", h.snapshot().workers().stream().filter(w -> w.workerId() == old).findFirst().orElseThrow().note());

        List<Action> accepts = h.send(new Event.Ready(spare));
        assertTrue(stopped(accepts, old), "the promoted spare said READY=1: the old worker stops: " + accepts);
        assertEquals(List.of(0), of(accepts, Action.Spawn.class).stream().map(Action.Spawn::slot).toList(), "and a new spare starts");
        h.obeySignals(accepts);
        assertEquals(1L, h.snapshot().recycled().get(RecycleReason.REQUEST));
        assertEquals(2, h.snapshot().readyCount());
        assertEquals(List.of(), h.snapshot().failingSlots());
    }

    @Test
    void aRecycleWaitsForAStartingSpareInsteadOfStartingASecondJvm() {
        Harness h = new Harness(NOTIFY.withRecycling(new Policy.Recycling(0, 1_000, 5_000)), 1);
        List<Action.Spawn> started = of(h.tick(0), Action.Spawn.class);
        assertEquals(List.of(1, 0), started.stream().map(Action.Spawn::slot).toList());
        h.readyAll();
        long old = h.workerInSlot(1);
        long spare = started.get(1).workerId();
        // past max-age + jitter (1.1 s at most), the spare still starting (its ready timeout is 3 s): nothing yet
        // (the harness also checks that nextDeadline is not due at once: no busy loop while it waits)
        List<Action> due = h.tick(1_200);
        assertTrue(of(due, Action.Spawn.class).isEmpty() && of(due, Action.Promote.class).isEmpty(), "" + due);
        List<Action> held = h.send(new Event.Held(spare));
        assertEquals(List.of(spare), of(held, Action.Promote.class).stream().map(Action.Promote::workerId).toList(),
                "warm now: it takes the slot: " + held);
        assertTrue(stopped(h.send(new Event.Ready(spare)), old));
        assertEquals(1L, h.snapshot().recycled().get(RecycleReason.AGE));
    }

    @Test
    void aRecycleWaitingForASpareThatNeverHoldsStartsAFreshWorkerAtTheSparesReadyTimeout() {
        Harness h = new Harness(NOTIFY.withRecycling(new Policy.Recycling(0, 1_000, 5_000)), 1);
        h.tick(0);
        h.readyAll();
        long old = h.workerInSlot(1);
        assertTrue(h.tick(1_200).isEmpty(), "due, waiting for the starting spare");
        assertEquals(3_000, h.master.nextDeadline().getAsLong(), "the loop sleeps until the spare's ready timeout");
        List<Action> late = h.tick(1_800);
        List<Action.Spawn> fresh = of(late, Action.Spawn.class);
        assertEquals(List.of(1), fresh.stream().map(Action.Spawn::slot).toList(), "spares off, the recycle goes on: " + late);
        assertTrue(stopped(h.send(new Event.Ready(fresh.get(0).workerId())), old));
        assertEquals(1L, h.snapshot().recycled().get(RecycleReason.AGE));
    }

    @Test
    void aRecycleByASpareWaitsForProbationAndForAnAppThatNeverSaysReadyASettleTime() {
        Harness h = new Harness(NOTIFY.withProbation(5_000), 2);
        long spare = warm(h);
        long old = h.workerInSlot(1);
        h.send(new Event.RecycleRequested(old));
        assertFalse(stopped(h.tick(Master.PROMOTION_SETTLE_MILLIS - 1), old));
        List<Action> settled = h.tick(1);
        assertFalse(stopped(settled, old), "accepting now (no READY=1 came), but on probation first: " + settled);
        assertTrue(of(settled, Action.Log.class).stream().anyMatch(l -> l.message().contains("on probation for 5000 ms")), "" + settled);
        assertFalse(stopped(h.tick(4_999), old));
        List<Action> passed = h.tick(1);
        assertTrue(stopped(passed, old), "probation passed: the old worker stops: " + passed);
        h.obeySignals(passed);
        assertEquals(spare, h.workerInSlot(1), "slot 1 is the promoted spare's");
        assertEquals(1L, h.snapshot().recycled().get(RecycleReason.REQUEST));
    }

    @Test
    void aPromotedSpareThatDiesBeforeItAcceptsLeavesTheOldWorkerServing() {
        Harness h = new Harness(NOTIFY, 2);
        long spare = warm(h);
        long old = h.workerInSlot(2);
        h.send(new Event.RecycleRequested(old));
        List<Action> died = h.exit(spare, 1);
        assertFalse(stopped(died, old), "" + died);
        assertTrue(of(died, Action.Log.class).stream().anyMatch(l -> l.message().contains("recycling failed, the old worker keeps serving")), "" + died);
        assertEquals("", h.snapshot().workers().stream().filter(w -> w.workerId() == old).findFirst().orElseThrow().note(),
                "serving as before, not retiring");
        assertEquals(2, h.snapshot().readyCount());
    }

    @Test
    void aRestartDuringASpareRecycleReplacesTheStaleSpareWithoutLeavingTheSlotUnserved() {
        Harness h = new Harness(NOTIFY, 2);
        long spare = warm(h);
        long old = h.workerInSlot(1);
        h.send(new Event.RecycleRequested(old));                  // the spare serves slot 1 beside the old worker
        List<Action> restart = h.command(7, new Event.Restart());  // the spare runs the code being replaced
        long fresh = of(restart, Action.Spawn.class).get(0).workerId();
        assertEquals(1, h.slotOf.get(fresh));

        List<Action> accepts = h.send(new Event.Ready(spare));
        assertTrue(stopped(accepts, old), "the recycle is done: the old worker stops: " + accepts);
        assertFalse(stopped(accepts, spare), "but the spare serves slot 1 until the restart's worker is ready: " + accepts);
        assertEquals(2, h.snapshot().readyCount());
        h.obeySignals(accepts);
        assertTrue(stopped(h.send(new Event.Ready(fresh)), spare), "the restart replaces it then");
    }

    @Test
    void aFailedRestartDuringASpareRecycleKeepsOneWorkerPerSlot() {
        Harness h = new Harness(NOTIFY, 2);
        long spare = warm(h);
        long old = h.workerInSlot(1);
        h.send(new Event.RecycleRequested(old));
        long fresh = of(h.command(7, new Event.Restart()), Action.Spawn.class).get(0).workerId();
        List<Action> failed = h.exit(fresh, 1);                    // the restart fails: the spare serves on, as before it
        assertTrue(of(failed, Action.Spawn.class).isEmpty(), "slot 1 is served (by the spare, the old worker beside it): " + failed);

        List<Action> accepts = h.send(new Event.Ready(spare));
        assertTrue(stopped(accepts, old), "the recycle completes: " + accepts);
        h.obeySignals(accepts);
        h.tick(60_000);
        h.readyAll();
        h.holdSpares();
        assertEquals(List.of(spare), h.running.keySet().stream().filter(id -> h.slotOf.get(id) == 1).toList(),
                "slot 1 is the spare's alone, not also a new worker's beside a forgotten 'being replaced' one: "
                        + h.snapshot().workers());
        assertEquals("", h.snapshot().workers().stream().filter(w -> w.workerId() == spare).findFirst().orElseThrow().note());
    }

    @Test
    void aSpareRecycleThatFailsWhileARestartReplacesTheSpareStillEndsWithOneWorkerPerSlot() {
        Harness h = new Harness(NOTIFY, 2);
        long spare = warm(h);
        long old = h.workerInSlot(1);
        h.send(new Event.RecycleRequested(old));
        long fresh = of(h.command(7, new Event.Restart()), Action.Spawn.class).get(0).workerId();
        h.exit(spare, 1);                                          // the recycle fails: the old worker serves on

        List<Action> ready = h.send(new Event.Ready(fresh));
        assertTrue(stopped(ready, old), "the restart replaces slot 1: its old worker stops too: " + ready);
        h.obeySignals(ready);
        for (int i = 0; i < 5 && !h.all.contains(new Action.Reply(7, true, "restarted 2 workers")); i++) {
            h.readyAll();
            h.obeySignals(List.copyOf(h.all));
        }
        assertEquals(List.of(fresh), h.running.keySet().stream().filter(id -> h.slotOf.get(id) == 1).toList(),
                "one worker in slot 1: " + h.snapshot().workers());
    }

    @Test
    void aPromotedSpareStoppedBeforeItAcceptsNeverCompletesItsRecycle() {
        Harness h = new Harness(NOTIFY, 2);
        long spare = warm(h);
        h.send(new Event.RecycleRequested(h.workerInSlot(1)));   // the spare takes slot 1, it never says READY=1
        List<Action> stop = h.command(2, new Event.StopWorkers()); // every worker stops; the spare is slow to exit
        for (Action.Spawn s : of(stop, Action.Spawn.class)) {
            h.send(new Event.Ready(s.workerId()));               // slots 1 and 2 serve with new workers
        }
        long serving = h.workerInSlot(1);
        h.command(3, new Event.Restart());                       // slot 1's new worker serves until its replacement is ready

        List<Action> settled = h.tick(Master.PROMOTION_SETTLE_MILLIS);
        assertFalse(stopped(settled, serving), "a stopping spare's settle time ends no one's service: " + settled);
        assertEquals(2, h.snapshot().readyCount());
        assertTrue(h.snapshot().workers().stream().noneMatch(w -> w.workerId() == spare && !w.note().isEmpty()),
                "and it is not on probation: " + h.snapshot().workers());
    }

    @Test
    void autoSurgeIsOnePerCpuOrAQuarterOfTheWorkersWhicheverIsMore() {
        Policy auto = new Policy(true, 1_000, 3_000, 5_000, Policy.AUTO_SURGE, new Backoff(500, 4_000), 10_000);
        assertEquals(1, auto.surgeFor(1));
        assertEquals(1, auto.surgeFor(4), "1 CPU: a quarter");
        assertEquals(2, auto.surgeFor(8));
        assertEquals(4, auto.surgeFor(16));
        assertEquals(2, auto.withCpus(2).surgeFor(4), "2 CPUs: 2 of 4 at a time");
        assertEquals(1, auto.withCpus(2).surgeFor(1), "never more than the workers");
        assertEquals(4, auto.withCpus(2).surgeFor(16));
        assertEquals(4, auto.withCpus(8).surgeFor(4), "8 CPUs: all 4 at once");
        assertEquals(16, auto.withCpus(8).surgeFor(64));
        assertEquals(3, auto.withCpus(2).withSpares(1).surgeFor(12), "spares do not add to it");
        assertEquals(1, auto.surgeFor(0));
        assertEquals(3, new Policy(true, 1_000, 3_000, 5_000, 3, new Backoff(500, 4_000), 10_000).withCpus(8).surgeFor(4),
                "a fixed surge is kept");

        Harness h = new Harness(auto.withCpus(2), 4);
        h.tick(0);
        h.readyAll();
        List<Action> start = h.command(1, new Event.Restart());
        assertEquals(List.of(1, 2), of(start, Action.Spawn.class).stream().map(Action.Spawn::slot).toList(),
                "4 workers on 2 CPUs: 2 slots at a time");
        h.readyAll();
        assertEquals(4, h.snapshot().readyCount());
        List<Action> next = h.obeySignals(List.copyOf(h.all));
        assertEquals(List.of(3, 4), of(h.all, Action.Spawn.class).stream().map(Action.Spawn::slot).skip(6).toList(),
                "then the other 2: " + next);
    }
}
