package dev.clustermaster.config;

import dev.clustermaster.os.Executables;
import dev.clustermaster.os.ListenSockets;
import dev.clustermaster.os.Users;

import java.util.List;
import java.util.Map;

/**
 * Worker settings that would only fail once a worker is spawned (and then again and again, as a crash loop that
 * looks alive) are refused when the master starts, each with one line: the setting, the cause, the fix.
 */
final class StartChecks {
    private StartChecks() {}

    static void check(List<String> exec, String javaBin, boolean javaWorker, Map<String, String> env,
                      List<String> listen, boolean reusePort) {
        env.keySet().forEach(StartChecks::checkEnvName);
        String path = env.containsKey("PATH") ? env.get("PATH") : System.getenv("PATH");
        if (javaWorker) {
            Executables.problem(javaBin, path).ifPresent(why -> {
                throw new ConfigException("java: cannot run '" + javaBin + "': " + why
                        + "; run the master with a working JDK (JAVA_HOME)");
            });
        } else if (!exec.isEmpty()) {
            String cmd = exec.get(0);
            Executables.problem(cmd, path).ifPresent(why -> {
                throw new ConfigException("exec: cannot run '" + cmd + "': " + why + (cmd.indexOf('/') >= 0
                        ? "; fix the path or its mode (--exec / exec=)"
                        : " (searched PATH=" + path + "); give an absolute path or a program in PATH (--exec / exec=, "
                                + "or --env PATH=...)"));
            });
        }
        for (String spec : listen) {
            try {
                ListenSockets.parse(spec);
            } catch (IllegalArgumentException e) {
                throw new ConfigException("listen: " + e.getMessage() + "; fix --listen / listen=");
            }
        }
        if (reusePort) {
            try {
                ListenSockets.reusePortEnv(listen);
            } catch (IllegalArgumentException e) {
                throw new ConfigException("reuse.port: " + e.getMessage() + "; fix --listen or drop --reuse-port");
            }
        }
    }

    /** A group the control socket and the HTTP port would admit: a typo must not start workers, then fail. */
    static void checkGroup(String replGroup) {
        if (replGroup != null && Users.group(replGroup).isEmpty()) {
            throw new ConfigException("repl.group: no group '" + replGroup + "' on this host; fix --repl-group / repl.group= "
                    + "or create the group (groupadd " + replGroup + ")");
        }
    }

    private static void checkEnvName(String name) {
        if (name == null || name.isEmpty() || name.indexOf('=') >= 0 || name.indexOf('\0') >= 0) {
            throw new ConfigException("env: bad variable name '" + name + "': a name must be non-empty, without '='; "
                    + "give --env NAME=VALUE / env.NAME=VALUE");
        }
    }
}
