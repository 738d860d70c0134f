package dev.clustermaster.os;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

/** The memory limit that applies to this process' cgroup (v2 preferred, v1 as fallback). */
public final class CgroupLimits {
    /** v1 reports "unlimited" as a page-rounded LONG_MAX; anything this large is no real limit. */
    private static final long HUGE = 1L << 60;

    private CgroupLimits() {}

    public static OptionalLong memoryLimitBytes() {
        return memoryLimitBytes(Path.of("/proc/self/cgroup"), Path.of("/sys/fs/cgroup"));
    }

    /**
     * The smallest limit on the way from our cgroup up to the root (a parent's limit caps us too).
     * In a container the listed path may not exist below the mounted root; then the root itself is checked.
     */
    static OptionalLong memoryLimitBytes(Path procSelfCgroup, Path cgroupRoot) {
        List<String> lines;
        try {
            lines = Files.readAllLines(procSelfCgroup);
        } catch (IOException e) {
            return OptionalLong.empty();
        }
        String v2Path = null;
        String v1Path = null;
        for (String line : lines) {
            // "hierarchy-id:controllers:path"; the path itself may contain ':'
            String[] parts = line.split(":", 3);
            if (parts.length < 3) {
                continue;
            }
            if (parts[0].equals("0") && parts[1].isEmpty()) {
                v2Path = parts[2];
            } else if (List.of(parts[1].split(",")).contains("memory")) {
                v1Path = parts[2];
            }
        }
        if (v1Path != null) {
            // A v1 memory controller wins: on hybrid hosts the unified "0::" tree has no memory controller.
            return smallest(cgroupRoot.resolve("memory"), v1Path, "memory.limit_in_bytes");
        }
        if (v2Path != null) {
            return smallest(cgroupRoot, v2Path, "memory.max");
        }
        return OptionalLong.empty();
    }

    private static OptionalLong smallest(Path root, String cgroupPath, String file) {
        Path rel = Path.of(cgroupPath.startsWith("/") ? cgroupPath.substring(1) : cgroupPath).normalize();
        if (rel.startsWith("..")) {
            return OptionalLong.empty();
        }
        long best = Long.MAX_VALUE;
        for (Path dir = rel; ; dir = dir.getParent()) {
            Path candidate = dir == null || dir.toString().isEmpty() ? root : root.resolve(dir);
            OptionalLong v = read(candidate.resolve(file));
            if (v.isPresent()) {
                best = Math.min(best, v.getAsLong());
            }
            if (dir == null || dir.toString().isEmpty()) {
                break;
            }
        }
        return best < HUGE ? OptionalLong.of(best) : OptionalLong.empty();
    }

    private static OptionalLong read(Path file) {
        try {
            String s = Files.readString(file).trim();
            if (s.isEmpty() || s.equals("max")) {
                return OptionalLong.empty();
            }
            long v = Long.parseLong(s);
            return v > 0 ? OptionalLong.of(v) : OptionalLong.empty();
        } catch (IOException | NumberFormatException e) {
            return OptionalLong.empty();
        }
    }
}
