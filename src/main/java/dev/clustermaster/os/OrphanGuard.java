package dev.clustermaster.os;

import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The supervisor of last resort for worker process groups outside systemd (under systemd the unit's cgroup does
 * it): a tiny shell process that reads "+PGID" / "-PGID" lines from a pipe whose write end only the master holds.
 * When the master dies in any way, even by SIGKILL, the kernel closes that end; the guard reads EOF, sends SIGTERM
 * (and SIGCONT) to every group still listed, and SIGKILL to those still there 1.5 s later: grandchildren and
 * workers that ignore the SIGTERM of PR_SET_PDEATHSIG included.
 * A clean exit lists no group any more, so the guard then just exits.
 *
 * <p>The guard is started through a short-lived shell that backgrounds it and exits (reaped here), so it is no
 * child of the master (nothing to reap, not counted with the workers), and it ignores the terminal's signals: only
 * the pipe ends it.
 */
public final class OrphanGuard implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(OrphanGuard.class);
    /** SIGTERM first, so workers can drain what is in flight as after a stop; SIGKILL after 1.5 s (6 x 0.25 s). */
    private static final int GRACE_STEPS = 6;
    private static final String SCRIPT = String.join("\n",
            "trap '' HUP INT QUIT TERM TSTP TTIN TTOU",
            "(",
            "  groups=' '",
            "  while IFS= read -r line; do",
            "    id=${line#?}",
            "    case $id in ''|*[!0-9]*) continue ;; esac",
            "    case $line in",
            "      +*) groups=\"$groups$id \" ;;",
            "      -*) case $groups in *\" $id \"*) groups=\"${groups%% $id *} ${groups#* $id }\" ;; esac ;;",
            "    esac",
            "  done",
            "  [ \"$groups\" = ' ' ] && exit 0",
            "  for g in $groups; do kill -s TERM -- \"-$g\"; kill -s CONT -- \"-$g\"; done 2>/dev/null",
            "  i=0",
            "  while [ $i -lt " + GRACE_STEPS + " ]; do",
            "    alive=",
            "    for g in $groups; do kill -s 0 -- \"-$g\" 2>/dev/null && alive=1; done",
            "    [ -z \"$alive\" ] && break",
            "    sleep 0.25; i=$((i + 1))",
            "  done",
            "  for g in $groups; do kill -s KILL -- \"-$g\" 2>/dev/null; done",
            ") <&3 3<&- >/dev/null &");

    private int writeFd;
    private boolean warned;

    private OrphanGuard(int writeFd) {
        this.writeFd = writeFd;
    }

    /** Starts the guard; the caller adds each worker's group after spawning it and removes it once reaped. */
    public static OrphanGuard start(ProcessSpawner spawner) throws IOException {
        Pipe pipe = Pipe.open();
        try {
            int launcher = spawner.spawn(List.of("/bin/sh", "-c", SCRIPT, "cluster-master-orphan-guard"),
                    Map.of("PATH", "/usr/bin:/bin"), Map.of(3, pipe.readFd()));
            // the launcher shell exits as soon as the guard is in the background
            int[] status = new int[1];
            while (Libc.api().waitpid(launcher, status, 0) < 0 && Libc.errno() == Libc.EINTR) {
                // retry
            }
            int fd = pipe.writeFd();
            // never block the event loop on a guard that stopped reading; a full pipe is reported, not waited for
            int flags = Libc.api().fcntl(fd, Libc.F_GETFL, 0);
            Libc.api().fcntl(fd, Libc.F_SETFL, (flags < 0 ? 0 : flags) | Libc.O_NONBLOCK);
            Libc.closeQuietly(pipe.detachReadFd());
            OrphanGuard guard = new OrphanGuard(fd);
            log.debug("orphan guard started (launcher pid {})", launcher);
            return guard;
        } catch (IOException | RuntimeException e) {
            pipe.close();
            throw e;
        }
    }

    /** The group led by pgid dies if the master dies before {@link #remove} is called for it. */
    public void add(int pgid) {
        send("+" + pgid + "\n");
    }

    /** The group is gone (its leader was reaped and the group killed): forget it, so its id can be reused safely. */
    public void remove(int pgid) {
        send("-" + pgid + "\n");
    }

    private synchronized void send(String line) {
        if (writeFd < 0) {
            return;
        }
        byte[] b = line.getBytes(StandardCharsets.US_ASCII);
        long n = Libc.api().write(writeFd, b, b.length);
        if (n != b.length && !warned) {
            warned = true;
            int e = Libc.errno();
            log.warn("the orphan guard cannot be told about worker groups ({}): workers may outlive a kill -9 of "
                    + "the master", n < 0 ? Libc.strerror(e) : "short write");
        }
    }

    /** Lets the guard go: it kills the groups still listed (none after a clean quit) and exits. */
    @Override
    public synchronized void close() {
        Libc.closeQuietly(writeFd);
        writeFd = -1;
    }
}
