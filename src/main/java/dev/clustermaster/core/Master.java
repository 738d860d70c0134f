package dev.clustermaster.core;

import dev.clustermaster.core.Action.Level;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;

/**
 * The master's decisions, and nothing else: no I/O, no threads, no clock.
 *
 * <p>Each {@link #handle} takes one event plus the current monotonic time and returns the actions to carry out.
 * After every event the master reconciles toward its goal (gunicorn's arbiter style): one live worker per slot
 * 1..size, nothing above it, rolling restart advanced, deadlines enforced.
 */
public final class Master {

    /** A hung worker gets its stop signal this long after the thread-dump signal, so the dump is complete. */
    static final long DUMP_MILLIS = 1_000;
    /**
     * How long the next spare's start waits for a promoted spare to say READY=1 (it accepts): a JVM starting beside
     * it takes a CPU from the slot's first connections. An app that never says READY after its hold waits this.
     */
    static final long PROMOTION_SETTLE_MILLIS = 1_000;
    /** The request id of what the master does on its own (a signal): nobody waits for a reply. */
    private static final long NO_REQUEST = 0;

    /** Whether and how the master is quitting; it only ever escalates, NO to GRACEFUL to HARD. */
    private enum Quitting {
        NO(-1), GRACEFUL(0), HARD(1);

        /** The master's exit code once every worker is gone. */
        final int exitCode;

        Quitting(int exitCode) {
            this.exitCode = exitCode;
        }
    }

    private Policy policy;
    private final int maxSize;
    private int desired;
    private final Map<Long, Worker> workers = new LinkedHashMap<>();
    private final Map<Integer, SlotHistory> slots = new TreeMap<>();
    private long nextWorkerId = 1;
    private boolean announcedReady;
    private RollingRestart restart;
    /** Recycles under way: slot -> id of the replacement being started. */
    private final Map<Integer, Long> recycling = new LinkedHashMap<>();
    private final Map<RecycleReason, Long> recycled = new EnumMap<>(RecycleReason.class);
    private long nextRssCheckAt;
    /** The master quits because every slot crash-loops: it exits with {@link Policy.CrashLoop#EXIT_CODE}. */
    private boolean gaveUp;
    /** Restart requests that arrived while one was running: served together by one more pass. */
    private List<Long> pendingRestart;
    private Quitting quitting = Quitting.NO;
    private boolean exitAnnounced;
    private int interrupts;
    private String lastStatus = "";
    /** Set when a spare served before it was promoted (an app that cannot be held): no more spares until a reload. */
    private String sparesOff;

    private long now;
    private List<Action> out = new ArrayList<>();

    public Master(Policy policy, int initialSize, int maxSize) {
        if (initialSize < 0 || initialSize > maxSize) {
            throw new IllegalArgumentException("size must be between 0 and " + maxSize + ", got " + initialSize);
        }
        this.policy = policy;
        this.desired = initialSize;
        this.maxSize = maxSize;
        for (RecycleReason r : RecycleReason.values()) {
            recycled.put(r, 0L);
        }
    }

    public List<Action> handle(Event event, long nowMillis) {
        now = nowMillis;
        out = new ArrayList<>();
        route(event);
        reconcile();
        return promotionsFirst(out);
    }

    /**
     * A promotion only tells a held spare to accept, and the slot's connections wait for nothing else: it goes
     * before the event's other actions (the dead worker's group kill may cost a library's first load).
     */
    private static List<Action> promotionsFirst(List<Action> actions) {
        actions.sort(Comparator.comparing(a -> !(a instanceof Action.Promote)));  // stable: the rest keep their order
        return actions;
    }

    /** One handler per event; a Tick has none: reconciling is all it asks for. */
    private void route(Event event) {
        if (event instanceof Event.Spawned e) {
            onSpawned(e);
        } else if (event instanceof Event.SpawnFailed e) {
            onSpawnFailed(e);
        } else if (event instanceof Event.Exited e) {
            onExited(e);
        } else if (event instanceof Event.Ready e) {
            onReady(e);
        } else if (event instanceof Event.Held e) {
            onHeld(e);
        } else if (event instanceof Event.WatchdogPing e) {
            onWatchdogPing(e);
        } else if (event instanceof Event.WorkerStatus e) {
            onWorkerStatus(e);
        } else if (event instanceof Event.RecycleRequested e) {
            onRecycleRequested(e);
        } else if (event instanceof Event.Usage e) {
            onUsage(e);
        } else if (event instanceof Event.SignalReceived e) {
            onSignal(e.signal());
        } else if (event instanceof Event.Command c) {
            onCommand(c.requestId(), c.request());
        }
    }

    // ---- events -------------------------------------------------------------------------------------------------

    private void onSpawned(Event.Spawned e) {
        Worker w = workers.get(e.workerId());
        if (w == null) {
            return;
        }
        w.pid = e.pid();
        w.startedAt = now;
        w.inSlotSince = now;
        long maxAge = policy.recycling().maxAgeMillis();
        if (maxAge > 0) {
            w.maxAgeAt = now + maxAge + jitter(w.id, maxAge / 10);
        }
        if (w.state == WorkerState.SPAWNING) {
            w.state = WorkerState.STARTING;
            log(Level.DEBUG, w.describe() + " started, restart " + w.restarts);
        } else if (w.state == WorkerState.STOPPING) {
            // asked to stop before its pid was known
            sendStop(w);
        }
    }

