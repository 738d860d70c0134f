package dev.clustermaster.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.TreeSet;

/** What a reload changes: what the rolling restart applies, and what only a restart of the master would. */
public final class ConfigDiff {
    private ConfigDiff() {
    }

    /** Changes applied by a reload, for the log: e.g. "worker command", "size 2 -> 3", "env APP_MODE". */
    public static List<String> applied(Config was, Config now) {
        List<String> out = new ArrayList<>();
        if (!was.workerArgv().equals(now.workerArgv())) {
            out.add("worker command");
        }
        if (was.size() != now.size()) {
            out.add("size " + was.size() + " -> " + now.size());
        }
        if (!was.env().equals(now.env())) {
            TreeSet<String> keys = new TreeSet<>(was.env().keySet());
            keys.addAll(now.env().keySet());
            keys.removeIf(k -> Objects.equals(was.env().get(k), now.env().get(k)));
            out.add("env " + String.join(" ", keys));
        }
        if (!was.policy().equals(now.policy())) {
            out.add("readiness/stop/restart timing");
        }
        if (!readiness(was).equals(readiness(now))) {
            out.add("ready " + readiness(now));
        }
        if (!Objects.equals(was.portBase(), now.portBase())) {
            out.add("port.base " + now.portBase());
        }
        if (was.silent() != now.silent()) {
            out.add("silent " + now.silent());
        }
        return out;
    }

    /**
     * The size a reload applies: the new config's, only when it differs from the last loaded one's. Else none, so an
     * operator's runtime resize (resize, TTIN/TTOU) survives a reload that did not touch {@code size}.
     */
    public static OptionalInt sizeToApply(Config was, Config now) {
        return was.size() == now.size() ? OptionalInt.empty() : OptionalInt.of(now.size());
    }

    /** Settings that a reload cannot change in a running master (they need systemctl restart): their keys. */
    public static List<String> needRestart(Config was, Config now) {
        List<String> out = new ArrayList<>();
        check(out, "name", was.name(), now.name());
        check(out, "max.children", was.maxSize(), now.maxSize());
        check(out, "listen", was.listen(), now.listen());
        check(out, "reuse.port", was.reusePort(), now.reusePort());
        check(out, "runtime.dir", was.runtimeDir(), now.runtimeDir());
        check(out, "repl", was.repl() ? was.replSocket() : null, now.repl() ? now.replSocket() : null);
        check(out, "repl.group", was.replGroup(), now.replGroup());
        check(out, "repl.tcp", was.replTcp(), now.replTcp());
        check(out, "http.port", was.httpPort(), now.httpPort());
        check(out, "http.address", was.httpAddress(), now.httpAddress());
        check(out, "signals", was.signals(), now.signals());
        check(out, "pdeathsig", was.parentDeathSignal(), now.parentDeathSignal());
        return out;
    }

    /** Readiness as text: a Pattern has no equals. */
    private static String readiness(Config c) {
        Readiness r = c.readiness();
        return r.mode().name().toLowerCase(java.util.Locale.ROOT) + (r.logPattern() == null ? "" : ":" + r.logPattern().pattern())
                + (r.probe() == null ? "" : " " + r.probe());
    }

    private static void check(List<String> out, String key, Object was, Object now) {
        if (!Objects.equals(was, now)) {
            out.add(key);
        }
    }
}
