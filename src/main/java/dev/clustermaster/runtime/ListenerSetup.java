package dev.clustermaster.runtime;

import dev.clustermaster.config.Config;

import java.util.List;
import java.util.Map;

/** Opens the listening sockets the workers share: from systemd socket activation, else bound from the config. */
final class ListenerSetup {
    private ListenerSetup() {
    }

    static List<InheritedSocket> open(Config config, Map<String, String> env, int pid) {
        // replaced once os/ListenSockets lands
        return List.of();
    }

    static void close(List<InheritedSocket> sockets) {
    }
}
