package dev.clustermaster.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CgroupLimitsTest {
    @TempDir
    Path tmp;

    private Path proc(String content) throws Exception {
        Path p = tmp.resolve("cgroup");
        Files.writeString(p, content);
        return p;
    }

    private void put(String rel, String value) throws Exception {
        Path p = tmp.resolve("root").resolve(rel);
        Files.createDirectories(p.getParent());
        Files.writeString(p, value + "\n");
    }

    private OptionalLong limit(String procContent) throws Exception {
        return CgroupLimits.memoryLimitBytes(proc(procContent), tmp.resolve("root"));
    }

    @Test
    void v2LimitOfOurCgroup() throws Exception {
        put("system.slice/app.service/memory.max", "536870912");
        assertEquals(OptionalLong.of(536870912), limit("0::/system.slice/app.service\n"));
    }

    @Test
    void v2MaxMeansNoLimitButAParentLimitStillApplies() throws Exception {
        put("system.slice/app.service/memory.max", "max");
        assertEquals(OptionalLong.empty(), limit("0::/system.slice/app.service\n"));
        put("system.slice/memory.max", "1073741824");
        assertEquals(OptionalLong.of(1073741824), limit("0::/system.slice/app.service\n"));
        put("system.slice/app.service/memory.max", "2147483648");
        assertEquals(OptionalLong.of(1073741824), limit("0::/system.slice/app.service\n"), "smallest wins");
    }

    @Test
    void containerWithNamespacedRoot() throws Exception {
        put("memory.max", "268435456");
        assertEquals(OptionalLong.of(268435456), limit("0::/\n"));
    }

    @Test
    void v1LimitAndItsUnlimitedValue() throws Exception {
        put("memory/user.slice/memory.limit_in_bytes", "9223372036854771712");
        assertEquals(OptionalLong.empty(), limit("12:cpu,cpuacct:/user.slice\n4:memory:/user.slice\n0::/user.slice\n"));
        put("memory/user.slice/memory.limit_in_bytes", "104857600");
        assertEquals(OptionalLong.of(104857600),
                limit("12:cpu,cpuacct:/user.slice\n4:memory:/user.slice\n0::/user.slice\n"));
    }

    @Test
    void unknownLayoutsGiveEmpty() throws Exception {
        assertEquals(OptionalLong.empty(), limit(""));
        assertEquals(OptionalLong.empty(), limit("0::/missing/path\n"));
        assertEquals(OptionalLong.empty(), limit("garbage\n"));
        put("memory.max", "not-a-number");
        assertEquals(OptionalLong.empty(), limit("0::/\n"));
        assertEquals(OptionalLong.empty(), CgroupLimits.memoryLimitBytes(tmp.resolve("nope"), tmp));
    }

    @Test
    void realSystemDoesNotThrow() {
        OptionalLong real = CgroupLimits.memoryLimitBytes();
        real.ifPresent(v -> assertTrue(v > 0));
    }
}
