package dev.clustermaster.runtime;

import dev.clustermaster.core.Action;
import dev.clustermaster.core.ClusterSnapshot;
import dev.clustermaster.core.Event;
import dev.clustermaster.core.Master;
import dev.clustermaster.os.ExitStatus;
import dev.clustermaster.os.Monotonic;
import dev.clustermaster.os.NotifyMessages;
import dev.clustermaster.os.ProcStats;
import dev.clustermaster.os.ProcessGroups;
import dev.clustermaster.os.Reaper;
import dev.clustermaster.os.SdNotify;
import dev.clustermaster.os.Signals;
import dev.clustermaster.worker.IpcFrame;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * The loop-thread side of the master: feeds events to the pure {@link Master} and carries out its actions
 * on real processes. Every method runs on the event loop thread only.
 */
final class Supervisor {
    private static final Logger log = LoggerFactory.getLogger("dev.clustermaster.master");

    private final Master master;
    private final WorkerLauncher launcher;
    private final SdNotify sdNotify;
    private final Reaper reaper = new Reaper();
    private final Consumer<Action.Reply> replies;
    private final IntConsumer onExit;
    private final int masterPid;
    private final Map<Long, WorkerHandle> handles = new HashMap<>();
    private final Map<Integer, Long> workerByPid = new HashMap<>();
    /** Spawns in flight at once in a mass spawn. */
    private static final int SPAWN_THREADS = 4;
    private ExecutorService spawnPool;
    private volatile ClusterSnapshot snapshot;
    private final List<Action.Reply> heldReplies = new java.util.ArrayList<>();
    private boolean exited;

    Supervisor(Master master, WorkerLauncher launcher, SdNotify sdNotify, int masterPid,
               Consumer<Action.Reply> replies, IntConsumer onExit) {
        this.master = master;
        this.launcher = launcher;
        this.sdNotify = sdNotify;
        this.masterPid = masterPid;
        this.replies = replies;
        this.onExit = onExit;
        this.snapshot = master.snapshot(masterPid, nowMillis(), System.currentTimeMillis());
    }

    /** Handles one event and everything it leads to (a spawn answers with Spawned or SpawnFailed at once). */
    void dispatch(Event first) {
        if (exited) {
            return;
        }
        if (first instanceof Event.Ready r && handles.containsKey(r.workerId())) {
            launcher.ready(r.workerId(), handles.get(r.workerId()).pid);
        }
        Deque<Event> events = new ArrayDeque<>();
        events.add(first);
        while (!events.isEmpty()) {
            List<Action> actions = master.handle(events.poll(), nowMillis());
            for (int i = 0; i < actions.size(); ) {
                int end = i;
                while (end < actions.size() && actions.get(end) instanceof Action.Spawn) {
                    end++;
                }
                if (end - i > 1) {
                    spawnAll(actions.subList(i, end), events);
                    i = end;
                } else {
                    execute(actions.get(i++), events);
                }
            }
        }
        publish();
    }

    /** New snapshot first, then the answers: whoever reads an answer sees the state that produced it. */
    private void publish() {
        snapshot = master.snapshot(masterPid, nowMillis(), System.currentTimeMillis());
        List<Action.Reply> answers = List.copyOf(heldReplies);
        heldReplies.clear();
        answers.forEach(replies);
    }

    /**
     * At a deadline: lets it fire. Reaps first, a cheap re-check in case a SIGCHLD went missing (its trap failed
     * or something reset it); exits are otherwise collected on SIGCHLD alone.
     */
    void tick() {
        reap();
        dispatch(new Event.Tick());
    }

    /** When {@link #tick} next has something to do, in monotonic millis; {@link EventLoop#NONE} for never. */
    long nextDeadline() {
        return exited ? EventLoop.NONE : master.nextDeadline().orElse(EventLoop.NONE);
    }

    void reap() {
        if (workerByPid.isEmpty()) {
            return;
        }
        Map<Integer, ExitStatus> exits = reaper.reap(List.copyOf(workerByPid.keySet()));
        exits.forEach((pid, status) -> {
            Long workerId = workerByPid.remove(pid);
            if (workerId != null) {
                dispatch(new Event.Exited(workerId, status.toWorkerExit()));
            }
        });
    }

    /**
     * After a fatal error: asks every worker's group to stop (SIGTERM, as if the master had died) and forgets
     * them, without consulting the core, whose state is no longer trusted.
     */
    void abandon() {
        exited = true;
        for (WorkerHandle h : handles.values()) {
            try {
                ProcessGroups.signalGroup(h.pid, Signals.SIGTERM);
                h.close();
            } catch (RuntimeException e) {
                log.debug("abandoning worker {}: {}", h.workerId, e.toString());
            }
        }
        handles.clear();
        workerByPid.clear();
    }

    ClusterSnapshot snapshot() {
        return snapshot;
    }

    boolean healthy() {
        return master.healthy();
    }

    /** Sends one IPC frame to every live worker. */
    int broadcast(IpcFrame frame) {
        int sent = 0;
        for (WorkerHandle h : handles.values()) {
            if (h.channel.send(frame.encode())) {
                sent++;
            }
        }
        return sent;
    }

