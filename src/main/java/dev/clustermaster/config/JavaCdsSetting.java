package dev.clustermaster.config;

import java.nio.file.Path;
import java.util.Locale;

/**
 * The {@code java.cds} setting: where the per-app AppCDS archive of Java workers lives, if anywhere.
 * auto (the default): only in a cache directory systemd made for this service ({@code $CACHE_DIRECTORY}, from the
 * unit's {@code CacheDirectory=}), since only that one is private to it; on: there, else the user's cache directory;
 * off: none; an absolute path: that directory.
 *
 * @param mode what was asked
 * @param dir  the directory given (mode {@link Mode#DIR}), else null
 */
public record JavaCdsSetting(Mode mode, Path dir) {

    public enum Mode { AUTO, ON, OFF, DIR }

    public static final JavaCdsSetting DEFAULT = new JavaCdsSetting(Mode.AUTO, null);

    public static JavaCdsSetting parse(String value) {
        String v = value.strip();
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "auto" -> DEFAULT;
            case "true", "yes", "on", "1" -> new JavaCdsSetting(Mode.ON, null);
            case "false", "no", "off", "0" -> new JavaCdsSetting(Mode.OFF, null);
            default -> {
                if (!v.startsWith("/")) {
                    throw new ConfigException("java.cds: expected auto, on, off or an absolute directory, got '" + v + "'");
                }
                yield new JavaCdsSetting(Mode.DIR, Path.of(v));
            }
        };
    }
}
