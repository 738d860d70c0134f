package dev.clustermaster.control;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Reads rss and CPU time of a process from /proc/&lt;pid&gt;/stat and /proc/&lt;pid&gt;/status (Linux only). */
public final class ProcessStats implements ProcessStatsSource {

    private final Path procRoot;

    public ProcessStats() {
        this(Path.of("/proc"));
    }

    /** For tests with a fake /proc tree. */
    ProcessStats(Path procRoot) {
        this.procRoot = procRoot;
    }

    @Override
    public Optional<ProcessSample> sample(int pid) {
        if (pid <= 0) {
            return Optional.empty();
        }
        Path dir = procRoot.resolve(Integer.toString(pid));
        try {
            String stat = Files.readString(dir.resolve("stat"), StandardCharsets.UTF_8);
            long rss = readRssBytes(dir.resolve("status"));
            return Optional.ofNullable(parseStat(pid, stat, rss));
        } catch (IOException | RuntimeException e) {
            // The process may exit between snapshot and sample; that is not an error worth reporting.
            return Optional.empty();
        }
    }

    /** Parses one stat line; the command name may contain spaces and ')' so fields are counted from the last ')'. */
    static ProcessSample parseStat(int pid, String stat, long rssBytes) {
        int close = stat.lastIndexOf(')');
        if (close < 0 || close + 2 > stat.length()) {
            return null;
        }
        String[] fields = stat.substring(close + 2).trim().split("\\s+");
        if (fields.length < 20) {
            return null;
        }
        // fields[0] is field 3 of proc(5): state; utime=14, stime=15, starttime=22.
        char state = fields[0].isEmpty() ? '?' : fields[0].charAt(0);
        long utime = Long.parseLong(fields[11]);
        long stime = Long.parseLong(fields[12]);
        long startTime = Long.parseLong(fields[19]);
        return new ProcessSample(pid, rssBytes, utime + stime, startTime, state);
    }

    private static long readRssBytes(Path status) throws IOException {
        for (String line : Files.readAllLines(status, StandardCharsets.UTF_8)) {
            if (line.startsWith("VmRSS:")) {
                String[] parts = line.substring(6).trim().split("\\s+");
                return Long.parseLong(parts[0]) * 1024L;
            }
        }
        return 0L; // zombies and kernel threads have no VmRSS line
    }
}