    private void onSpawnFailed(Event.SpawnFailed e) {
        Worker w = workers.remove(e.workerId());
        if (w == null) {
            return;
        }
        out.add(new Action.Forget(w.id));
        String reason = "cannot start " + w.describe() + ": " + e.error();
        if (isRestartCandidate(w)) {
            failRestart(reason);
        } else if (isRecycleCandidate(w)) {
            failRecycle(w, reason);
        } else if (!w.expectedExit) {
            recordFailure(w, reason, false);
        }
        recycling.remove(w.slot, w.id);
    }

    private void onExited(Event.Exited e) {
        Worker w = workers.remove(e.workerId());
        if (w == null) {
            return;
        }
        out.add(new Action.Forget(w.id));
        if (w.pid > 0) {
            // whatever the worker started and left behind dies with it
            out.add(new Action.SignalGroup(w.id, w.pid, Signal.KILL));
        }
        String how = e.exit().describe();
        if (w.expectedExit) {
            log(Level.INFO, w.describe() + " stopped: " + how);
        } else if (isRestartCandidate(w) || isRecycleCandidate(w)) {
            String reason = "new " + w.describe() + (w.probationUntil > 0
                    ? " died " + (now - w.readyAt) + " ms after READY, within its probation of " + policy.probationMillis() + " ms: "
                    : " exited before it was ready: ") + how;
            if (isRestartCandidate(w)) {
                failRestart(reason);
            } else {
                failRecycle(w, reason);
            }
        } else if (w.retiring) {
            log(Level.WARN, "old " + w.describe() + " died while being replaced: " + how);
        } else if (w.spare) {
            recordFailure(w, w.describe() + " died: " + how, false);
        } else if (w.operatorSignalAt >= 0 && now - w.operatorSignalAt <= Math.max(policy.stopTimeoutMillis(), 1_000)) {
            // the operator's own signal ended it: not a crash, no backoff, the slot starts a fresh worker
            log(Level.INFO, w.describe() + " exited after the operator's " + w.operatorSignal.label() + ": " + how
                    + "; starting a new one");
        } else {
            recordFailure(w, w.describe() + " died: " + how, w.state == WorkerState.READY);
        }
        recycling.remove(w.slot, w.id);
    }

    private void onReady(Event.Ready e) {
        Worker w = workers.get(e.workerId());
        if (w != null && w.promotedAt >= 0) {
            accepting(w);
        } else if (w != null && w.spare && w.live()) {
            disableSpares(w, "it sent READY=1 before it was promoted, so it accepts without waiting in "
                    + "ClusterWorker.inheritedListener()");
        } else if (w != null && (w.state == WorkerState.STARTING || w.state == WorkerState.SPAWNING)) {
            markReady(w);
        }
    }

    /**
     * A promoted spare accepts (READY=1 after its hold, or {@link #PROMOTION_SETTLE_MILLIS} passed without): the next
     * spare may start (reconcileSpares), and a worker it replaces in a recycle stops, after probation as usual.
     */
    private void accepting(Worker w) {
        w.promotedAt = -1;
        if (w.live() && isRecycleCandidate(w)) {  // a stopping one never serves: its exit ends the recycle
            replacementReady(w);
        }
    }

    /** A spare reached its hold: warm, promoted the moment a slot needs it. */
    private void onHeld(Event.Held e) {
        Worker w = workers.get(e.workerId());
        if (w != null && w.spare && (w.state == WorkerState.STARTING || w.state == WorkerState.SPAWNING)) {
            w.state = WorkerState.READY;
            w.readyAt = now;
            log(Level.INFO, w.describe() + " warm, held until a slot needs it");
        }
    }

    /**
     * A spare that cannot be held (it reads System.inheritedChannel() itself, or never reaches the hold) would
     * serve as one worker too many and be killed when promoted elsewhere: spares stop until the next reload.
     */
    private void disableSpares(Worker w, String why) {
        sparesOff = w.describe() + " " + why;
        log(Level.ERROR, "spares off until a reload: " + sparesOff + "; only apps that take their listener from "
                + "ClusterWorker.inheritedListener() can be spares (remove spare= for this app)");
        for (Worker s : workers.values()) {
            if (s.spare && s.live()) {
                stop(s);
            }
        }
    }

    private void onWatchdogPing(Event.WatchdogPing e) {
        Worker w = workers.get(e.workerId());
        if (w != null && w.live()) {
            if (!w.watchdogArmed && policy.watchdogMillis() > 0) {
                log(Level.DEBUG, w.describe() + " armed its watchdog (" + policy.watchdogMillis() + " ms)");
            }
            w.watchdogArmed = true;
            w.lastPing = now;
        }
    }

    private void onWorkerStatus(Event.WorkerStatus e) {
        Worker w = workers.get(e.workerId());
        if (w != null) {
            w.status = e.text().length() > 200 ? e.text().substring(0, 200) : e.text();
        }
    }

    private void onRecycleRequested(Event.RecycleRequested e) {
        Worker w = workers.get(e.workerId());
        if (w != null && w.live() && !w.retiring && w.recycle == null) {
            log(Level.INFO, w.describe() + " asked to be recycled");
            w.recycle = RecycleReason.REQUEST;
        }
    }

    private void onUsage(Event.Usage e) {
        Worker w = workers.get(e.workerId());
        if (w != null) {
            w.rssBytes = e.rssBytes();
        }
    }

    private void onSignal(Signal signal) {
        switch (signal) {
            case HUP -> requestRestart(NO_REQUEST);
            case TERM -> beginQuit(Quitting.GRACEFUL);
            case INT -> beginQuit(++interrupts >= 2 ? Quitting.HARD : Quitting.GRACEFUL);
            case TTIN -> growBySignal();
            case TTOU -> shrinkBySignal();
            default -> log(Level.DEBUG, "signal " + signal.shortName() + " ignored");
        }
    }

