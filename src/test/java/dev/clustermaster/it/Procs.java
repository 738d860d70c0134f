package dev.clustermaster.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Facts about processes read from /proc, for assertions. */
public final class Procs {
    private Procs() {
    }

    /** Running (not zombie) process. */
    public static boolean alive(int pid) {
        char s = state(pid);
        return s != 0 && s != 'Z' && s != 'X';
    }

    /** State letter from /proc/pid/stat, or 0 when the pid is gone. */
    public static char state(int pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2);
        } catch (IOException e) {
            return 0;
        }
    }

    public static int pgid(int pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Integer.parseInt(f[2]);
        } catch (IOException e) {
            return -1;
        }
    }

    /** Zombie children of ppid. */
    public static List<Integer> zombieChildren(long ppid) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.parent().map(pp -> pp.pid() == ppid).orElse(false))
                .map(p -> (int) p.pid())
                .filter(pid -> state(pid) == 'Z')
                .toList();
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
