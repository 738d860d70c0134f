package dev.clustermaster.control;

import dev.clustermaster.core.ClusterSnapshot;
import dev.clustermaster.core.RecycleReason;
import dev.clustermaster.core.WorkerView;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The cluster status as rows (one per worker, with rss/cpu when known), rendered as a pm2-style table
 * for humans or as a map for JSON. Shared by the {@code status} command, HTTP {@code GET /} and metrics.
 */
public final class StatusReport {

    /**
     * One worker with its resource usage; rssBytes/cpuSeconds are null when /proc had nothing.
     * state is {@link #stateLabel}'s.
     */
    public record Row(WorkerView worker, long ageMillis, Long rssBytes, Double cpuSeconds, Double cpuPercent,
                      String state) {
    }

    private final ClusterSnapshot snapshot;
    private final List<Row> rows;

    private StatusReport(ClusterSnapshot snapshot, List<Row> rows) {
        this.snapshot = snapshot;
        this.rows = rows;
    }

    public static StatusReport of(ClusterSnapshot snapshot, ProcessStatsSource stats, long nowMillis) {
        List<Row> rows = new ArrayList<>();
        for (WorkerView w : snapshot.workers()) {
            long age = ageMillis(w, nowMillis);
            Optional<ProcessSample> sample = w.pid() > 0 ? stats.sample(w.pid()) : Optional.empty();
            Long rss = sample.map(ProcessSample::rssBytes).orElse(null);
            Double cpu = sample.map(ProcessSample::cpuSeconds).orElse(null);
            // Average over the worker's life: one sample cannot give an instantaneous rate.
            Double percent = cpu == null || age <= 0 ? null : 100.0 * cpu / (age / 1000.0);
            rows.add(new Row(w, age, rss, cpu, percent, stateLabel(w, sample)));
        }
        return new StatusReport(snapshot, List.copyOf(rows));
    }

    /**
     * The master's view of the worker, except "stopped" while the kernel holds it stopped (state T: SIGSTOP,
     * SIGTSTP): the core never sees that, and such a worker serves nothing whatever the master thinks.
     */
    public static String stateLabel(WorkerView w, Optional<ProcessSample> sample) {
        return sample.map(ProcessSample::state).orElse(' ') == 'T' ? "stopped" : w.state().label();
    }

    public static String stateLabel(WorkerView w, ProcessStatsSource stats) {
        return stateLabel(w, w.pid() > 0 ? stats.sample(w.pid()) : Optional.empty());
    }

    static long ageMillis(WorkerView w, long nowMillis) {
        return w.startedAtMillis() <= 0 ? 0 : Math.max(0, nowMillis - w.startedAtMillis());
    }

    public ClusterSnapshot snapshot() {
        return snapshot;
    }

    public List<Row> rows() {
        return rows;
    }

    public String toTable() {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "master pid %d, %s, %d/%d ready", snapshot.masterPid(), snapshot.phase().label(),
                snapshot.readyCount(), snapshot.desiredSize()));
        if (!snapshot.restartProgress().isEmpty()) {
            out.append(", ").append(snapshot.restartProgress());
        }
        if (!snapshot.failingSlots().isEmpty()) {
            out.append(", failing slots ").append(snapshot.failingSlots());
        }
        String format = "%n%-5s %-8s %-9s %-8s %-9s %-10s %-7s %s";
        out.append(String.format(Locale.ROOT, format, "slot", "pid", "state", "age", "restarts", "rss", "cpu", "status").stripTrailing());
        for (Row row : rows) {
            WorkerView w = row.worker();
            String status = w.note().isEmpty() ? w.status() : w.status().isEmpty() ? "(" + w.note() + ")" : "(" + w.note() + ") " + w.status();
            out.append(String.format(Locale.ROOT, format, w.slot(), w.pid() > 0 ? Integer.toString(w.pid()) : "-",
                    row.state(), formatAge(row.ageMillis()), w.restarts(),
                    row.rssBytes() == null ? "-" : formatBytes(row.rssBytes()),
                    row.cpuPercent() == null ? "-" : String.format(Locale.ROOT, "%.1f%%", row.cpuPercent()), status).stripTrailing());
        }
        if (rows.isEmpty()) {
            out.append(String.format("%n(no workers)"));
        }
        return out.toString();
    }

    public Map<String, Object> toMap() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("masterPid", snapshot.masterPid());
        out.put("phase", snapshot.phase().label());
        out.put("desired", snapshot.desiredSize());
        out.put("ready", snapshot.readyCount());
        out.put("restartProgress", snapshot.restartProgress());
        out.put("failingSlots", snapshot.failingSlots());
        Map<String, Object> recycled = new LinkedHashMap<>();
        for (RecycleReason r : RecycleReason.values()) {
            recycled.put(r.label(), snapshot.recycled().getOrDefault(r, 0L));
        }
        out.put("recycled", recycled);
        List<Object> workers = new ArrayList<>();
        for (Row row : rows) {
            Map<String, Object> w = workerMap(row.worker(), row.ageMillis());
            w.put("state", row.state());
            w.put("rssBytes", row.rssBytes());
            w.put("cpuSeconds", row.cpuSeconds());
            w.put("cpuPercent", row.cpuPercent() == null ? null : Math.round(row.cpuPercent() * 10) / 10.0);
            workers.add(w);
        }
        out.put("workers", workers);
        return out;
    }

    static Map<String, Object> workerMap(WorkerView w, long ageMillis) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("workerId", w.workerId());
        m.put("slot", w.slot());
        m.put("pid", w.pid());
        m.put("state", w.state().label());
        m.put("ageMillis", ageMillis);
        m.put("restarts", w.restarts());
        m.put("startedAtMillis", w.startedAtMillis());
        m.put("status", w.status());
        m.put("note", w.note());
        return m;
    }

    /** "45s", "3m12s", "2h05m", "3d04h": short and sortable by eye, like pm2's uptime column. */
    public static String formatAge(long millis) {
        long s = millis / 1000;
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        if (s < 86400) {
            return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
        }
        return String.format(Locale.ROOT, "%dd%02dh", s / 86400, (s % 86400) / 3600);
    }

    public static String formatBytes(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        if (bytes < 1024L * 1024) {
            return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
        }
        if (bytes < 1024L * 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
        }
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (1024.0 * 1024 * 1024));
    }
}
