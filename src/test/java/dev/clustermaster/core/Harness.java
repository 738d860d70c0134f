package dev.clustermaster.core;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.stream.Collectors;

/** Drives a {@link Master} with literal events and plays the runtime's part: gives each spawn a fake pid. */
final class Harness {
    final Master master;
    long now;
    int nextPid = 1000;
    final List<Action> all = new ArrayList<>();
    /** Live fake processes: workerId -> pid. */
    final Map<Long, Integer> running = new LinkedHashMap<>();
    final Map<Long, Integer> slotOf = new LinkedHashMap<>();

    Harness(Policy policy, int size) {
        master = new Master(policy, size, 64);
    }

    /** Handles one event; spawns are answered with Spawned at once, like the runtime does. */
    List<Action> send(Event e) {
        List<Action> produced = new ArrayList<>();
        List<Event> queue = new ArrayList<>(List.of(e));
        while (!queue.isEmpty()) {
            List<Action> actions = master.handle(queue.remove(0), now);
            produced.addAll(actions);
            for (Action a : actions) {
                if (a instanceof Action.Spawn s) {
                    int pid = nextPid++;
                    running.put(s.workerId(), pid);
                    slotOf.put(s.workerId(), s.slot());
                    queue.add(new Event.Spawned(s.workerId(), pid));
                } else if (a instanceof Action.Promote p) {
                    slotOf.put(p.workerId(), p.slot());
                }
            }
        }
        all.addAll(produced);
        OptionalLong next = master.nextDeadline();
        if (next.isPresent() && next.getAsLong() <= now) {
            // the runtime would wake at once, tick, and find the same deadline: a busy loop
            throw new AssertionError("nextDeadline() " + next.getAsLong() + " is not after now " + now + " after " + e);
        }
        return produced;
    }

    /**
     * Advances the clock and ticks. Checks Master.nextDeadline(): a Tick before it (or with none) must change
     * nothing, because the runtime only ticks at that deadline.
     */
    List<Action> tick(long advanceMillis) {
        OptionalLong deadline = master.nextDeadline();
        now += advanceMillis;
        List<Action> produced = send(new Event.Tick());
        if (!produced.isEmpty() && (deadline.isEmpty() || now < deadline.getAsLong())) {
            throw new AssertionError("a Tick at " + now + " acted " + produced + " but nextDeadline() was " + deadline
                    + ": a deadline is missing from Master.nextDeadline()");
        }
        return produced;
    }

    List<Action> exit(long workerId, int code) {
        running.remove(workerId);
        return send(new Event.Exited(workerId, code < 0 ? WorkerExit.UNKNOWN : new WorkerExit.Code(code)));
    }

    List<Action> command(long requestId, Event.Request r) {
        return send(new Event.Command(requestId, r));
    }

    /** READY=1 from every running worker but the spares (slot 0), which say HELD instead (see {@link #holdSpares}). */
    void readyAll() {
        for (long id : List.copyOf(running.keySet())) {
            if (slotOf.get(id) != 0) {
                send(new Event.Ready(id));
            }
        }
    }

    /** Every unpromoted spare reaches its hold; returns their ids. */
    List<Long> holdSpares() {
        List<Long> ids = new ArrayList<>();
        for (long id : List.copyOf(running.keySet())) {
            if (slotOf.get(id) == 0) {
                send(new Event.Held(id));
                ids.add(id);
            }
        }
        return ids;
    }

    /** Plays workers that obey SIGTERM/SIGKILL: every signalled worker exits. */
    List<Action> obeySignals(List<Action> actions) {
        List<Action> produced = new ArrayList<>();
        for (Action a : actions) {
            if (a instanceof Action.SignalGroup s && (s.signal() == Signal.TERM || s.signal() == Signal.KILL)
                    && running.containsKey(s.workerId())) {
                produced.addAll(exit(s.workerId(), s.signal() == Signal.TERM ? 0 : -1));
            }
        }
        return produced;
    }

    static <T extends Action> List<T> of(List<Action> actions, Class<T> type) {
        return actions.stream().filter(type::isInstance).map(type::cast).collect(Collectors.toList());
    }

    static List<Notice> notifications(List<Action> actions) {
        return of(actions, Action.Notify.class).stream().map(Action.Notify::notice).collect(Collectors.toList());
    }

    long workerInSlot(int slot) {
        return slotOf.entrySet().stream()
                .filter(e -> e.getValue() == slot && running.containsKey(e.getKey()))
                .mapToLong(Map.Entry::getKey).max().orElseThrow();
    }

    ClusterSnapshot snapshot() {
        return master.snapshot(1, now, 1_000_000L + now);
    }
}
