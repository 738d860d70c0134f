package dev.clustermaster.it;

import dev.clustermaster.os.ProcStats;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Facts about processes for assertions; /proc parsing itself is {@link ProcStats}'s. */
public final class Procs {
    private Procs() {
    }

    /** Running (not zombie) process. */
    public static boolean alive(int pid) {
        return ProcStats.sample(pid).map(s -> s.state() != 'Z' && s.state() != 'X').orElse(false);
    }

    public static int pgid(int pid) {
        return ProcStats.processGroupOf(pid).orElse(-1);
    }

    /** Zombie children of ppid. */
    public static List<Integer> zombieChildren(long ppid) {
        return ProcStats.zombieChildrenOf((int) ppid);
    }

    public static List<Integer> liveChildren(long ppid) {
        return ProcessHandle.of(ppid).map(h -> h.children().map(c -> (int) c.pid()).filter(Procs::alive).sorted().toList())
                .orElse(List.of());
    }

    public static String environ(int pid) {
        try {
            return Files.readString(Path.of("/proc", Integer.toString(pid), "environ")).replace('\0', '\n');
        } catch (IOException e) {
            return "";
        }
    }
}
