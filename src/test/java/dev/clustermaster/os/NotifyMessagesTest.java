package dev.clustermaster.os;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.clustermaster.core.Event;
import dev.clustermaster.core.Notice;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NotifyMessagesTest {
    @Test
    void theMastersNoticesAreWrittenAsSystemdReadsThem() {
        assertEquals("READY=1", NotifyMessages.text(new Notice.Ready(), 7));
        assertEquals("RELOADING=1\nEXTEND_TIMEOUT_USEC=90000000\nMONOTONIC_USEC=123456",
                NotifyMessages.text(new Notice.Reloading(90_000), 123_456));
        assertEquals("STOPPING=1\nEXTEND_TIMEOUT_USEC=15000000", NotifyMessages.text(new Notice.Stopping(15_000), 7));
        assertEquals("STATUS=2/4 ready, restarting 1/4", NotifyMessages.text(new Notice.Status("2/4 ready, restarting 1/4"), 7));
    }

    @Test
    void aWorkersMessageBecomesTheCoresEvents() {
        assertEquals(List.of(new Event.WorkerStatus(3, "warming up: 40%"), new Event.Ready(3)),
                NotifyMessages.events(3, SdNotify.parse("READY=1\nSTATUS=warming up: 40%")));
        assertEquals(List.of(new Event.WatchdogPing(5)), NotifyMessages.events(5, SdNotify.parse("WATCHDOG=1")));
        assertEquals(List.of(new Event.RecycleRequested(5)), NotifyMessages.events(5, SdNotify.parse("RECYCLE=1")));
        assertEquals(List.of(new Event.WorkerStatus(5, "")), NotifyMessages.events(5, Map.of("STATUS", "")));
    }

    @Test
    void keysTheMasterDoesNotActOnAreIgnored() {
        assertEquals(List.of(), NotifyMessages.events(1, SdNotify.parse("READY=0\nWATCHDOG=trigger\nSTOPPING=1\nMAINPID=42\nX=1")));
        assertEquals(List.of(), NotifyMessages.events(1, SdNotify.parse("")));
    }
}
