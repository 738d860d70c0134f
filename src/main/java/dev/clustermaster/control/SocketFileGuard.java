package dev.clustermaster.control;

import dev.clustermaster.os.UnixSockets;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

/**
 * Filesystem chores around the socket file: the parent directory, a stale socket left by a crashed master,
 * a live master already listening, the final mode and group.
 */
final class SocketFileGuard {

    private static final Logger log = LoggerFactory.getLogger(SocketFileGuard.class);
    /** sun_path is 108 bytes including the terminating NUL on Linux. */
    static final int MAX_PATH_BYTES = 107;

    private SocketFileGuard() {
    }

    static void checkPathLength(Path socket) throws IOException {
        int length = socket.toString().getBytes(StandardCharsets.UTF_8).length;
        if (length > MAX_PATH_BYTES) {
            throw new IOException("control socket path is " + length + " bytes, the limit is " + MAX_PATH_BYTES + ": " + socket);
        }
    }

    /** Creates a missing parent directory as 0750 (group-owned when a group is set) so only the service can reach the socket. */
    static void prepareParent(Path socket, String group) throws IOException {
        Path parent = socket.toAbsolutePath().getParent();
        if (parent == null) {
            return;
        }
        if (Files.isDirectory(parent)) {
            admitGroupToOwnDirectory(parent, group);
            return;
        }
        Files.createDirectories(parent);
        // createDirectories applies the umask; set the mode explicitly.
        Files.setPosixFilePermissions(parent, permissions(0750));
        if (group != null) {
            setGroup(parent, group);
        }
        log.info("created control socket directory {}", parent);
    }

    /**
     * Removes a socket file nobody answers on. Refuses when another process is listening (a second master with the
     * same name) or when the path is not a socket, rather than breaking the other master's REPL.
     */
    static void removeStaleSocket(Path socket) throws IOException {
        switch (UnixSockets.removeStale(socket)) {
            case NOT_A_SOCKET -> throw new IOException("control socket path " + socket + " exists and is not a socket; refusing to replace it");
            case LIVE -> throw new IOException("another cluster-master is already listening on " + socket
                    + " (stop it, or give this one another name or repl path)");
            case STALE -> log.info("removed stale control socket {}", socket);
            case NONE -> { }
        }
    }

    /**
     * A fresh 0700 directory next to {@code socket} to bind in: there nobody else can swap the file for a symlink
     * between bind and chmod/chown, and a rename(2) then puts the finished socket in place without following any
     * link at the final name.
     */
    static Path stagingDir(Path socket) throws IOException {
        Path parent = socket.toAbsolutePath().getParent();
        java.security.SecureRandom random = new java.security.SecureRandom();
        for (int attempt = 0; ; attempt++) {
            Path dir = parent.resolve(".cm-" + Long.toString(random.nextLong() & 0xffffffffL, 36));
            try {
                return Files.createDirectory(dir, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(permissions(0700)));
            } catch (java.nio.file.FileAlreadyExistsException e) {
                if (attempt > 10) {
                    throw e;
                }
            }
        }
    }

    /** Moves the bound socket to its name (replacing a stale one there, never following a link) and removes the staging dir. */
    static void publish(Path staged, Path socket) throws IOException {
        Files.move(staged, socket, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        Files.deleteIfExists(staged.getParent());
    }

    /** Best-effort cleanup when binding failed half way. */
    static void discardStaging(Path stagingDir) {
        try {
            Files.deleteIfExists(stagingDir.resolve(STAGED_NAME));
            Files.deleteIfExists(stagingDir);
        } catch (IOException e) {
            log.debug("could not remove {}", stagingDir, e);
        }
    }

    static final String STAGED_NAME = "s";

    /**
     * A directory of our own (systemd's RuntimeDirectory=, created 0750 with the service's group) is handed to the
     * socket's group so its members can reach the socket; other directories (/tmp, someone else's) stay as they are.
     */
    private static void admitGroupToOwnDirectory(Path dir, String group) throws IOException {
        if (group == null) {
            return;
        }
        PosixFileAttributeView view = Files.getFileAttributeView(dir, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        var attrs = view.readAttributes();
        if (!attrs.owner().getName().equals(System.getProperty("user.name")) || attrs.group().getName().equals(group)) {
            return;
        }
        setGroup(dir, group);
        Set<PosixFilePermission> perms = EnumSet.copyOf(attrs.permissions());
        perms.add(PosixFilePermission.GROUP_EXECUTE);
        view.setPermissions(perms);
        log.info("control socket directory {} now belongs to group {}", dir, group);
    }

    /** Only for a path in a directory nobody else can write (the staging dir): these calls follow links. */
    static void applyModeAndGroup(Path socket, int mode, String group) throws IOException {
        Files.setPosixFilePermissions(socket, permissions(mode));
        if (group != null) {
            setGroup(socket, group);
        }
    }

    private static void setGroup(Path path, String group) throws IOException {
        GroupPrincipal principal = FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByGroupName(group);
        Files.getFileAttributeView(path, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setGroup(principal);
    }

    static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {
                PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
                PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
                PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
        for (int bit = 0; bit < order.length; bit++) {
            if ((mode & (1 << bit)) != 0) {
                set.add(order[bit]);
            }
        }
        return set;
    }
}
