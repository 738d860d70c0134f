package dev.clustermaster.runtime;

import dev.clustermaster.config.Config;
import dev.clustermaster.control.ControlApi;

import java.io.Closeable;
import java.io.IOException;
import java.util.List;

/** Starts the control socket (REPL) and the optional HTTP status port for a master. */
final class ControlSurfaces {
    private ControlSurfaces() {
    }

    static List<Closeable> start(Config config, ControlApi api) throws IOException {
        return List.of();
    }
}
