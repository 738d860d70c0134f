package dev.clustermaster.runtime;

/** A listening socket the master holds for its whole life and hands to every worker. */
public record InheritedSocket(String name, String spec, int fd, boolean fromSystemd) {
}