    /** One handler per request; once the master is quitting only another quit is served. */
    private void onCommand(long requestId, Event.Request request) {
        if (request instanceof Event.Quit) {
            quit(requestId, Quitting.GRACEFUL);
        } else if (request instanceof Event.QuitHard) {
            quit(requestId, Quitting.HARD);
        } else if (quitting != Quitting.NO) {
            reply(requestId, false, "the master is stopping");
        } else if (request instanceof Event.Resize r) {
            resize(requestId, r);
        } else if (request instanceof Event.Restart) {
            requestRestart(requestId);
        } else if (request instanceof Event.Reload r) {
            reload(requestId, r);
        } else if (request instanceof Event.StopWorkers) {
            stopWorkers(requestId);
        } else if (request instanceof Event.SignalWorkers s) {
            signalWorkers(requestId, s);
        }
    }

    // ---- requests -----------------------------------------------------------------------------------------------

    private void quit(long requestId, Quitting mode) {
        int n = workers.size();
        beginQuit(mode);
        reply(requestId, true, (mode == Quitting.HARD ? "killing " : "stopping ") + n + " workers");
    }

    private void resize(long requestId, Event.Resize r) {
        if (r.size() < 0 || r.size() > maxSize) {
            reply(requestId, false, "size must be between 0 and " + maxSize + ", got " + r.size());
            return;
        }
        int was = desired;
        resize(r.size());
        reply(requestId, true, "resized to " + r.size() + " (was " + was + ")");
    }

    /** SIGTTIN: one worker more. */
    private void growBySignal() {
        if (quitting == Quitting.NO && desired < maxSize) {
            resize(desired + 1);
        } else {
            log(Level.WARN, "SIGTTIN ignored: " + (quitting != Quitting.NO ? "stopping" : "already at the limit of " + maxSize));
        }
    }

    /** SIGTTOU: one worker fewer, never none: a few stray signals must not stop the service (as gunicorn's). */
    private void shrinkBySignal() {
        if (quitting == Quitting.NO && desired > 1) {
            resize(desired - 1);
        } else if (quitting == Quitting.NO) {
            log(Level.WARN, "SIGTTOU ignored: a signal leaves at least one worker (to stop them all: resize(0), or ctl size 0)");
        }
    }

    /** A new configuration: its rules and size, then a rolling restart replaces every worker. */
    private void reload(long requestId, Event.Reload r) {
        int size = r.size().orElse(desired);   // none: the config's size is unchanged, a runtime resize stays
        if (size < 0 || size > maxSize) {
            reply(requestId, false, "size must be between 0 and " + maxSize + ", got " + size);
            return;
        }
        policy = r.policy();
        sparesOff = null;
        resize(size);
        requestRestart(requestId);
    }

    private void stopWorkers(long requestId) {
        if (restart != null) {
            reply(requestId, false, "a rolling restart is in progress");
            return;
        }
        int n = 0;
        for (Worker w : List.copyOf(workers.values())) {
            if (w.live()) {
                stop(w);
                n++;
            }
        }
        reply(requestId, true, "stopping " + n + " workers; their slots start fresh ones");
    }

    private void signalWorkers(long requestId, Event.SignalWorkers s) {
        int n = 0;
        for (Worker w : workers.values()) {
            if (w.pid > 0 && (s.slot() == null || w.slot == s.slot())) {
                out.add(new Action.SignalGroup(w.id, w.pid, s.signal()));
                w.operatorSignalAt = now;
                w.operatorSignal = s.signal();
                n++;
            }
        }
        if (n == 0 && s.slot() != null) {
            reply(requestId, false, "no running worker in slot " + s.slot());
        } else {
            reply(requestId, true, "sent " + s.signal().label() + " to " + n + (n == 1 ? " worker" : " workers"));
        }
    }

    // ---- decisions ----------------------------------------------------------------------------------------------

    private void resize(int size) {
        if (size != desired) {
            log(Level.INFO, "resizing from " + desired + " to " + size + " workers");
        }
        desired = size;
    }

    private void requestRestart(long requestId) {
        if (quitting != Quitting.NO) {
            reply(requestId, false, "the master is stopping");
        } else if (restart != null) {
            if (pendingRestart == null) {
                pendingRestart = new ArrayList<>();
                log(Level.INFO, "restart requested during a rolling restart: one more pass follows");
            }
            pendingRestart.add(requestId);
        } else {
            startRestart(List.of(requestId));
        }
    }

    private void startRestart(List<Long> requestIds) {
        if (desired == 0) {
            for (long id : requestIds) {
                reply(id, true, "nothing to restart");
            }
            return;
        }
        restart = new RollingRestart(desired, requestIds);
        out.add(new Action.Notify(new Notice.Reloading(policy.restartBudgetMillis(desired))));
        log(Level.INFO, "rolling restart of " + desired + " workers, " + surge() + " at a time"
                + (policy.spares() > 0 ? "; spares start again when it is done" : ""));
        // spares run the code being replaced, and a fresh one would take a CPU from the surge: reconcileSpares
        // stops them now (spares() is 0 during a restart) and starts fresh ones after it
    }

    private void advanceRestart() {
        while (!restart.queue.isEmpty()) {
            if (restart.inProgress.size() >= surge()) {
                break;
            }
            int slot = restart.queue.poll();
            Worker old = primary(slot);
            if (slot > desired || old == null || old.state != WorkerState.READY) {
                // gone, or its worker is already a fresh start: nothing old to replace
                restart.done++;
                continue;
            }
            old.retiring = true;
            Worker fresh = spawn(slot);
            restart.inProgress.put(slot, fresh.id);
        }
        if (restart.finished()) {
            List<Long> ids = restart.requestIds;
            int total = restart.total;
            restart = null;
            log(Level.INFO, "rolling restart done: " + total + " workers replaced");
            for (long id : ids) {
                reply(id, true, "restarted " + total + " workers");
            }
            out.add(new Action.Notify(new Notice.Ready()));
            startPendingRestart();
        }
    }

