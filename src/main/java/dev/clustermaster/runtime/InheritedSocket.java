package dev.clustermaster.runtime;

/**
 * A listening socket the master holds for its whole life and hands to every worker; {@code fromSystemd}: systemd
 * holds a copy too (socket unit or fd store), so its unix socket file outlives this master; {@code activated}: it
 * came from a socket unit rather than {@code listen=}.
 */
public record InheritedSocket(String name, String spec, int fd, boolean fromSystemd, boolean activated) {
}
