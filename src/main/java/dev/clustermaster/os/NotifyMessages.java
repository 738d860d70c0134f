package dev.clustermaster.os;

import dev.clustermaster.core.Event;
import dev.clustermaster.core.Notice;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The sd_notify protocol's text, both ways: the master's notices out, a worker's messages in, typed for the core. */
public final class NotifyMessages {
    private NotifyMessages() {}

    /** A notice as sd_notify text; a reload carries the monotonic time it began at, as systemd requires. */
    public static String text(Notice notice, long monotonicMicros) {
        if (notice instanceof Notice.Ready) {
            return "READY=1";
        } else if (notice instanceof Notice.Reloading r) {
            return "RELOADING=1\nEXTEND_TIMEOUT_USEC=" + r.extendTimeoutMillis() * 1_000 + "\nMONOTONIC_USEC=" + monotonicMicros;
        } else if (notice instanceof Notice.Stopping s) {
            return "STOPPING=1\nEXTEND_TIMEOUT_USEC=" + s.extendTimeoutMillis() * 1_000;
        } else if (notice instanceof Notice.Status s) {
            return "STATUS=" + s.text();
        }
        throw new IllegalArgumentException("no sd_notify text for " + notice);
    }

    /**
     * A worker's parsed sd_notify message ({@link SdNotify#parse}) as the core's events, STATUS first (a worker
     * that says both has its status shown once ready). Keys the master does not act on are ignored, as systemd does.
     */
    public static List<Event> events(long workerId, Map<String, String> message) {
        List<Event> events = new ArrayList<>();
        String status = message.get("STATUS");
        if (status != null) {
            events.add(new Event.WorkerStatus(workerId, status));
        }
        if ("1".equals(message.get("READY"))) {
            events.add(new Event.Ready(workerId));
        }
        if ("1".equals(message.get("WATCHDOG"))) {
            events.add(new Event.WatchdogPing(workerId));
        }
        if ("1".equals(message.get("RECYCLE"))) {
            events.add(new Event.RecycleRequested(workerId));
        }
        return events;
    }
}
