package dev.clustermaster.worker;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class IpcFrameTest {

    @Test
    void roundTripKeepsAwkwardPayloadsOnOneLine() {
        String[] payloads = {
            "", "plain", "two\nlines", "crlf\r\n", "back\\slash", "\\n is not a newline", "trailing\\",
            "ünïcödé ✓ 日本語 \uD83D\uDE80", "spaces  inside and at end ", "\\\\\n\\r\r",
        };
        for (String payload : payloads) {
            IpcFrame frame = new IpcFrame(IpcFrame.MSG, 42, payload);
            String line = frame.encode();
            assertFalse(line.contains("\n") || line.contains("\r"), () -> "not one line: " + line);
            assertEquals(frame, IpcFrame.decode(line), () -> "round trip of " + payload);
        }
    }

    @Test
    void encodesTheDocumentedWireForm() {
        assertEquals("REPLY 7 a\\nb\\\\c", new IpcFrame(IpcFrame.REPLY, 7, "a\nb\\c").encode());
        assertEquals(new IpcFrame(IpcFrame.LOGLEVEL, 0, "DEBUG"), IpcFrame.decode("LOGLEVEL 0 DEBUG"));
        assertEquals(new IpcFrame(IpcFrame.MSG, 3, "x y z"), IpcFrame.decode("MSG 3 x y z"));
    }

    @Test
    void rejectsMalformedLines() {
        assertThrows(IllegalArgumentException.class, () -> IpcFrame.decode(""));
        assertThrows(IllegalArgumentException.class, () -> IpcFrame.decode("MSG"));
        assertThrows(IllegalArgumentException.class, () -> IpcFrame.decode("MSG 12"));
        assertThrows(IllegalArgumentException.class, () -> IpcFrame.decode("MSG x payload"));
        assertThrows(IllegalArgumentException.class, () -> IpcFrame.decode(" 1 payload"));
        assertThrows(IllegalArgumentException.class, () -> new IpcFrame("TWO WORDS", 1, ""));
    }
}
