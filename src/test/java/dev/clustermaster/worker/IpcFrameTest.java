package dev.clustermaster.worker;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IpcFrameTest {

    @Test
    void roundTripKeepsAwkwardPayloadsOnOneLine() {
        String[] payloads = {
            "", "plain", "two\nlines", "crlf\r\n", "back\\slash", "\\n is not a newline", "trailing\\",
            "ünïcödé ✓ 日本語 \uD83D\uDE80", "spaces  inside and at end ", "\\\\\n\\r\r",
        };
        for (String payload : payloads) {
            IpcFrame frame = new IpcFrame(IpcFrame.Kind.MSG, 42, payload);
            String line = frame.encode();
            assertFalse(line.contains("\n") || line.contains("\r"), () -> "not one line: " + line);
            assertEquals(frame, IpcFrame.decode(line), () -> "round trip of " + payload);
        }
    }

    @Test
    void encodesTheDocumentedWireForm() {
        assertEquals("REPLY 7 a\\nb\\\\c", new IpcFrame(IpcFrame.Kind.REPLY, 7, "a\nb\\c").encode());
        assertEquals(new IpcFrame(IpcFrame.Kind.LOGLEVEL, 0, "DEBUG"), IpcFrame.decode("LOGLEVEL 0 DEBUG"));
        assertEquals(new IpcFrame(IpcFrame.Kind.MSG, 3, "x y z"), IpcFrame.decode("MSG 3 x y z"));
    }

    @Test
    void rejectsMalformedLines() {
        assertThrows(IllegalArgumentException.class, () -> IpcFrame.decode(""));
        assertThrows(IllegalArgumentException.class, () -> IpcFrame.decode("MSG"));
        assertThrows(IllegalArgumentException.class, () -> IpcFrame.decode("MSG 12"));
        assertThrows(IllegalArgumentException.class, () -> IpcFrame.decode("MSG x payload"));
        assertThrows(IllegalArgumentException.class, () -> IpcFrame.decode(" 1 payload"));
        assertThrows(IllegalArgumentException.class, () -> IpcFrame.decode("msg 1 lower case kind"));
    }

    @Test
    void unknownKindsAreRejectedSoAnOlderPeerSkipsThem() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IpcFrame.decode("SHUTDOWN 0 now"));
        assertTrue(e.getMessage().contains("SHUTDOWN"), e.getMessage());
        assertEquals(new IpcFrame(IpcFrame.Kind.NOTIFY, 0, "READY=1\nSTATUS=up"), IpcFrame.decode("NOTIFY 0 READY=1\\nSTATUS=up"));
        assertEquals("NOTIFY 0 READY=1\\nSTATUS=up", new IpcFrame(IpcFrame.Kind.NOTIFY, 0, "READY=1\nSTATUS=up").encode());
    }
}