    private void failRestart(String reason) {
        for (long newId : restart.inProgress.values()) {
            Worker fresh = workers.get(newId);
            if (fresh != null && fresh.live()) {
                stop(fresh);
            }
        }
        for (Worker w : workers.values()) {
            // all but a recycle's old worker: a recycle's replacement the restart was replacing serves on
            if (restart.inProgress.containsKey(w.slot) && (isRecycleCandidate(w) || !recycling.containsKey(w.slot))) {
                w.retiring = false;
            }
        }
        List<Long> ids = restart.requestIds;
        restart = null;
        log(Level.ERROR, "rolling restart failed, old workers keep serving: " + reason);
        for (long id : ids) {
            reply(id, false, "restart failed: " + reason);
        }
        out.add(new Action.Notify(new Notice.Ready()));
        if (pendingRestart != null) {
            for (long id : pendingRestart) {
                reply(id, false, "restart failed: " + reason);
            }
            pendingRestart = null;
        }
    }

    private void startPendingRestart() {
        if (pendingRestart != null) {
            List<Long> ids = pendingRestart;
            pendingRestart = null;
            startRestart(ids);
        }
    }

    private void beginQuit(Quitting mode) {
        if (quitting.compareTo(mode) >= 0) {
            return;
        }
        boolean first = quitting == Quitting.NO;
        quitting = mode;
        boolean hard = mode == Quitting.HARD;
        if (first) {
            out.add(new Action.Notify(new Notice.Stopping(policy.stopTimeoutMillis() + 5_000)));
        }
        log(hard ? Level.WARN : Level.INFO, (hard ? "hard quit: killing " : "graceful quit: stopping ") + workers.size() + " workers");
        if (restart != null) {
            for (long id : restart.requestIds) {
                reply(id, false, "restart cancelled: the master is stopping");
            }
            restart = null;
        }
        if (pendingRestart != null) {
            for (long id : pendingRestart) {
                reply(id, false, "restart cancelled: the master is stopping");
            }
            pendingRestart = null;
        }
    }

    private void recordFailure(Worker w, String reason, boolean wasServing) {
        SlotHistory h = history(w.slot);
        boolean healthyRun = wasServing && now - w.inSlotSince >= policy.healthyUptimeMillis();
        h.consecutiveFailures = healthyRun ? 1 : h.consecutiveFailures + 1;
        if (healthyRun) {
            h.recentFailures.clear();
        }
        h.recentFailures.addLast(now);
        while (h.recentFailures.size() > Math.max(1, policy.crashLoop().failures())) {
            h.recentFailures.removeFirst();
        }
        // from the second failure in a row at least until the next tick: a zero backoff must not spin inside one event
        long delay = Math.max(policy.backoff().delayMillis(h.consecutiveFailures), h.consecutiveFailures >= 2 ? 1 : 0);
        h.nextSpawnAt = now + delay;
        h.lastFailure = reason;
        boolean givingUp = crashLooping();
        // reconcileSlots promotes it at once, backoff or not: say so, not "next start in 500 ms"
        boolean spareTakesIt = !givingUp && w.slot >= 1 && w.slot <= desired && warmSpare() != null
                && workers.values().stream().noneMatch(x -> x != w && x.slot == w.slot && x.live() && !x.retiring);
        if (w.slot > desired) {
            log(Level.WARN, reason);
        } else if (h.failing()) {
            log(Level.ERROR, reason + "; slot " + w.slot + " failed " + h.consecutiveFailures + " times in a row"
                    + (spareTakesIt ? "; a warm spare takes it now, the next spare starts in " + delay + " ms at the earliest"
                    : ", next start in " + delay + " ms"));
        } else {
            log(Level.WARN, reason + (spareTakesIt ? "; a warm spare takes its slot" : "; restarting it"));
        }
        if (givingUp) {
            giveUp();
        }
    }

    /** Every slot crash-looping and none serving: time to stop trying (see {@link #giveUp}). */
    private boolean crashLooping() {
        Policy.CrashLoop c = policy.crashLoop();
        if (!c.enabled() || desired == 0 || quitting != Quitting.NO) {
            return false;
        }
        for (int slot = 1; slot <= desired; slot++) {
            SlotHistory h = history(slot);
            if (h.consecutiveFailures < c.failures() || h.recentFailures.size() < c.failures()
                    || now - h.recentFailures.peekFirst() > c.windowMillis() || primaryState(slot) == WorkerState.READY) {
                return false;
            }
        }
        return true;
    }

    /** Stops trying, so systemd's Restart=/StartLimit*=/OnFailure= act. */
    private void giveUp() {
        Policy.CrashLoop c = policy.crashLoop();
        gaveUp = true;
        log(Level.ERROR, "crash loop: every slot (1.." + desired + ") failed " + c.failures() + " times in a row within "
                + c.windowMillis() + " ms, last: " + history(desired).lastFailure + "; giving up, the master exits with code "
                + Policy.CrashLoop.EXIT_CODE + " so systemd can restart or alert");
        beginQuit(Quitting.GRACEFUL);
    }

    private void markReady(Worker w) {
        w.state = WorkerState.READY;
        w.readyAt = now;
        replacementReady(w);
    }

