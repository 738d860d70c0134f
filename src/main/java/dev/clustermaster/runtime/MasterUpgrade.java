package dev.clustermaster.runtime;

import dev.clustermaster.config.Config;
import dev.clustermaster.os.NotifyListener;
import dev.clustermaster.os.Pipe;
import dev.clustermaster.os.ProcessGroups;
import dev.clustermaster.os.ProcessSpawner;
import dev.clustermaster.os.Reaper;
import dev.clustermaster.os.SdNotify;
import dev.clustermaster.os.SocketActivation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Moves the master to new code without closing a port (the old master's side; {@link UpgradeHandover} is the
 * new one's). The old master runs its own command line again ({@code /proc/self/cmdline}: after a package upgrade
 * that is the new jar) with the listening sockets at fds 3.. (LISTEN_FDS, named as in the fd store, so a changed
 * {@code listen=} is honoured) and NOTIFY_SOCKET pointing at a private socket of the old master. The new master
 * reads the config afresh and starts its own workers on the same sockets while the old workers keep serving. Once
 * it reports READY=1, the old master tells systemd MAINPID=new, lets the new master talk to systemd, and quits
 * gracefully: its workers drain. If the new master exits or is not ready in time, it is killed and the old master
 * keeps serving; the reply says why. All methods run on the event loop; the watcher thread only enqueues.
 */
final class MasterUpgrade {
    private static final Logger log = LoggerFactory.getLogger("dev.clustermaster.master");
    private static final long POLL_MILLIS = 100;
    /**
     * The new master is started by a shell that backgrounds it and exits, so it is reparented to the service manager
     * at once (systemd is PID 1 or a subreaper) and systemd, told MAINPID=, supervises it as its own child. A
     * child of this master stays "not our child" to systemd after this one exits, and systemd stops such a main
     * process by SIGKILL to the whole unit at once (KillMode=mixed waits only for a main process it can reap).
     * The shell prints the new master's pid (LISTEN_PID is its own pid, exec keeps it) on fd %1$d.
     */
    private static final String LAUNCH = "sh -c 'LISTEN_PID=$$; export LISTEN_PID; exec \"$@\"' sh \"$@\" %1$d>&- & echo $! >&%1$d";

    /** What the master does around an upgrade: free and restore what only one master can hold, then quit. */
    interface Host {
        /** Before spawning: release what the new master must bind itself (the HTTP status port). */
        void releaseForUpgrade();

        /** After a failed upgrade: take back what {@link #releaseForUpgrade} released, and the control socket path. */
        void restoreAfterFailedUpgrade();

        /** After the handover: stop notifying systemd and quit gracefully, keeping socket files. */
        void handedOver(int newPid);

        void submit(Runnable task);
    }

    private final Config config;
    private final List<InheritedSocket> sockets;
    private final int pid;
    private final Host host;
    private final SdNotify systemd;
    private final Map<String, String> env;
    private Attempt attempt;

    MasterUpgrade(Config config, List<InheritedSocket> sockets, int pid, SdNotify systemd, Map<String, String> env, Host host) {
        this.config = config;
        this.sockets = sockets;
        this.pid = pid;
        this.systemd = systemd;
        this.env = env;
        this.host = host;
    }

    boolean running() {
        return attempt != null;
    }

    void start(CompletableFuture<String> reply) {
        if (attempt != null) {
            reply.completeExceptionally(new IllegalStateException("an upgrade is already running (new master pid " + attempt.pid + ")"));
            return;
        }
        if (config.replTcp() != null) {
            reply.completeExceptionally(new IllegalStateException(
                    "upgrade needs repl.tcp unset (the new master cannot bind it while this one holds it): use systemctl restart"));
            return;
        }
        try {
            attempt = new Attempt(reply);
        } catch (IOException | RuntimeException e) {
            log.error("upgrade failed: {}; this master keeps serving", e.getMessage());
            host.restoreAfterFailedUpgrade();
            reply.completeExceptionally(new IllegalStateException("upgrade failed: " + e.getMessage() + "; the old master keeps serving"));
        }
    }

    private final class Attempt {
        final CompletableFuture<String> reply;
        final NotifyListener listener;
        final Pipe pipe;
        final int pid;
        /** The new master's process group: its launcher shell's pid. */
        final int pgid;
        final long deadline;
        volatile boolean done;

