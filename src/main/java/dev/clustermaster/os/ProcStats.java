package dev.clustermaster.os;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/** Per-process numbers from /proc. */
public final class ProcStats {
    private ProcStats() {}

    /**
     * @param rssBytes resident set size
     * @param cpuTicks user + system time in clock ticks (see clockTicksPerSecond)
     * @param startTimeTicks start time after boot in clock ticks; with the pid it identifies a process across
     *     pid reuse
     * @param state R, S, D, Z, T, ...
     */
    public record Sample(int pid, long rssBytes, long cpuTicks, long startTimeTicks, char state) {}

    private static final class Sysconf {
        static final long CLK_TCK = positiveOr(Libc.api().sysconf(Libc.SC_CLK_TCK), 100);
        static final long PAGE_SIZE = positiveOr(Libc.api().sysconf(Libc.SC_PAGESIZE), 4096);

        private static long positiveOr(long v, long fallback) {
            return v > 0 ? v : fallback;
        }
    }

    /** The fields of /proc/pid/stat after the command name, so that index 0 is field 3 (state). */
    private static Optional<String[]> statFields(int pid) {
        try {
            return fieldsAfterComm(Files.readString(Path.of("/proc", Integer.toString(pid), "stat"), StandardCharsets.UTF_8));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Splits one stat line after the command name, which may contain spaces and parentheses. */
    static Optional<String[]> fieldsAfterComm(String stat) {
        int close = stat.lastIndexOf(')');
        if (close < 0 || close + 2 > stat.length()) {
            return Optional.empty();
        }
        return Optional.of(stat.substring(close + 2).trim().split(" "));
    }

    /** Empty if the process is gone (or /proc is unreadable). */
    public static Optional<Sample> sample(int pid) {
        Optional<String[]> f = statFields(pid);
        if (f.isEmpty() || f.get().length < 22) {
            return Optional.empty();
        }
        String[] s = f.get();
        char state = s[0].charAt(0);
        long cpu = Long.parseLong(s[11]) + Long.parseLong(s[12]);  // utime (14), stime (15)
        long start = Long.parseLong(s[19]);                          // starttime (22)
        long rssPages;
        try {
            String statm = Files.readString(Path.of("/proc", Integer.toString(pid), "statm")).trim();
            rssPages = Long.parseLong(statm.split(" ")[1]);
        } catch (IOException | RuntimeException e) {
            rssPages = Long.parseLong(s[21]);                        // rss (24) from stat, if statm vanished
        }
        return Optional.of(new Sample(pid, rssPages * Sysconf.PAGE_SIZE, cpu, start, state));
    }

    /** Process group of pid (field 5 of stat), empty if gone. */
    public static OptionalInt processGroupOf(int pid) {
        return field(pid, 2);
    }

    /** Parent pid (field 4 of stat), empty if gone. */
    public static OptionalInt parentOf(int pid) {
        return field(pid, 1);
    }

    private static OptionalInt field(int pid, int index) {
        Optional<String[]> f = statFields(pid);
        if (f.isEmpty() || f.get().length <= index) {
            return OptionalInt.empty();
        }
        return OptionalInt.of(Integer.parseInt(f.get()[index]));
    }

    public static long clockTicksPerSecond() {
        return Sysconf.CLK_TCK;
    }

    /** Pids in /proc that are zombies (state Z) with the given parent. */
    public static List<Integer> zombieChildrenOf(int ppid) {
        List<Integer> out = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(Path.of("/proc"))) {
            for (Path p : dir) {
                String name = p.getFileName().toString();
                if (name.isEmpty() || !name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                int pid = Integer.parseInt(name);
                Optional<String[]> f = statFields(pid);
                if (f.isPresent() && f.get().length > 1 && f.get()[0].equals("Z")
                        && Integer.parseInt(f.get()[1]) == ppid) {
                    out.add(pid);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc", e);
        }
        return out;
    }
}