    /** Ready (or a promoted spare accepting): a replacement goes on probation, or its old worker stops now. */
    private void replacementReady(Worker w) {
        if ((isRestartCandidate(w) || isRecycleCandidate(w)) && policy.probationMillis() > 0) {
            // the old worker keeps serving until the new one proved it stays up
            w.probationUntil = now + policy.probationMillis();
            log(Level.INFO, w.describe() + " ready, on probation for " + policy.probationMillis() + " ms");
            return;
        }
        log(Level.INFO, w.describe() + " ready");
        completeReplacement(w);
    }

    /** A replacement is ready (and passed probation): its slot's old worker is stopped, the restart moves on. */
    private void completeReplacement(Worker w) {
        w.probationUntil = 0;
        boolean replaced = false;
        if (isRestartCandidate(w)) {
            restart.inProgress.remove(w.slot);
            restart.done++;
            replaced = true;
        }
        if (isRecycleCandidate(w)) {
            recycling.remove(w.slot);
            replaced = true;
        }
        if (!replaced) {
            return;
        }
        for (Worker old : List.copyOf(workers.values())) {
            // not w itself: a recycle's replacement a restart replaces in turn serves until the restart's is ready
            if (old != w && old.slot == w.slot && old.retiring && old.live()) {
                if (old.recycle != null) {
                    recycled.merge(old.recycle, 1L, Long::sum);
                    log(Level.INFO, "recycled " + old.describe() + " (" + old.recycle.label() + "): " + w.describe() + " serves");
                }
                stop(old);
            }
        }
    }

    // ---- recycling ----------------------------------------------------------------------------------------------

    private boolean isRecycleCandidate(Worker w) {
        return Long.valueOf(w.id).equals(recycling.get(w.slot));
    }

    /** Starts a replacement for each serving worker over a limit, at most {@code surge} at a time. */
    private void reconcileRecycling() {
        Policy.Recycling r = policy.recycling();
        if (r.maxRssBytes() > 0 && now >= nextRssCheckAt) {
            nextRssCheckAt = now + r.rssCheckMillis();
            out.add(new Action.SampleUsage());
        }
        if (restart != null) {
            return;  // the restart replaces every slot anyway
        }
        for (Worker w : List.copyOf(workers.values())) {
            if (recycling.size() >= surge()) {
                return;
            }
            if (w.state != WorkerState.READY || w.spare || w.retiring || w.probationUntil > 0 || w.slot > desired
                    || recycling.containsKey(w.slot) || now < history(w.slot).nextSpawnAt) {
                continue;
            }
            String why;
            if (w.recycle == RecycleReason.REQUEST) {
                why = "it asked to be";
            } else if (r.maxRssBytes() > 0 && w.rssBytes > r.maxRssBytes()) {
                w.recycle = RecycleReason.RSS;
                why = "rss " + (w.rssBytes >> 20) + " MiB above the limit of " + (r.maxRssBytes() >> 20) + " MiB";
            } else if (w.maxAgeAt > 0 && now >= w.maxAgeAt) {
                w.recycle = RecycleReason.AGE;
                why = "older than " + r.maxAgeMillis() + " ms (+ jitter)";
            } else {
                continue;
            }
            if (recycleWaitsForSpare()) {
                return;  // its HELD (or its failure) is an event: reconciled then
            }
            w.retiring = true;
            // a warm spare runs the same code: it takes the slot now instead of a start-up; the old worker serves
            // beside it until it accepts (and passed probation), as beside a fresh replacement
            Worker spare = warmSpare();
            if (spare != null) {
                log(Level.INFO, "recycling " + w.describe() + ": " + why + "; a warm spare takes its slot, the old "
                        + "worker stops once the spare accepts");
                promote(spare, w.slot);
                recycling.put(w.slot, spare.id);
            } else {
                log(Level.INFO, "recycling " + w.describe() + ": " + why + "; its replacement starts first");
                recycling.put(w.slot, spawn(w.slot).id);
            }
        }
    }

    /**
     * A recycle is never urgent: while a spare starts (none warm yet), it waits for that spare rather than start a
     * second JVM beside it. A spare is warm or failed within ready.timeout.
     */
    private boolean recycleWaitsForSpare() {
        if (warmSpare() != null) {
            return false;
        }
        for (Worker w : workers.values()) {
            if (w.spare && w.live() && w.state != WorkerState.READY) {
                return true;
            }
        }
        return false;
    }

    /** The replacement failed: the old worker keeps serving; the slot's backoff delays the next attempt. */
    private void failRecycle(Worker fresh, String reason) {
        recycling.remove(fresh.slot);
        if (fresh.live()) {
            stop(fresh);
        }
        // a restart replacing the slot (it was replacing the replacement) stops the old worker too once its own is ready
        boolean restarting = restart != null && restart.inProgress.containsKey(fresh.slot);
        for (Worker w : workers.values()) {
            if (w.slot == fresh.slot && w.retiring && w.live() && !restarting) {
                w.retiring = false;
                if (w.recycle == RecycleReason.REQUEST) {
                    w.recycle = null;  // asked once; an RSS or age limit asks again by itself after the backoff
                }
            }
        }
        recordFailure(fresh, "recycling failed, the old worker keeps serving: " + reason, false);
    }

    /** 0..range-1, spread by worker id: the same every time, different between workers (no clock, no Random). */
    static long jitter(long workerId, long range) {
        if (range <= 0) {
            return 0;
        }
        long z = workerId * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        return Math.floorMod(z, range);
    }

    // ---- reconcile ----------------------------------------------------------------------------------------------

