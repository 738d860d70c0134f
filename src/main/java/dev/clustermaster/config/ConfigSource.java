package dev.clustermaster.config;

/** Where a master's configuration comes from, read again on reload (file, environment and command line layered). */
@FunctionalInterface
public interface ConfigSource {
    /** A fresh, validated configuration; throws {@link ConfigException} with a one-line reason when it is invalid. */
    Config load();
}
