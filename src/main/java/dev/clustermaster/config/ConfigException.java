package dev.clustermaster.config;

/** Bad configuration: the message names the setting and says what was expected. */
public class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }
}