    private void reconcile() {
        enforceDeadlines();
        if (quitting != Quitting.NO) {
            reconcileQuit();
        } else {
            reconcileSlots();
            if (restart != null) {
                advanceRestart();
            }
            reconcileSpares();
            reconcileRecycling();
            announceReady();
        }
        announceStatus();
    }

    /**
     * One live worker per slot 1..desired, none above. A warm spare fills an empty slot at once, even within the
     * slot's crash backoff: the backoff throttles starting processes, and a warm spare is already started (the
     * next spare's start waits for it instead, see {@link #nextSpareAt}).
     */
    private void reconcileSlots() {
        Set<Integer> filled = filledSlots();
        for (int slot = 1; slot <= desired; slot++) {
            if (!filled.contains(slot)) {
                Worker spare = warmSpare();
                if (spare != null) {
                    promote(spare, slot);
                } else if (now >= history(slot).nextSpawnAt) {
                    spawn(slot);
                }
            }
        }
        for (Worker w : List.copyOf(workers.values())) {
            if (w.slot > desired && w.live()) {
                stop(w);
            }
        }
    }

    /** {@code spares} live spares (starting or warm), started once the spare backoff allows; extras stopped. */
    private void reconcileSpares() {
        int live = 0;
        for (Worker w : List.copyOf(workers.values())) {
            if (w.spare && w.live() && ++live > spares()) {
                stop(w);
            }
        }
        while (live < spares() && now >= nextSpareAt()) {
            Worker w = spawn(0);
            w.spare = true;
            live++;
        }
    }

    /**
     * The spare's crash backoff and every slot's (a warm spare would take a crashed slot within its backoff, so a
     * crash after a promotion holds the next spare too), and no sooner than every promoted spare accepts (or had time to).
     */
    private long nextSpareAt() {
        long at = 0;
        for (Map.Entry<Integer, SlotHistory> e : slots.entrySet()) {
            if (e.getKey() <= desired) {
                at = Math.max(at, e.getValue().nextSpawnAt);
            }
        }
        for (Worker w : workers.values()) {
            if (w.promotedAt >= 0) {
                at = Math.max(at, w.promotedAt + PROMOTION_SETTLE_MILLIS);
            }
        }
        return at;
    }

    /**
     * The spare takes the slot and the slot's next restart count; it is serving from now on. The next spare starts
     * no sooner than the slot's backoff allows ({@link #nextSpareAt}): a crash loop still starts processes no faster
     * than backoff.*.
     */
    private void promote(Worker spare, int slot) {
        SlotHistory h = history(slot);
        spare.spare = false;
        spare.promotedAt = now;
        spare.inSlotSince = now;
        spare.slot = slot;
        spare.restarts = h.started++;
        spare.readyAt = now;
        long maxAge = policy.recycling().maxAgeMillis();
        if (maxAge > 0) {
            spare.maxAgeAt = now + maxAge + jitter(spare.id, maxAge / 10);  // held, it did no work: its age starts now
        }
        out.add(new Action.Promote(spare.id, spare.pid, slot, spare.restarts));
        log(Level.INFO, "spare (pid " + spare.pid + ") promoted: " + spare.describe() + ", "
                + (now - spare.startedAt) + " ms after it started");
    }

    /** A warm spare (held, READY), oldest first; null when none. */
    private Worker warmSpare() {
        for (Worker w : workers.values()) {
            if (w.spare && w.state == WorkerState.READY) {
                return w;
            }
        }
        return null;
    }

    /** Spares wanted now: none while quitting, at size 0, during a rolling restart, or after a spare served unheld. */
    private int spares() {
        return quitting != Quitting.NO || sparesOff != null || desired == 0 || restart != null ? 0 : policy.spares();
    }

    private int surge() {
        return policy.surgeFor(desired);
    }

    /** Slots with a live worker that is not being replaced: one pass instead of a scan per slot. */
    private Set<Integer> filledSlots() {
        Set<Integer> filled = new HashSet<>();
        for (Worker w : workers.values()) {
            if (w.live() && !w.retiring && w.slot > 0) {
                filled.add(w.slot);
            }
        }
        return filled;
    }

    /** READY=1 to systemd once, when every slot first served. */
    private void announceReady() {
        if (!announcedReady && readySlots() >= desired) {
            announcedReady = true;
            log(Level.INFO, "all " + desired + " workers ready");
            out.add(new Action.Notify(new Notice.Ready()));
        }
    }

    private void announceStatus() {
        String status = statusLine();
        if (!status.equals(lastStatus)) {
            lastStatus = status;
            out.add(new Action.Notify(new Notice.Status(status)));
        }
    }

    private void enforceDeadlines() {
        for (Worker w : List.copyOf(workers.values())) {
            if (w.state == WorkerState.STARTING && enforceReadyDeadline(w)) {
                continue;
            }
            if (w.promotedAt >= 0 && now >= w.promotedAt + PROMOTION_SETTLE_MILLIS) {
                accepting(w);  // an app that never says READY=1 after its hold
            }
            enforceSupervisionDeadline(w);
        }
    }

    /** Grace over: ready. Ready timeout over: failed and stopped (true: nothing more to check on it now). */
    private boolean enforceReadyDeadline(Worker w) {
        long up = now - w.startedAt;
        if (w.spare) {
            // warm only once held (grace does not apply): one that never holds may be serving unheld
            if (up >= policy.readyTimeoutMillis()) {
                disableSpares(w, "did not wait in ClusterWorker.inheritedListener() within ready.timeout ("
                        + policy.readyTimeoutMillis() + " ms)");
                return true;
            }
            return false;
        }
        if (!policy.requireNotify() && up >= policy.readyGraceMillis()) {
            markReady(w);
        } else if (policy.requireNotify() && up >= policy.readyTimeoutMillis()) {
            String reason = w.describe() + " not ready after " + up + " ms";
            if (isRestartCandidate(w)) {
                failRestart(reason);
            } else if (isRecycleCandidate(w)) {
                failRecycle(w, reason);
            } else {
                recordFailure(w, reason, false);
            }
            stop(w);
            return true;
        }
        return false;
    }

