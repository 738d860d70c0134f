package dev.clustermaster.runtime;

import dev.clustermaster.config.Config;
import dev.clustermaster.os.ListenSockets;
import dev.clustermaster.os.SocketActivation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Opens the listening sockets the workers share, held by the master for its whole life so a rolling restart
 * never closes them: systemd's socket activation when it passed us any, else the configured addresses.
 * In SO_REUSEPORT mode the master holds nothing and each worker binds the address itself.
 */
final class ListenerSetup {
    private static final Logger log = LoggerFactory.getLogger("dev.clustermaster.master");

    private ListenerSetup() {
    }

    static List<InheritedSocket> open(Config config, Map<String, String> env, int pid) throws IOException {
        if (config.reusePort()) {
            // validates the spec now rather than in every worker
            ListenSockets.reusePortEnv(config.listen());
            return List.of();
        }
        List<ListenSockets.Listener> activated = SocketActivation.inherit(env, pid);
        if (!activated.isEmpty()) {
            if (!config.listen().isEmpty()) {
                log.warn("systemd passed {} sockets: ignoring listen={}", activated.size(), config.listen());
            }
            log.info("socket activation: {}", activated.stream().map(l -> l.name() + "=" + l.spec()).toList());
            return toInherited(activated, true);
        }
        if (config.listen().isEmpty()) {
            return List.of();
        }
        List<ListenSockets.Listener> bound = ListenSockets.bind(config.listen());
        log.info("listening on {}", bound.stream().map(ListenSockets.Listener::spec).toList());
        return toInherited(bound, false);
    }

    /** Extra worker environment: PORT/HOST for SO_REUSEPORT mode, nothing otherwise. */
    static Map<String, String> workerEnv(Config config) {
        return config.reusePort() ? ListenSockets.reusePortEnv(config.listen()) : Map.of();
    }

    /** Closes the sockets; unix socket files are removed only if we bound them (systemd owns its own). */
    static void close(List<InheritedSocket> sockets) {
        List<ListenSockets.Listener> ours = sockets.stream().filter(s -> !s.fromSystemd())
                .map(s -> new ListenSockets.Listener(s.name(), s.spec(), s.fd())).toList();
        List<ListenSockets.Listener> systemds = sockets.stream().filter(InheritedSocket::fromSystemd)
                .map(s -> new ListenSockets.Listener(s.name(), s.spec(), s.fd())).toList();
        ListenSockets.close(ours, true);
        ListenSockets.close(systemds, false);
    }

    private static List<InheritedSocket> toInherited(List<ListenSockets.Listener> listeners, boolean fromSystemd) {
        return listeners.stream().map(l -> new InheritedSocket(l.name(), l.spec(), l.fd(), fromSystemd)).toList();
    }
}
