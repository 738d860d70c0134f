package dev.clustermaster.config;

import java.util.Locale;

/** Parses durations such as "500ms", "5s", "2m", "1h"; a bare number means seconds, as in systemd. */
public final class Durations {
    private Durations() {
    }

    public static long parseMillis(String key, String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        long unit;
        String digits;
        if (v.endsWith("ms")) {
            unit = 1;
            digits = v.substring(0, v.length() - 2);
        } else if (v.endsWith("s")) {
            unit = 1_000;
            digits = v.substring(0, v.length() - 1);
        } else if (v.endsWith("m")) {
            unit = 60_000;
            digits = v.substring(0, v.length() - 1);
        } else if (v.endsWith("h")) {
            unit = 3_600_000;
            digits = v.substring(0, v.length() - 1);
        } else {
            unit = 1_000;
            digits = v;
        }
        try {
            double n = Double.parseDouble(digits.trim());
            if (n < 0 || Double.isNaN(n) || Double.isInfinite(n)) {
                throw new NumberFormatException();
            }
            return Math.round(n * unit);
        } catch (NumberFormatException e) {
            throw new ConfigException(key + ": expected a duration like 500ms, 5s or 2m, got '" + value + "'");
        }
    }

    /** Parses sizes such as "512M", "2G", "1048576" (bytes). */
    public static long parseBytes(String key, String value) {
        String v = value.trim().toUpperCase(Locale.ROOT).replace("IB", "").replace("B", "");
        long mult = 1;
        if (v.endsWith("K")) {
            mult = 1L << 10;
        } else if (v.endsWith("M")) {
            mult = 1L << 20;
        } else if (v.endsWith("G")) {
            mult = 1L << 30;
        }
        String digits = mult == 1 ? v : v.substring(0, v.length() - 1);
        try {
            long n = Long.parseLong(digits.trim());
            if (n <= 0) {
                throw new NumberFormatException();
            }
            return n * mult;
        } catch (NumberFormatException e) {
            throw new ConfigException(key + ": expected a size like 512M or 2G, got '" + value + "'");
        }
    }
}