    /** Watchdog expiry, probation end, the stop signal after a thread dump, SIGKILL after the stop timeout. */
    private void enforceSupervisionDeadline(Worker w) {
        if (w.live() && w.watchdogArmed && policy.watchdogMillis() > 0 && w.pid > 0
                && now - w.lastPing >= policy.watchdogMillis()) {
            hung(w);
        } else if (w.state == WorkerState.READY && w.probationUntil > 0 && now >= w.probationUntil) {
            log(Level.INFO, w.describe() + " passed probation");
            completeReplacement(w);
        } else if (w.state == WorkerState.STOPPING && w.stopAt > 0 && now >= w.stopAt) {
            w.stopAt = 0;
            sendStop(w);
        } else if (w.state == WorkerState.STOPPING && w.pid > 0 && !w.killSent && w.stopAt == 0 && now >= w.stopDeadline) {
            log(Level.WARN, w.describe() + " did not stop within " + policy.stopTimeoutMillis() + " ms: SIGKILL");
            w.killSent = true;
            out.add(new Action.SignalGroup(w.id, w.pid, Signal.KILL));
        }
    }

    /** No WATCHDOG=1 in time: thread dump (a JVM prints its threads on SIGQUIT), stop, KILL later; replaced at once. */
    private void hung(Worker w) {
        String reason = w.describe() + " hung: no WATCHDOG=1 for " + (now - w.lastPing) + " ms";
        boolean candidate = isRestartCandidate(w) || isRecycleCandidate(w);
        boolean wasServing = w.state == WorkerState.READY;
        w.hung = true;
        w.probationUntil = 0;
        w.state = WorkerState.STOPPING;
        w.expectedExit = true;
        w.retiring = false;
        if (policy.dumpSignal() != null) {
            log(Level.ERROR, reason + "; " + policy.dumpSignal().label() + " for a thread dump (in its output, slot "
                    + w.slot + "), " + policy.stopSignal().label() + " in " + Math.min(DUMP_MILLIS, policy.stopTimeoutMillis()) + " ms");
            out.add(new Action.SignalProcess(w.id, w.pid, policy.dumpSignal()));
            w.stopAt = now + Math.max(1, Math.min(DUMP_MILLIS, policy.stopTimeoutMillis()));
        } else {
            log(Level.ERROR, reason + "; stopping it with " + policy.stopSignal().label());
            sendStop(w);
        }
        if (isRestartCandidate(w)) {
            failRestart(reason);
        } else if (candidate) {
            failRecycle(w, reason);
        } else {
            recordFailure(w, reason, wasServing);
        }
    }

    private void reconcileQuit() {
        for (Worker w : workers.values()) {
            if (quitting == Quitting.HARD) {
                w.state = WorkerState.STOPPING;
                w.expectedExit = true;
                if (w.pid > 0 && !w.killSent) {
                    w.killSent = true;
                    out.add(new Action.SignalGroup(w.id, w.pid, Signal.KILL));
                }
            } else if (w.live()) {
                stop(w);
            }
        }
        if (workers.isEmpty() && !exitAnnounced) {
            exitAnnounced = true;
            log(Level.INFO, "all workers gone, master exits");
            out.add(new Action.ExitMaster(gaveUp ? Policy.CrashLoop.EXIT_CODE : quitting.exitCode));
        }
    }

    private Worker spawn(int slot) {
        SlotHistory h = history(slot);
        Worker w = new Worker(nextWorkerId++, slot, h.started++, now);
        workers.put(w.id, w);
        out.add(new Action.Spawn(w.id, slot, w.restarts));
        return w;
    }

    private void stop(Worker w) {
        w.state = WorkerState.STOPPING;
        w.expectedExit = true;
        w.retiring = false;
        w.probationUntil = 0;
        if (w.pid > 0 && w.stopAt == 0) {
            sendStop(w);
        }
    }

    private void sendStop(Worker w) {
        w.stopDeadline = now + policy.stopTimeoutMillis();
        if (w.spare) {
            out.add(new Action.StopSpare(w.id, w.pid));
        }
        out.add(new Action.SignalGroup(w.id, w.pid, policy.stopSignal()));
        // a stopped (SIGSTOPped, traced-and-released) worker acts on the stop signal only once continued
        out.add(new Action.SignalGroup(w.id, w.pid, Signal.CONT));
    }

    // ---- queries ------------------------------------------------------------------------------------------------