        Attempt(CompletableFuture<String> reply) throws IOException {
            this.reply = reply;
            List<String> command = ownCommandLine();
            Path notifyPath = config.runtimeDir().resolve("upgrade-" + MasterUpgrade.this.pid + ".sock");
            this.listener = NotifyListener.bind(notifyPath, msg -> host.submit(() -> onMessage(msg)));
            this.pipe = Pipe.open();
            Map<String, String> childEnv = new HashMap<>(SocketActivation.withoutActivationEnv(env));
            childEnv.keySet().removeAll(List.of(UpgradeHandover.FD, UpgradeHandover.SYSTEMD_SOCKET, UpgradeHandover.FROM));
            Map<Integer, Integer> fds = new HashMap<>();
            List<String> names = new ArrayList<>();
            for (InheritedSocket s : sockets) {
                fds.put(SocketActivation.FIRST_FD + names.size(), s.fd());
                names.add(s.activated() ? s.name() : ListenerSetup.STORE_PREFIX + s.name());
            }
            int pipeFd = SocketActivation.FIRST_FD + names.size();
            fds.put(pipeFd, pipe.readFd());
            int pidFd = pipeFd + 1;
            List<String> argv = new ArrayList<>(List.of("/bin/sh", "-c", String.format(LAUNCH, pidFd), "sh"));
            argv.addAll(command);
            if (!names.isEmpty()) {
                childEnv.put(SocketActivation.LISTEN_FDS, Integer.toString(names.size()));
                childEnv.put(SocketActivation.LISTEN_FDNAMES, String.join(":", names));
            }
            childEnv.put("NOTIFY_SOCKET", listener.path().toString());
            childEnv.put(UpgradeHandover.SYSTEMD_SOCKET, UpgradeHandover.systemdSocket(env));
            childEnv.put(UpgradeHandover.FD, Integer.toString(pipeFd));
            childEnv.put(UpgradeHandover.FROM, Integer.toString(MasterUpgrade.this.pid));
            host.releaseForUpgrade();
            try (Pipe pidPipe = Pipe.open()) {
                fds.put(pidFd, pidPipe.writeFd());
                this.pgid = new ProcessSpawner().spawn(argv, childEnv, fds);
                pidPipe.closeWriteEnd();
                String said = Pipe.readToEof(pidPipe.detachReadFd(), 32).trim();
                new Reaper().await(pgid);
                try {
                    this.pid = Integer.parseInt(said);
                } catch (NumberFormatException e) {
                    throw new IOException("the new master's launcher shell printed '" + said + "', not its pid");
                }
            } catch (IOException | RuntimeException e) {
                listener.close();
                pipe.close();
                throw e;
            }
            pipe.closeReadEnd();
            // ready.timeout for its workers, plus a JVM start
            this.deadline = System.nanoTime() + (config.policy().readyTimeoutMillis() + 60_000L) * 1_000_000L;
            log.info("upgrade: started a new master (pid {}): {}", pid, String.join(" ", argv.subList(4, argv.size())));
            Thread watcher = new Thread(this::watch, "cm-upgrade-watch");
            watcher.setDaemon(true);
            watcher.start();
        }

        /** Notices the new master's exit before the handover (no child of ours: no status); enqueues it or the timeout. */
        private void watch() {
            while (!done) {
                if (!ProcessGroups.running(pid)) {
                    host.submit(() -> failed("the new master (pid " + pid + ") ended before it was ready", false));
                    return;
                }
                if (System.nanoTime() > deadline) {
                    host.submit(() -> failed("the new master (pid " + pid + ") was not ready in time", true));
                    return;
                }
                try {
                    Thread.sleep(POLL_MILLIS);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        private void onMessage(Map<String, String> msg) {
            if (done || !"1".equals(msg.get("READY"))) {
                return;
            }
            done = true;
            systemd.send("MAINPID=" + pid + "\nSTATUS=upgraded: new master " + pid + ", old master " + MasterUpgrade.this.pid + " draining");
            pipe.close();   // the new master now talks to systemd itself
            listener.close();
            log.info("upgrade: new master {} is ready and systemd's main pid; this master ({}) drains its workers and exits",
                    pid, MasterUpgrade.this.pid);
            reply.complete("upgraded: master " + MasterUpgrade.this.pid + " -> " + pid + "; the old workers drain");
            host.handedOver(pid);
        }

        private void failed(String why, boolean kill) {
            if (done) {
                return;
            }
            done = true;
            if (kill) {
                ProcessGroups.signalGroup(pgid, 9);
            }
            pipe.close();
            listener.close();
            attempt = null;
            log.error("upgrade failed: {} (its log lines above say why); this master keeps serving", why);
            host.restoreAfterFailedUpgrade();
            reply.completeExceptionally(new IllegalStateException("upgrade failed: " + why + "; the old master keeps serving"));
        }
    }

    /** This process's argv: after a package upgrade the same java -jar path is the new code. */
    private static List<String> ownCommandLine() throws IOException {
        byte[] raw = Files.readAllBytes(Path.of("/proc/self/cmdline"));
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < raw.length; i++) {
            if (raw[i] == 0) {
                out.add(new String(raw, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        if (out.isEmpty()) {
            throw new IOException("cannot read this master's command line from /proc/self/cmdline");
        }
        return out;
    }
}
