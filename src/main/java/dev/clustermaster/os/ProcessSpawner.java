package dev.clustermaster.os;

import java.io.IOException;
import java.lang.ref.Reference;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import jnr.ffi.Pointer;
import jnr.ffi.byref.IntByReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts children with posix_spawnp. Each child: leads a new process group, has an empty signal mask and default
 * dispositions (a JVM thread blocks SIGQUIT and the JVM may have inherited ignored signals; neither must reach a
 * worker), and sees only fds 0-2 plus the mapped ones.
 */
public final class ProcessSpawner {
    private static final Logger log = LoggerFactory.getLogger(ProcessSpawner.class);

    /** Fds beyond the highest open one that the fallback closes too (see fallbackCloseEnd). */
    static final int FALLBACK_HEADROOM = 1024;

    /** null until probed: glibc >= 2.34 has posix_spawn_file_actions_addclosefrom_np. */
    private static volatile Boolean closeFromAvailable;

    private final boolean useCloseFrom;

    public ProcessSpawner() {
        this(true);
    }

    /** Tests pass false to exercise the close-range fallback used when glibc lacks closefrom_np. */
    ProcessSpawner(boolean useCloseFrom) {
        this.useCloseFrom = useCloseFrom;
    }

    /** Starts a worker as {@code options} say: trampolines, environment, descriptors. */
    public int spawn(LaunchOptions options) throws SpawnException {
        return spawn(options.argv(), options.env(), options.fds());
    }

    /**
     * Spawns argv (argv[0] searched in PATH of the master).
     * @param env the child's complete environment; null means inherit the master's
     * @param childFds target fd in the child -> fd in the master to put there; may be null or empty
     * @return the child's pid (also its process group id)
     */
    public int spawn(List<String> argv, Map<String, String> env, Map<Integer, Integer> childFds) throws SpawnException {
        String cmd = validate(argv, env, childFds);
        TreeMap<Integer, Integer> fds = new TreeMap<>(childFds == null ? Map.of() : childFds);
        Libc.Api c = Libc.api();
        List<Object> keepAlive = new ArrayList<>();
        List<Integer> temps = new ArrayList<>();
        Pointer fa = Libc.alloc(Libc.FILE_ACTIONS_SIZE);
        Pointer attr = Libc.alloc(Libc.SPAWNATTR_SIZE);
        boolean faInit = false;
        boolean attrInit = false;
        try {
            int maxTarget = fds.isEmpty() ? 2 : Math.max(2, fds.lastKey());
            // Copy every source above all targets first: makes permutations (3->5, 5->3) and target == source safe,
            // because each dup2 then has src != dst and therefore clears FD_CLOEXEC on the target.
            for (Map.Entry<Integer, Integer> e : fds.entrySet()) {
                int tmp = c.fcntl(e.getValue(), Libc.F_DUPFD_CLOEXEC, maxTarget + 1);
                if (tmp < 0) {
                    int err = Libc.errno();
                    throw new SpawnException("cannot spawn " + cmd + ": fd " + e.getValue() + " for child fd "
                            + e.getKey() + ": " + Libc.strerror(err), err);
                }
                temps.add(tmp);
            }
            check(cmd, c.posix_spawn_file_actions_init(fa));
            faInit = true;
            addFileActions(cmd, fa, fds, temps, maxTarget);
            check(cmd, c.posix_spawnattr_init(attr));
            attrInit = true;
            setAttributes(cmd, attr, keepAlive);

            Pointer argvPtr = stringArray(argv, keepAlive);
            Pointer envPtr = stringArray(envList(env), keepAlive);
            IntByReference pid = new IntByReference();
            int rc = c.posix_spawnp(pid, cmd, fa, attr, argvPtr, envPtr);
            Reference.reachabilityFence(keepAlive);
            if (rc != 0) {
                throw new SpawnException("cannot spawn " + cmd + ": " + Libc.strerror(rc), rc);
            }
            int childPid = pid.intValue();
            log.debug("spawned {} as pid {} with fds {}", argv, childPid, fds);
            return childPid;
        } finally {
            if (faInit) {
                c.posix_spawn_file_actions_destroy(fa);
            }
            if (attrInit) {
                c.posix_spawnattr_destroy(attr);
            }
            for (int t : temps) {
                Libc.closeQuietly(t);
            }
            Reference.reachabilityFence(fa);
            Reference.reachabilityFence(attr);
        }
    }

    /** argv[0], once argv, env and the fd map are fit to reach exec. */
    private static String validate(List<String> argv, Map<String, String> env, Map<Integer, Integer> fds) throws SpawnException {
        if (argv == null || argv.isEmpty() || argv.get(0) == null || argv.get(0).isEmpty()) {
            throw new SpawnException("cannot spawn: empty argv", 0);
        }
        String cmd = argv.get(0);
        if (argv.stream().anyMatch(a -> a == null || a.indexOf('\0') >= 0)
                || (env != null && env.entrySet().stream().anyMatch(e -> e.getKey() == null || e.getValue() == null
                        || e.getKey().isEmpty() || e.getKey().indexOf('=') >= 0
                        || (e.getKey() + e.getValue()).indexOf('\0') >= 0))) {
            throw new SpawnException("cannot spawn " + cmd + ": null, NUL byte or bad name in argv/env", 0);
        }
        for (Map.Entry<Integer, Integer> e : (fds == null ? Map.<Integer, Integer>of() : fds).entrySet()) {
            if (e.getKey() == null || e.getKey() < 0 || e.getValue() == null || e.getValue() < 0) {
                throw new SpawnException("cannot spawn " + cmd + ": bad fd mapping " + e, 0);
            }
        }
        return cmd;
    }

