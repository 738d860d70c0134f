package dev.clustermaster.core;

/**
 * What the master tells systemd about itself (sd_notify). The os edge writes the protocol's text
 * ({@code os.NotifyMessages}); here a notice is only what it means.
 */
public sealed interface Notice {

    /** Every slot serves (first start, or a rolling restart is over, done or failed). */
    record Ready() implements Notice {}

    /** A rolling restart began; it may take up to {@code extendTimeoutMillis}. */
    record Reloading(long extendTimeoutMillis) implements Notice {}

    /** A quit began; stopping the workers may take up to {@code extendTimeoutMillis}. */
    record Stopping(long extendTimeoutMillis) implements Notice {}

    /** One line for {@code systemctl status}: "2/4 ready, restarting 1/4". */
    record Status(String text) implements Notice {}
}
