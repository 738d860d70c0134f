package dev.clustermaster.config;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Time spans in systemd's syntax (systemd.time(7)): a number with a unit, several of them summed ("1min 30s",
 * "2h30m"), or a bare number meaning seconds. Units are case-sensitive as in systemd: us/usec/µs, ms/msec,
 * s/sec/second(s), m/min/minute(s), h/hr/hour(s), d/day(s), w/week(s). Anything else is rejected.
 */
public final class Durations {
    private Durations() {
    }

    private static final Map<String, Long> MICROS_PER_UNIT = units();
    /** One component: a decimal number, optional spaces, then letters (the unit) or nothing. */
    private static final Pattern COMPONENT = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)[ \\t]*([^\\d. \\t]*)[ \\t]*");
    private static final String EXAMPLES = "500ms, 30s, 2min or 1min 30s (systemd's syntax)";

    private static Map<String, Long> units() {
        Map<String, Long> u = new HashMap<>();
        for (String name : List.of("us", "usec", "µs", "μs")) {
            u.put(name, 1L);
        }
        for (String name : List.of("ms", "msec")) {
            u.put(name, 1_000L);
        }
        for (String name : List.of("s", "sec", "second", "seconds")) {
            u.put(name, 1_000_000L);
        }
        for (String name : List.of("m", "min", "minute", "minutes")) {
            u.put(name, 60_000_000L);
        }
        for (String name : List.of("h", "hr", "hour", "hours")) {
            u.put(name, 3_600_000_000L);
        }
        for (String name : List.of("d", "day", "days")) {
            u.put(name, 86_400_000_000L);
        }
        for (String name : List.of("w", "week", "weeks")) {
            u.put(name, 604_800_000_000L);
        }
        return Map.copyOf(u);
    }

    /** The span in milliseconds (rounded to the nearest); a ConfigException names key and the problem. */
    public static long parseMillis(String key, String value) {
        String v = value == null ? "" : value.strip();
        if (v.isEmpty()) {
            throw bad(key, value, "empty");
        }
        if (v.chars().allMatch(c -> Character.isDigit(c) || c == '.')) {
            return Math.round(micros(key, value, v, 1_000_000L) / 1000.0);   // bare number: seconds
        }
        Matcher m = COMPONENT.matcher(v);
        double total = 0;
        int at = 0;
        while (at < v.length()) {
            if (!m.find(at) || m.start() != at) {
                throw bad(key, value, "expected a number at '" + v.substring(at) + "'");
            }
            String unit = m.group(2);
            if (unit.isEmpty()) {
                throw bad(key, value, "'" + m.group(1) + "' needs a unit when combined with others");
            }
            Long per = MICROS_PER_UNIT.get(unit);
            if (per == null) {
                throw bad(key, value, "unknown unit '" + unit + "'");
            }
            total += micros(key, value, m.group(1), per);
            at = m.end();
        }
        if (total / 1000.0 > Long.MAX_VALUE / 2.0) {
            throw bad(key, value, "too long");
        }
        return Math.round(total / 1000.0);
    }

    private static double micros(String key, String value, String number, long perUnit) {
        try {
            double n = Double.parseDouble(number);
            if (Double.isInfinite(n) || n * perUnit / 1000.0 > Long.MAX_VALUE / 2.0) {
                throw bad(key, value, "too long");
            }
            return n * perUnit;
        } catch (NumberFormatException e) {
            throw bad(key, value, "'" + number + "' is not a number");
        }
    }

    private static ConfigException bad(String key, String value, String why) {
        return new ConfigException(key + ": expected a time span like " + EXAMPLES + ", got '" + value + "' (" + why + ")");
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