    /** The child gets temps at their targets and nothing else above fd 2. */
    private void addFileActions(String cmd, Pointer fa, TreeMap<Integer, Integer> fds, List<Integer> temps, int maxTarget)
            throws SpawnException {
        Libc.Api c = Libc.api();
        int i = 0;
        for (Map.Entry<Integer, Integer> e : fds.entrySet()) {
            check(cmd, c.posix_spawn_file_actions_adddup2(fa, temps.get(i++), e.getKey()));
        }
        boolean closeFrom = useCloseFrom && closeFromSupported();
        int closeTo = closeFrom ? maxTarget : fallbackCloseEnd();
        for (int fd = 3; fd <= closeTo; fd++) {
            if (!fds.containsKey(fd)) {
                check(cmd, c.posix_spawn_file_actions_addclose(fa, fd));
            }
        }
        if (closeFrom) {
            check(cmd, c.posix_spawn_file_actions_addclosefrom_np(fa, maxTarget + 1));
        }
    }

    /** Its own process group, an empty signal mask, every disposition back to default. */
    private static void setAttributes(String cmd, Pointer attr, List<Object> keepAlive) throws SpawnException {
        Libc.Api c = Libc.api();
        Pointer emptySet = Libc.alloc(Libc.SIGSET_SIZE);
        Pointer fullSet = Libc.alloc(Libc.SIGSET_SIZE);
        keepAlive.add(emptySet);
        keepAlive.add(fullSet);
        c.sigemptyset(emptySet);
        // Not sigfillset: it leaves out glibc's internal signals 32/33, which glibc's spawn helper then sets
        // to SIG_IGN in the child, and ignored dispositions survive exec. Listing them resets them too.
        fullSet.putLong(0, ~((1L << (Signals.SIGKILL - 1)) | (1L << (Signals.SIGSTOP - 1))));
        check(cmd, c.posix_spawnattr_setsigmask(attr, emptySet));
        check(cmd, c.posix_spawnattr_setsigdefault(attr, fullSet));
        check(cmd, c.posix_spawnattr_setpgroup(attr, 0));
        check(cmd, c.posix_spawnattr_setflags(attr, (short) (Libc.POSIX_SPAWN_SETPGROUP
                | Libc.POSIX_SPAWN_SETSIGMASK | Libc.POSIX_SPAWN_SETSIGDEF)));
    }

    private static void check(String cmd, int rc) throws SpawnException {
        if (rc != 0) {
            throw new SpawnException("cannot spawn " + cmd + ": posix_spawn setup: " + Libc.strerror(rc), rc);
        }
    }

    private static List<String> envList(Map<String, String> env) {
        Map<String, String> src = env == null ? System.getenv() : env;
        List<String> out = new ArrayList<>(src.size());
        src.forEach((k, v) -> out.add(k + "=" + v));
        return out;
    }

    /** A NULL-terminated char*[] of UTF-8 strings; the backing memory is added to keepAlive. */
    private static Pointer stringArray(List<String> strings, List<Object> keepAlive) {
        int ptrSize = Libc.runtime().addressSize();
        Pointer array = Libc.alloc((strings.size() + 1) * ptrSize);
        keepAlive.add(array);
        for (int i = 0; i < strings.size(); i++) {
            byte[] bytes = strings.get(i).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            Pointer s = Libc.alloc(bytes.length + 1);
            s.put(0, bytes, 0, bytes.length);
            keepAlive.add(s);
            array.putAddress((long) i * ptrSize, s.address());
        }
        return array;
    }

    private static boolean closeFromSupported() {
        Boolean known = closeFromAvailable;
        if (known == null) {
            boolean ok;
            try {
                Pointer probe = Libc.alloc(Libc.FILE_ACTIONS_SIZE);
                Libc.api().posix_spawn_file_actions_init(probe);
                ok = Libc.api().posix_spawn_file_actions_addclosefrom_np(probe, 3) == 0;
                Libc.api().posix_spawn_file_actions_destroy(probe);
            } catch (UnsatisfiedLinkError | RuntimeException e) {
                ok = false;
            }
            if (!ok) {
                log.info("posix_spawn_file_actions_addclosefrom_np unavailable (glibc < 2.34?); "
                        + "falling back to closing each fd up to the highest open one in the child");
            }
            closeFromAvailable = known = ok;
        }
        return known;
    }

    /**
     * Without closefrom_np the child closes every fd from 3 up to the highest fd open now plus HEADROOM. Other
     * threads may open fds without O_CLOEXEC (the JDK does) until posix_spawn clones the fd table; each new fd
     * takes the lowest free number, so it lands inside that range unless HEADROOM fds appear in the meantime.
     * Closing an fd that is not open is harmless: glibc's spawn helper ignores EBADF below the fd limit, and
     * addclose rejects fds at or above it, hence the cap.
     */
    static int fallbackCloseEnd() throws SpawnException {
        int highest = 2;
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path p : dir) {
                try {
                    highest = Math.max(highest, Integer.parseInt(p.getFileName().toString()));
                } catch (NumberFormatException e) {
                    // not an fd entry
                }
            }
        } catch (IOException e) {
            throw new SpawnException("cannot spawn: listing /proc/self/fd: " + e.getMessage(), 0);
        }
        long limit = Libc.api().sysconf(Libc.SC_OPEN_MAX);
        long end = (long) highest + FALLBACK_HEADROOM;
        return (int) (limit > 3 ? Math.min(end, limit - 1) : end);
    }
}
