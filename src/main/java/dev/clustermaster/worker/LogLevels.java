package dev.clustermaster.worker;

import java.util.Locale;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Applies a level sent by the master (TRACE, DEBUG, INFO, WARN, ERROR, OFF; FATAL counts as ERROR) to the logging the worker uses:
 * always java.util.logging's root logger, and logback's root logger when logback is on the class path
 * (found by reflection, since this package may not link against it).
 */
final class LogLevels {

    private LogLevels() {
    }

    /** @return what was changed, e.g. "jul=FINE logback=DEBUG"; throws IllegalArgumentException for an unknown level */
    static String apply(String level, ClassLoader loader) {
        String name = level.trim().toUpperCase(Locale.ROOT);
        Level jul = julLevel(name);
        Logger root = Logger.getLogger("");
        root.setLevel(jul);
        for (Handler h : root.getHandlers()) {
            h.setLevel(jul);
        }
        String done = "jul=" + jul.getName();
        if (setLogback(name, loader)) {
            done += " logback=" + name;
        }
        return done;
    }

    static Level julLevel(String name) {
        return switch (name) {
            case "TRACE", "ALL" -> Level.FINEST;
            case "DEBUG" -> Level.FINE;
            case "INFO" -> Level.INFO;
            case "WARN", "WARNING" -> Level.WARNING;
            case "ERROR", "FATAL" -> Level.SEVERE;
            case "OFF" -> Level.OFF;
            default -> throw new IllegalArgumentException("unknown log level: " + name);
        };
    }

    private static boolean setLogback(String name, ClassLoader loader) {
        try {
            Class<?> factory = Class.forName("org.slf4j.LoggerFactory", true, loader);
            Object rootLogger = factory.getMethod("getLogger", String.class).invoke(null, "ROOT");
            Class<?> levelType = Class.forName("ch.qos.logback.classic.Level", true, loader);
            if (!rootLogger.getClass().getName().equals("ch.qos.logback.classic.Logger")) {
                return false;
            }
            String logbackName = name.equals("WARNING") ? "WARN" : name.equals("FATAL") ? "ERROR" : name;
            Object logbackLevel = levelType.getMethod("toLevel", String.class).invoke(null, logbackName);
            rootLogger.getClass().getMethod("setLevel", levelType).invoke(rootLogger, logbackLevel);
            return true;
        } catch (ReflectiveOperationException | LinkageError e) {
            return false;
        }
    }
}
