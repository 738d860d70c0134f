package dev.clustermaster.runtime;

import dev.clustermaster.config.Config;
import dev.clustermaster.os.ListenSockets;
import dev.clustermaster.os.ListenSockets.Listener;
import dev.clustermaster.os.ListenSockets.Spec;
import dev.clustermaster.os.SdNotify;
import dev.clustermaster.os.SocketActivation;
import dev.clustermaster.os.SocketActivation.Passed;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Opens the listening sockets the workers share, held by the master for its whole life so a rolling restart
 * never closes them: systemd's socket activation when it passed us any, else the configured addresses.
 * In SO_REUSEPORT mode the master holds nothing and each worker binds the address itself.
 *
 * <p>Under systemd the configured sockets also go to the unit's fd store (FDSTORE=1, named
 * {@value #STORE_PREFIX}NAME), so they outlive the master: a master started after a crash, a kill -9 or a
 * {@code systemctl restart} gets them back in LISTEN_FDS and adopts them before binding anything, and connections
 * made meanwhile wait in the kernel's backlog. A stored socket that no longer matches {@code listen} is closed,
 * dropped from the store (FDSTOREREMOVE=1) and logged, never reused.
 */
final class ListenerSetup {
    private static final Logger log = LoggerFactory.getLogger("dev.clustermaster.master");
    /** FDNAME prefix of the sockets this master stores; other passed fds come from a socket unit. */
    static final String STORE_PREFIX = "cm-listen.";
    /** How long to retry a bind that may collide with a stale stored socket systemd has not closed yet. */
    private static final long REBIND_MILLIS = 3000;

    private ListenerSetup() {
    }

    static List<InheritedSocket> open(Config config, Map<String, String> env, int pid, SdNotify systemd) throws IOException {
        return open(config, SocketActivation.passed(env, pid), systemd);
    }

    /** {@code passed}: the fds systemd passed (socket unit and fd store alike); {@code systemd}: its notify socket. */
    static List<InheritedSocket> open(Config config, List<Passed> passed, SdNotify systemd) throws IOException {
        List<Passed> stored = passed.stream().filter(p -> p.name().startsWith(STORE_PREFIX)).toList();
        List<Passed> activation = passed.stream().filter(p -> !p.name().startsWith(STORE_PREFIX)).toList();
        if (config.reusePort()) {
            // validates the spec now rather than in every worker
            ListenSockets.reusePortEnv(config.listen());
            discard(describeAll(stored), "reuse.port=true: every worker binds the address itself", systemd);
            return List.of();
        }
        List<Listener> activated = SocketActivation.adopt(activation);
        if (!activated.isEmpty()) {
            if (!config.listen().isEmpty()) {
                log.warn("systemd passed {} sockets: ignoring listen={}", activated.size(), config.listen());
            }
            discard(describeAll(stored), "the socket unit passes the sockets", systemd);
            log.info("socket activation: {}", activated.stream().map(l -> l.name() + "=" + l.spec()).toList());
            return activated.stream().map(l -> new InheritedSocket(l.name(), l.spec(), l.fd(), true, true)).toList();
        }
        List<Spec> specs = ListenSockets.parseAll(config.listen());
        List<Listener> candidates = describeAll(stored);
        List<Listener> adopted = new ArrayList<>();
        List<Spec> toBind = new ArrayList<>();
        for (Spec spec : specs) {
            Listener match = candidates.stream().filter(c -> ListenSockets.matches(spec, c.spec())).findFirst().orElse(null);
            if (match == null) {
                toBind.add(spec);
            } else {
                candidates.remove(match);
                adopted.add(new Listener(spec.name(), match.spec(), match.fd()));
            }
        }
        boolean discarded = discard(candidates, "listen= no longer asks for it", systemd);
        if (!adopted.isEmpty()) {
            log.info("adopted from systemd's fd store: {}", adopted.stream().map(l -> l.name() + "=" + l.spec()).toList());
        }
        List<InheritedSocket> out = new ArrayList<>();
        List<Listener> bound = new ArrayList<>();
        try {
            for (Spec spec : specs) {
                Listener a = adopted.stream().filter(l -> l.name().equals(spec.name())).findFirst().orElse(null);
                if (a == null) {
                    a = bind(spec, discarded);
                    bound.add(a);
                }
                boolean kept = store(a, systemd);
                out.add(new InheritedSocket(a.name(), a.spec(), a.fd(), kept, false));
            }
        } catch (IOException | RuntimeException e) {
            ListenSockets.close(bound);
            ListenSockets.close(adopted, false);
            throw e;
        }
        if (!bound.isEmpty()) {
            log.info("listening on {}", bound.stream().map(Listener::spec).toList());
        }
        return out;
    }

    /** Extra worker environment: PORT/HOST for SO_REUSEPORT mode, nothing otherwise. */
    static Map<String, String> workerEnv(Config config) {
        return config.reusePort() ? ListenSockets.reusePortEnv(config.listen()) : Map.of();
    }

    /** Closes the sockets; unix socket files are removed only if systemd holds no copy of the socket. */
    static void close(List<InheritedSocket> sockets) {
        close(sockets, true);
    }

    /** {@code removeFiles} false: a master that handed its sockets to the next one leaves every socket file. */
    static void close(List<InheritedSocket> sockets, boolean removeFiles) {
        List<Listener> ours = sockets.stream().filter(s -> removeFiles && !s.fromSystemd())
                .map(s -> new Listener(s.name(), s.spec(), s.fd())).toList();
        List<Listener> systemds = sockets.stream().filter(s -> !removeFiles || s.fromSystemd())
                .map(s -> new Listener(s.name(), s.spec(), s.fd())).toList();
        ListenSockets.close(ours, true);
        ListenSockets.close(systemds, false);
    }

    /**
     * Hands the socket to the fd store; true if sent (then systemd holds a copy and the socket file must stay:
     * the next master adopts it). Resending a socket systemd already holds is harmless: it drops duplicates.
     */
    private static boolean store(Listener l, SdNotify systemd) {
        if (!systemd.enabled()) {
            return false;
        }
        String name = STORE_PREFIX + l.name();
        if (!SdNotify.isValidFdName(name)) {
            log.warn("listener {} not kept in systemd's fd store: name too long for FDNAME", l.name());
            return false;
        }
        return systemd.storeFds(name, l.fd());
    }

    /** Stored fds as listeners; an fd that is not a listening stream socket is closed, dropped and logged. */
    private static List<Listener> describeAll(List<Passed> stored) {
        List<Listener> out = new ArrayList<>();
        for (Passed p : stored) {
            try {
                out.addAll(SocketActivation.adopt(List.of(p)));
            } catch (IOException e) {
                out.add(new Listener(p.name(), "unusable (" + e.getMessage() + ")", p.fd()));
            }
        }
        return out;
    }

    /** Closes stale stored sockets and removes them from the fd store; true if there were any. */
    private static boolean discard(List<Listener> stale, String why, SdNotify systemd) {
        for (Listener l : stale) {
            log.warn("closing stored socket {} ({}) from systemd's fd store: {}", l.name(), l.spec(), why);
            ListenSockets.close(List.of(l), false);
            if (systemd.enabled()) {
                systemd.removeStoredFds(l.name());
            }
        }
        return !stale.isEmpty();
    }

    /**
     * Binds, retrying "Address already in use" for a while when a stale stored socket was just dropped: systemd
     * closes its copy only once it has read our FDSTOREREMOVE=1.
     */
    private static Listener bind(Spec spec, boolean staleDropped) throws IOException {
        long deadline = System.nanoTime() + REBIND_MILLIS * 1_000_000;
        while (true) {
            try {
                return ListenSockets.bind(spec);
            } catch (IOException e) {
                if (!staleDropped || System.nanoTime() > deadline || !String.valueOf(e.getMessage()).contains("in use")) {
                    throw e;
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }
}
