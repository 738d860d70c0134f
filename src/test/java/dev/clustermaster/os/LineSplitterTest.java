package dev.clustermaster.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LineSplitterTest {
    private final List<String> lines = new ArrayList<>();

    private void feedAll(LineSplitter s, String text, boolean cut) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < b.length; i++) {  // byte by byte: every boundary is exercised
            s.feed(b, i, 1, cut);
        }
    }

    @Test
    void splitsOnLfAcrossChunksAndKeepsTheLastPartialLine() {
        LineSplitter s = new LineSplitter(100, lines::add);
        feedAll(s, "a\nbc\n\nd", true);
        assertEquals(List.of("a", "bc", ""), lines);
        s.finish();
        assertEquals(List.of("a", "bc", "", "d"), lines);
    }

    @Test
    void cutsOverlongLinesOnCharacterBoundaries() {
        LineSplitter s = new LineSplitter(4, lines::add);
        feedAll(s, "abcdef\nxyz\u00e9\u00e9\n", true);  // é is 2 bytes: "xyz" + half of é must not be split
        assertEquals(List.of("abcd", "ef", "xyz", "\u00e9\u00e9"), lines);
    }

    @Test
    void exactMaxIsFineButOneMoreByteIsOverlongWithoutCutting() {
        LineSplitter s = new LineSplitter(4, lines::add);
        byte[] ok = "abcd\n".getBytes(StandardCharsets.UTF_8);
        assertTrue(s.feed(ok, 0, ok.length, false));
        byte[] tooLong = "abcde\n".getBytes(StandardCharsets.UTF_8);
        assertFalse(s.feed(tooLong, 0, tooLong.length, false));
        assertEquals(List.of("abcd"), lines);
    }

    @Test
    void invalidUtf8IsReplaced() {
        LineSplitter s = new LineSplitter(100, lines::add);
        byte[] b = {'o', 'k', (byte) 0xff, (byte) 0xc3, '\n'};
        s.feed(b, 0, b.length, true);
        assertEquals(List.of("ok\uFFFD\uFFFD"), lines);
    }
}
