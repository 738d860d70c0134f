package dev.clustermaster.runtime;

import dev.clustermaster.config.Config;
import dev.clustermaster.config.ConfigException;
import dev.clustermaster.control.ControlApi;
import dev.clustermaster.control.ControlServer;
import dev.clustermaster.control.ControlServerOptions;
import dev.clustermaster.control.HttpStatusServer;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/** Starts the control socket (REPL, ctl) and the optional HTTP status port of a master. */
final class ControlSurfaces {
    private ControlSurfaces() {
    }

    /**
     * What {@link #start} opened: what to close when the master exits, and the bound HTTP status address
     * (null when off), which has the real port when port 0 was asked for.
     */
    record Started(List<Closeable> resources, InetSocketAddress httpAddress, Closeable http) {
    }

    static Started start(Config config, ControlApi api) throws IOException {
        InetSocketAddress httpAddress = null;
        Closeable httpServer = null;
        List<Closeable> started = new ArrayList<>();
        try {
            ControlServer server = startRepl(config, api);
            if (server != null) {
                started.add(server::close);
            }
            if (config.httpPort() != null) {
                HttpStatusServer http = HttpStatusServer.start(api, config.httpAddress(), config.httpPort(),
                        HttpStatusServer.Options.defaults().withGroup(config.replGroup()));
                started.add(http::close);
                httpServer = http::close;
                httpAddress = http.address();
            }
            return new Started(List.copyOf(started), httpAddress, httpServer);
        } catch (IOException | RuntimeException e) {
            for (Closeable c : started) {
                c.close();
            }
            throw e;
        }
    }

    /** The control socket (and repl.tcp) alone; null when both are off. */
    static ControlServer startRepl(Config config, ControlApi api) throws IOException {
        if (!config.repl() && config.replTcp() == null) {
            return null;
        }
        ControlServerOptions.Builder options = ControlServerOptions.builder();
        if (config.repl()) {
            options.socketPath(config.replSocket());
        }
        if (config.replGroup() != null) {
            options.group(config.replGroup());
        }
        if (config.replTcp() != null) {
            String spec = config.replTcp();
            int colon = spec.lastIndexOf(':');
            try {
                options.tcp(colon > 0 ? spec.substring(0, colon) : "127.0.0.1", Integer.parseInt(spec.substring(colon + 1)));
            } catch (NumberFormatException e) {
                throw new ConfigException("repl.tcp: expected HOST:PORT, got '" + spec + "'");
            }
        }
        return ControlServer.start(api, options.build());
    }
}
