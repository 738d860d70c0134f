package dev.clustermaster.control;

import dev.clustermaster.core.ClusterSnapshot;
import dev.clustermaster.core.Phase;
import dev.clustermaster.core.RecycleReason;
import dev.clustermaster.core.WorkerState;
import dev.clustermaster.core.WorkerView;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** Renders the cluster status in the Prometheus text exposition format (version 0.0.4). */
final class PrometheusMetrics {

    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private PrometheusMetrics() {
    }

    static String render(StatusReport report) {
        ClusterSnapshot s = report.snapshot();
        StringBuilder out = new StringBuilder(1024);
        gauge(out, "cluster_master_up", "1 while the master is running.");
        out.append("cluster_master_up 1\n");

        gauge(out, "cluster_master_desired_workers", "Number of workers the master keeps.");
        out.append("cluster_master_desired_workers ").append(s.desiredSize()).append('\n');

        gauge(out, "cluster_master_workers", "Live workers by lifecycle state.");
        Map<WorkerState, Integer> byState = new TreeMap<>();
        for (WorkerState state : WorkerState.values()) {
            byState.put(state, 0);
        }
        s.workers().forEach(w -> byState.merge(w.state(), 1, Integer::sum));
        byState.forEach((state, n) -> out.append("cluster_master_workers{state=\"").append(state.label()).append("\"} ").append(n).append('\n'));

        gauge(out, "cluster_master_failing_slots", "Slots in crash backoff.");
        out.append("cluster_master_failing_slots ").append(s.failingSlots().size()).append('\n');

        gauge(out, "cluster_master_restart_in_progress", "1 while a rolling restart runs.");
        out.append("cluster_master_restart_in_progress ").append(s.phase() == Phase.RESTARTING ? 1 : 0).append('\n');

        // Several workers can share a slot during a restart; the slot's count is the newest incarnation's.
        Map<Integer, Integer> restartsBySlot = new TreeMap<>();
        for (WorkerView w : s.workers()) {
            restartsBySlot.merge(w.slot(), w.restarts(), Math::max);
        }
        out.append("# HELP cluster_master_worker_restarts_total Times the slot's worker was (re)started before the current one.\n");
        out.append("# TYPE cluster_master_worker_restarts_total counter\n");
        restartsBySlot.forEach((slot, n) -> out.append("cluster_master_worker_restarts_total{slot=\"").append(slot).append("\"} ").append(n).append('\n'));

        gauge(out, "cluster_master_worker_rss_bytes", "Resident memory of each worker process.");
        for (StatusReport.Row row : report.rows()) {
            if (row.rssBytes() != null) {
                out.append("cluster_master_worker_rss_bytes").append(workerLabels(row.worker())).append(' ').append(row.rssBytes()).append('\n');
            }
        }
        out.append("# HELP cluster_master_worker_cpu_seconds_total CPU time (user+system) used by each worker process.\n");
        out.append("# TYPE cluster_master_worker_cpu_seconds_total counter\n");
        for (StatusReport.Row row : report.rows()) {
            if (row.cpuSeconds() != null) {
                out.append("cluster_master_worker_cpu_seconds_total").append(workerLabels(row.worker())).append(' ')
                        .append(String.format(Locale.ROOT, "%.2f", row.cpuSeconds())).append('\n');
            }
        }
        out.append("# HELP cluster_master_recycled_total Workers replaced by recycling (rss over worker.max-rss, age over worker.max-age, request: RECYCLE=1).\n");
        out.append("# TYPE cluster_master_recycled_total counter\n");
        for (RecycleReason r : RecycleReason.values()) {
            out.append("cluster_master_recycled_total{reason=\"").append(r.label()).append("\"} ")
                    .append(s.recycled().getOrDefault(r, 0L)).append('\n');
        }
        gauge(out, "cluster_master_worker_status", "1 for each worker, labelled with its last STATUS= text.");
        for (WorkerView w : s.workers()) {
            out.append("cluster_master_worker_status{slot=\"").append(w.slot()).append("\",pid=\"").append(w.pid())
                    .append("\",status=\"").append(escapeLabel(w.status())).append("\"} 1\n");
        }
        gauge(out, "cluster_master_worker_age_seconds", "Seconds since each worker was started.");
        for (StatusReport.Row row : report.rows()) {
            out.append("cluster_master_worker_age_seconds").append(workerLabels(row.worker())).append(' ')
                    .append(String.format(Locale.ROOT, "%.3f", row.ageMillis() / 1000.0)).append('\n');
        }
        return out.toString();
    }

    /** Label values escape backslash, double quote and newline (text format 0.0.4). */
    static String escapeLabel(String v) {
        return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    private static String workerLabels(WorkerView w) {
        return "{slot=\"" + w.slot() + "\",pid=\"" + w.pid() + "\"}";
    }

    private static void gauge(StringBuilder out, String name, String help) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" gauge\n");
    }
}
