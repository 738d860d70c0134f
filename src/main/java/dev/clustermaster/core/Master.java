package dev.clustermaster.core;

import dev.clustermaster.core.Action.Level;

import java.util.ArrayList;
import java.util.Comparator;
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

    public static final int SIGKILL = 9;
    public static final int SIGTERM = 15;
    public static final int SIGCONT = 18;
    /** Linux numbers 1..15, for exit messages; the core stays free of the os layer. */
    private static final String[] SIGNAL_NAMES = {null, "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL",
            "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM"};

    private final Policy policy;
    private final int maxSize;
    private int desired;
    private final Map<Long, Worker> workers = new LinkedHashMap<>();
    private final Map<Integer, SlotHistory> slots = new TreeMap<>();
    private long nextWorkerId = 1;
    private boolean announcedReady;
    private RollingRestart restart;
    /** Restart requests that arrived while one was running: served together by one more pass. */
    private List<Long> pendingRestart;
    private Boolean quittingHard;
    private boolean exitAnnounced;
    private int interrupts;
    private String lastStatus = "";

    private long now;
    private List<Action> out = new ArrayList<>();

    public Master(Policy policy, int initialSize, int maxSize) {
        if (initialSize < 0 || initialSize > maxSize) {
            throw new IllegalArgumentException("size must be between 0 and " + maxSize + ", got " + initialSize);
        }
        this.policy = policy;
        this.desired = initialSize;
        this.maxSize = maxSize;
    }

    public List<Action> handle(Event event, long nowMillis) {
        now = nowMillis;
        out = new ArrayList<>();
        if (event instanceof Event.Spawned e) {
            onSpawned(e);
        } else if (event instanceof Event.SpawnFailed e) {
            onSpawnFailed(e);
        } else if (event instanceof Event.Exited e) {
            onExited(e);
        } else if (event instanceof Event.Ready e) {
            Worker w = workers.get(e.workerId());
            if (w != null && (w.state == WorkerState.STARTING || w.state == WorkerState.SPAWNING)) {
                markReady(w);
            }
        } else if (event instanceof Event.SignalReceived e) {
            onSignal(e.name());
        } else if (event instanceof Event.Command c) {
            onCommand(c.requestId(), c.request());
        }
        reconcile();
        return out;
    }

    // ---- events -------------------------------------------------------------------------------------------------

    private void onSpawned(Event.Spawned e) {
        Worker w = workers.get(e.workerId());
        if (w == null) {
            return;
        }
        w.pid = e.pid();
        w.startedAt = now;
        if (w.state == WorkerState.SPAWNING) {
            w.state = WorkerState.STARTING;
            log(Level.DEBUG, w.describe() + " started, restart " + w.restarts);
        } else if (w.state == WorkerState.STOPPING) {
            // asked to stop before its pid was known
            sendTerm(w);
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
        } else if (!w.expectedExit) {
            recordFailure(w, reason, false);
        }
    }

    private void onExited(Event.Exited e) {
        Worker w = workers.remove(e.workerId());
        if (w == null) {
            return;
        }
        out.add(new Action.Forget(w.id));
        if (w.pid > 0) {
            // whatever the worker started and left behind dies with it
            out.add(new Action.SignalGroup(w.id, w.pid, SIGKILL));
        }
        String how = describeExit(e.exitCode(), e.signal());
        if (w.expectedExit) {
            log(Level.INFO, w.describe() + " stopped: " + how);
        } else if (isRestartCandidate(w)) {
            failRestart("new " + w.describe() + " exited before it was ready: " + how);
        } else if (w.retiring) {
            log(Level.WARN, "old " + w.describe() + " died during the rolling restart: " + how);
        } else {
            recordFailure(w, w.describe() + " died: " + how, w.state == WorkerState.READY);
        }
    }

    private void onSignal(String name) {
        switch (name) {
            case "HUP" -> requestRestart(0);
            case "TERM" -> beginQuit(false);
            case "INT" -> beginQuit(++interrupts >= 2);
            case "TTIN" -> {
                if (quittingHard == null && desired < maxSize) {
                    resize(desired + 1);
                } else {
                    log(Level.WARN, "SIGTTIN ignored: " + (quittingHard != null ? "stopping" : "already at the limit of " + maxSize));
                }
            }
            case "TTOU" -> {
                if (quittingHard == null && desired > 0) {
                    resize(desired - 1);
                }
            }
            default -> log(Level.DEBUG, "signal " + name + " ignored");
        }
    }

    private void onCommand(long requestId, Event.Request request) {
        if (request instanceof Event.Quit) {
            int n = workers.size();
            beginQuit(false);
            reply(requestId, true, "stopping " + n + " workers");
            return;
        }
        if (request instanceof Event.QuitHard) {
            int n = workers.size();
            beginQuit(true);
            reply(requestId, true, "killing " + n + " workers");
            return;
        }
        if (quittingHard != null) {
            reply(requestId, false, "the master is stopping");
            return;
        }
        if (request instanceof Event.Resize r) {
            if (r.size() < 0 || r.size() > maxSize) {
                reply(requestId, false, "size must be between 0 and " + maxSize + ", got " + r.size());
            } else {
                int was = desired;
                resize(r.size());
                reply(requestId, true, "resized to " + r.size() + " (was " + was + ")");
            }
        } else if (request instanceof Event.Restart) {
            requestRestart(requestId);
        } else if (request instanceof Event.StopWorkers) {
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
        } else if (request instanceof Event.SignalWorkers s) {
            int n = 0;
            for (Worker w : workers.values()) {
                if (w.pid > 0 && (s.slot() == null || w.slot == s.slot())) {
                    out.add(new Action.SignalGroup(w.id, w.pid, s.signal()));
                    n++;
                }
            }
            if (n == 0 && s.slot() != null) {
                reply(requestId, false, "no running worker in slot " + s.slot());
            } else {
                reply(requestId, true, "sent " + s.signalName() + " to " + n + (n == 1 ? " worker" : " workers"));
            }
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
        if (quittingHard != null) {
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
        out.add(new Action.Notify("RELOADING=1", true));
        log(Level.INFO, "rolling restart of " + desired + " workers, " + policy.surge() + " at a time");
    }

    private void advanceRestart() {
        while (restart.inProgress.size() < policy.surge() && !restart.queue.isEmpty()) {
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
            out.add(new Action.Notify("READY=1", false));
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
            w.retiring = false;
        }
        List<Long> ids = restart.requestIds;
        restart = null;
        log(Level.ERROR, "rolling restart failed, old workers keep serving: " + reason);
        for (long id : ids) {
            reply(id, false, "restart failed: " + reason);
        }
        out.add(new Action.Notify("READY=1", false));
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

    private void beginQuit(boolean hard) {
        if (quittingHard != null && (quittingHard || !hard)) {
            return;
        }
        boolean first = quittingHard == null;
        quittingHard = hard;
        if (first) {
            long extendUsec = (policy.stopTimeoutMillis() + 5_000) * 1_000;
            out.add(new Action.Notify("STOPPING=1\nEXTEND_TIMEOUT_USEC=" + extendUsec, false));
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
        boolean healthyRun = wasServing && now - w.startedAt >= policy.healthyUptimeMillis();
        h.consecutiveFailures = healthyRun ? 1 : h.consecutiveFailures + 1;
        // from the second failure in a row at least until the next tick: a zero backoff must not spin inside one event
        long delay = Math.max(policy.backoff().delayMillis(h.consecutiveFailures), h.consecutiveFailures >= 2 ? 1 : 0);
        h.nextSpawnAt = now + delay;
        h.lastFailure = reason;
        if (w.slot > desired) {
            log(Level.WARN, reason);
        } else if (h.failing()) {
            log(Level.ERROR, reason + "; slot " + w.slot + " failed " + h.consecutiveFailures
                    + " times in a row, next start in " + delay + " ms");
        } else {
            log(Level.WARN, reason + "; restarting it");
        }
    }

    private void markReady(Worker w) {
        w.state = WorkerState.READY;
        log(Level.INFO, w.describe() + " ready");
        if (restart != null && Long.valueOf(w.id).equals(restart.inProgress.get(w.slot))) {
            restart.inProgress.remove(w.slot);
            restart.done++;
            for (Worker old : List.copyOf(workers.values())) {
                if (old.slot == w.slot && old.retiring && old.live()) {
                    stop(old);
                }
            }
        }
    }

    // ---- reconcile ----------------------------------------------------------------------------------------------

    private void reconcile() {
        enforceDeadlines();
        if (quittingHard != null) {
            reconcileQuit();
        } else {
            for (int slot = 1; slot <= desired; slot++) {
                if (primary(slot) == null && now >= history(slot).nextSpawnAt) {
                    spawn(slot);
                }
            }
            for (Worker w : List.copyOf(workers.values())) {
                if (w.slot > desired && w.live()) {
                    stop(w);
                }
            }
            if (restart != null) {
                advanceRestart();
            }
            if (!announcedReady && readySlots() >= desired) {
                announcedReady = true;
                log(Level.INFO, "all " + desired + " workers ready");
                out.add(new Action.Notify("READY=1", false));
            }
        }
        String status = statusLine();
        if (!status.equals(lastStatus)) {
            lastStatus = status;
            out.add(new Action.Notify("STATUS=" + status, false));
        }
    }

    private void enforceDeadlines() {
        for (Worker w : List.copyOf(workers.values())) {
            if (w.state == WorkerState.STARTING) {
                long up = now - w.startedAt;
                if (!policy.requireNotify() && up >= policy.readyGraceMillis()) {
                    markReady(w);
                } else if (policy.requireNotify() && up >= policy.readyTimeoutMillis()) {
                    String reason = w.describe() + " not ready after " + up + " ms";
                    if (isRestartCandidate(w)) {
                        failRestart(reason);
                    } else {
                        recordFailure(w, reason, false);
                    }
                    stop(w);
                }
            } else if (w.state == WorkerState.STOPPING && w.pid > 0 && !w.killSent && now >= w.stopDeadline) {
                log(Level.WARN, w.describe() + " did not stop within " + policy.stopTimeoutMillis() + " ms: SIGKILL");
                w.killSent = true;
                out.add(new Action.SignalGroup(w.id, w.pid, SIGKILL));
            }
        }
    }

    private void reconcileQuit() {
        for (Worker w : workers.values()) {
            if (quittingHard) {
                w.state = WorkerState.STOPPING;
                w.expectedExit = true;
                if (w.pid > 0 && !w.killSent) {
                    w.killSent = true;
                    out.add(new Action.SignalGroup(w.id, w.pid, SIGKILL));
                }
            } else if (w.live()) {
                stop(w);
            }
        }
        if (workers.isEmpty() && !exitAnnounced) {
            exitAnnounced = true;
            log(Level.INFO, "all workers gone, master exits");
            out.add(new Action.ExitMaster(quittingHard ? 1 : 0));
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
        if (w.pid > 0) {
            sendTerm(w);
        }
    }

    private void sendTerm(Worker w) {
        w.stopDeadline = now + policy.stopTimeoutMillis();
        out.add(new Action.SignalGroup(w.id, w.pid, SIGTERM));
        // a stopped (SIGSTOPped, traced-and-released) worker acts on the stop signal only once continued
        out.add(new Action.SignalGroup(w.id, w.pid, SIGCONT));
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
                // enforceDeadlines: grace ends (grace mode) or the ready timeout fails the worker (notify mode)
                next = Math.min(next, w.startedAt + (policy.requireNotify() ? policy.readyTimeoutMillis() : policy.readyGraceMillis()));
            } else if (w.state == WorkerState.STOPPING && w.pid > 0 && !w.killSent) {
                // enforceDeadlines: SIGKILL after the stop timeout
                next = Math.min(next, w.stopDeadline);
            }
        }
        if (quittingHard == null) {
            // reconcile: an empty slot, due at once or when its crash backoff ends
            Set<Integer> filled = new HashSet<>();
            for (Worker w : workers.values()) {
                if (w.live() && !w.retiring) {
                    filled.add(w.slot);
                }
            }
            for (int slot = 1; slot <= desired; slot++) {
                if (!filled.contains(slot)) {
                    SlotHistory h = slots.get(slot);
                    next = Math.min(next, h == null ? 0 : h.nextSpawnAt);  // never started: due at once
                }
            }
        }
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
                .filter(w -> w.state == WorkerState.READY && w.slot <= desired)
                .mapToInt(w -> w.slot).distinct().count();
    }

    private SlotHistory history(int slot) {
        return slots.computeIfAbsent(slot, s -> new SlotHistory());
    }

    private List<Integer> failingSlots() {
        List<Integer> failing = new ArrayList<>();
        slots.forEach((slot, h) -> {
            if (slot <= desired && h.failing() && primaryState(slot) != WorkerState.READY) {
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
        if (quittingHard != null) {
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

    /** True while every slot has a ready worker and no quit is under way: the watchdog may be fed. */
    public boolean healthy() {
        return quittingHard == null && readySlots() >= desired;
    }

    public int desiredSize() {
        return desired;
    }

    public ClusterSnapshot snapshot(int masterPid, long nowMillis, long wallNowMillis) {
        List<WorkerView> views = workers.values().stream()
                .sorted(Comparator.comparingInt((Worker w) -> w.slot).thenComparingLong(w -> w.id))
                .map(w -> w.view(nowMillis, wallNowMillis))
                .toList();
        String phase = quittingHard != null ? "stopping" : restart != null ? "restarting" : announcedReady ? "running" : "starting";
        return new ClusterSnapshot(masterPid, desired, phase, views, restart == null ? "" : restart.progress(), failingSlots());
    }

    public static String describeExit(int exitCode, int signal) {
        if (signal <= 0) {
            return exitCode < 0 ? "unknown status" : "exit " + exitCode;
        }
        return "killed by " + (signal < SIGNAL_NAMES.length ? "SIG" + SIGNAL_NAMES[signal] : "signal " + signal);
    }

    private void log(Level level, String message) {
        out.add(new Action.Log(level, message));
    }

    private void reply(long requestId, boolean ok, String message) {
        out.add(new Action.Reply(requestId, ok, message));
    }
}
