package dev.clustermaster.runtime;

/**
 * A listening socket the master holds for its whole life and hands to every worker; {@code fromSystemd}: systemd
 * holds a copy too (socket unit or fd store), so its unix socket file outlives this master.
 */
public record InheritedSocket(String name, String spec, int fd, boolean fromSystemd) {
}