    /** Writes one line to a worker's IPC channel, if it is still there. */
    void reply(long workerId, String line) {
        WorkerHandle h = handles.get(workerId);
        if (h != null) {
            h.channel.send(line);
        }
    }

    /**
     * Several spawns at once (start, resize): each posix_spawn blocks until its child execs, which on a busy machine
     * means waiting for the scheduler to run the child; the spawn calls overlap on a few threads while everything
     * else (sockets, fds, handles, events in order) stays on the loop.
     */
    private void spawnAll(List<Action> spawns, Deque<Event> events) {
        List<WorkerLauncher.Prepared> prepared = new ArrayList<>();
        for (Action a : spawns) {
            Action.Spawn s = (Action.Spawn) a;
            try {
                prepared.add(launcher.prepare(s.workerId(), s.slot(), s.restarts()));
            } catch (IOException | RuntimeException e) {
                events.add(new Event.SpawnFailed(s.workerId(), e.getMessage()));
            }
        }
        List<Future<Integer>> pids = new ArrayList<>();
        for (WorkerLauncher.Prepared p : prepared) {
            pids.add(spawnPool().submit(() -> launcher.spawn(p)));
        }
        for (int i = 0; i < prepared.size(); i++) {
            WorkerLauncher.Prepared p = prepared.get(i);
            int pid;
            try {
                pid = awaitPid(pids.get(i));
            } catch (IOException | RuntimeException e) {
                p.abort();
                events.add(new Event.SpawnFailed(p.workerId, e.getMessage()));
                continue;
            }
            WorkerHandle h = launcher.start(p, pid);
            handles.put(p.workerId, h);
            workerByPid.put(pid, p.workerId);
            events.add(new Event.Spawned(p.workerId, pid));
        }
    }

    private static int awaitPid(Future<Integer> f) throws IOException {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return f.get();
                } catch (InterruptedException e) {
                    interrupted = true;  // the child may already run: its pid must still be known
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof IOException io) {
                        throw io;
                    }
                    throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Made at the first mass spawn; its threads never end: PR_SET_PDEATHSIG (setpriv) fires when the thread that
     * spawned a worker exits, not the process, so a pool thread timing out would SIGTERM the workers it started.
     */
    private ExecutorService spawnPool() {
        if (spawnPool == null) {
            AtomicInteger n = new AtomicInteger();
            spawnPool = Executors.newFixedThreadPool(SPAWN_THREADS, r -> {
                Thread t = new Thread(r, "cm-spawn-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
        }
        return spawnPool;
    }

    private void execute(Action action, Deque<Event> events) {
        if (action instanceof Action.Spawn s) {
            try {
                WorkerHandle h = launcher.launch(s.workerId(), s.slot(), s.restarts());
                handles.put(s.workerId(), h);
                workerByPid.put(h.pid, s.workerId());
                events.add(new Event.Spawned(s.workerId(), h.pid));
            } catch (IOException | RuntimeException e) {
                events.add(new Event.SpawnFailed(s.workerId(), e.getMessage()));
            }
        } else if (action instanceof Action.Promote p) {
            WorkerHandle h = handles.get(p.workerId());
            if (h != null) {
                h.onPromoted.accept(p.slot());
            }
            if (h != null && !h.channel.send(new IpcFrame(IpcFrame.Kind.PROMOTE, 0, p.slot() + " " + p.restarts()).encode())) {
                log.warn("could not promote spare worker pid {}: its IPC channel is closed", p.pid());
            }
        } else if (action instanceof Action.StopSpare s) {
            WorkerHandle h = handles.get(s.workerId());
            if (h != null && !h.channel.send(new IpcFrame(IpcFrame.Kind.STOP, 0, "").encode())) {
                log.debug("spare worker pid {}: its IPC channel is closed, the stop signal alone stops it", s.pid());
            }
        } else if (action instanceof Action.SignalGroup s) {
            ProcessGroups.signalGroup(s.pid(), Signals.number(s.signal()));
        } else if (action instanceof Action.SignalProcess s) {
            ProcessGroups.signalProcess(s.pid(), Signals.number(s.signal()));
        } else if (action instanceof Action.SampleUsage) {
            for (WorkerHandle h : handles.values()) {
                ProcStats.sample(h.pid).ifPresent(sample -> events.add(new Event.Usage(h.workerId, sample.rssBytes())));
            }
        } else if (action instanceof Action.Forget f) {
            WorkerHandle h = handles.remove(f.workerId());
            if (h != null) {
                workerByPid.remove(h.pid);
                h.close();
            }
        } else if (action instanceof Action.Notify n) {
            sdNotify.send(NotifyMessages.text(n.notice(), Monotonic.nowMicros()));
        } else if (action instanceof Action.Log l) {
            switch (l.level()) {
                case DEBUG -> log.debug(l.message());
                case INFO -> log.info(l.message());
                case WARN -> log.warn(l.message());
                case ERROR -> log.error(l.message());
            }
        } else if (action instanceof Action.Reply r) {
            heldReplies.add(r);
        } else if (action instanceof Action.ExitMaster e) {
            exited = true;
            for (WorkerHandle h : handles.values()) {
                h.close();
            }
            handles.clear();
            publish();
            onExit.accept(e.code());
        }
    }

    private static long nowMillis() {
        return EventLoop.nowMillis();
    }
}