    /**
     * The earliest monotonic time (millis) at which a {@link Event.Tick} would change something; empty when only
     * another event can. The runtime sleeps until then: a deadline enforced on a Tick but missing here fires only
     * when something else happens to wake the loop, so every new deadline goes into this one list.
     */
    public OptionalLong nextDeadline() {
        long next = Long.MAX_VALUE;
        for (Worker w : workers.values()) {
            if (w.state == WorkerState.STARTING) {
                // enforceDeadlines: grace ends (grace mode) or the ready timeout fails the worker (notify mode, spares)
                next = Math.min(next, w.startedAt + (policy.requireNotify() || w.spare ? policy.readyTimeoutMillis() : policy.readyGraceMillis()));
            } else if (w.state == WorkerState.STOPPING && w.pid > 0 && !w.killSent && w.stopAt == 0) {
                // enforceDeadlines: SIGKILL after the stop timeout (a hung worker's stop signal is still pending: stopAt)
                next = Math.min(next, w.stopDeadline);
            }
        }
        if (quitting == Quitting.NO) {
            // reconcile: an empty slot, due at once or when its crash backoff ends
            Set<Integer> filled = filledSlots();
            long liveSpares = workers.values().stream().filter(w -> w.spare && w.live()).count();
            if (liveSpares < spares()) {
                next = Math.min(next, nextSpareAt());
            }
            for (int slot = 1; slot <= desired; slot++) {
                if (!filled.contains(slot)) {
                    SlotHistory h = slots.get(slot);
                    next = Math.min(next, h == null ? 0 : h.nextSpawnAt);  // never started: due at once
                }
            }
        }
        next = Math.min(next, nextSupervisionDeadline());
        return next == Long.MAX_VALUE ? OptionalLong.empty() : OptionalLong.of(next);
    }

    /** The worker a slot counts on: live and not being replaced. */
    private Worker primary(int slot) {
        for (Worker w : workers.values()) {
            if (w.slot == slot && w.live() && !w.retiring) {
                return w;
            }
        }
        return null;
    }

    private boolean isRestartCandidate(Worker w) {
        return restart != null && Long.valueOf(w.id).equals(restart.inProgress.get(w.slot));
    }

    private long readySlots() {
        return workers.values().stream()
                .filter(w -> w.state == WorkerState.READY && w.slot >= 1 && w.slot <= desired)
                .mapToInt(w -> w.slot).distinct().count();
    }

    private SlotHistory history(int slot) {
        return slots.computeIfAbsent(slot, s -> new SlotHistory());
    }

    private List<Integer> failingSlots() {
        List<Integer> failing = new ArrayList<>();
        slots.forEach((slot, h) -> {
            if (slot >= 1 && slot <= desired && h.failing() && primaryState(slot) != WorkerState.READY) {
                failing.add(slot);
            }
        });
        return failing;
    }

    private WorkerState primaryState(int slot) {
        Worker w = primary(slot);
        return w == null ? null : w.state;
    }

    private String statusLine() {
        if (quitting != Quitting.NO) {
            return "stopping, " + workers.size() + " workers left";
        }
        StringBuilder s = new StringBuilder().append(readySlots()).append('/').append(desired).append(" ready");
        if (restart != null) {
            s.append(", ").append(restart.progress());
        }
        List<Integer> failing = failingSlots();
        if (!failing.isEmpty()) {
            s.append(", failing slots ").append(failing);
        }
        return s.toString();
    }

    /**
     * Part of {@link #nextDeadline()}: the earliest time a supervision deadline falls due (probation end, worker watchdog expiry, the stop signal
     * after a thread dump, max-age, the next RSS sample), or {@link Long#MAX_VALUE}: the loop must wake then.
     */
    public long nextSupervisionDeadline() {
        long next = Long.MAX_VALUE;
        if (quitting != Quitting.NO) {
            for (Worker w : workers.values()) {
                if (w.stopAt > 0) {
                    next = Math.min(next, w.stopAt);
                }
            }
            return next;
        }
        if (policy.recycling().maxRssBytes() > 0) {
            next = Math.min(next, nextRssCheckAt);
        }
        // once per call, not per worker: each is a scan of every worker, and this runs after every event
        boolean recycleMayStart = policy.recycling().maxAgeMillis() > 0 && restart == null && recycling.size() < surge()
                && !recycleWaitsForSpare();
        for (Worker w : workers.values()) {
            if (w.stopAt > 0) {
                next = Math.min(next, w.stopAt);
            }
            if (w.live() && w.watchdogArmed && policy.watchdogMillis() > 0) {
                next = Math.min(next, w.lastPing + policy.watchdogMillis());
            }
            if (w.state == WorkerState.READY && w.probationUntil > 0) {
                next = Math.min(next, w.probationUntil);
            }
            if (w.promotedAt >= 0) {
                next = Math.min(next, w.promotedAt + PROMOTION_SETTLE_MILLIS);
            }
            if (w.state == WorkerState.READY && w.maxAgeAt > 0 && !w.retiring && w.probationUntil == 0
                    && !w.spare && recycleMayStart) {
                // held back by a restart or another recycle: their end is an event that reconciles anyway
                SlotHistory h = slots.get(w.slot);
                next = Math.min(next, Math.max(w.maxAgeAt, h == null ? 0 : h.nextSpawnAt));
            }
        }
        return next;
    }

    /** True while every slot has a ready worker and no quit is under way: the watchdog may be fed. */
    public boolean healthy() {
        return quitting == Quitting.NO && readySlots() >= desired;
    }

    public int desiredSize() {
        return desired;
    }

    public ClusterSnapshot snapshot(int masterPid, long nowMillis, long wallNowMillis) {
        List<WorkerView> views = workers.values().stream()
                .sorted(Comparator.comparingInt((Worker w) -> w.slot).thenComparingLong(w -> w.id))
                .map(w -> w.view(nowMillis, wallNowMillis))
                .toList();
        Phase phase = quitting != Quitting.NO ? Phase.STOPPING : restart != null ? Phase.RESTARTING
                : announcedReady ? Phase.RUNNING : Phase.STARTING;
        return new ClusterSnapshot(masterPid, desired, phase, views, restart == null ? "" : restart.progress(), failingSlots(),
                recycled);
    }

    private void log(Level level, String message) {
        out.add(new Action.Log(level, message));
    }

    private void reply(long requestId, boolean ok, String message) {
        out.add(new Action.Reply(requestId, ok, message));
    }
}
