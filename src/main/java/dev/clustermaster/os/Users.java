package dev.clustermaster.os;

import java.util.Optional;
import java.util.Set;
import jnr.posix.Group;
import jnr.posix.Passwd;

/** The user and group database (getpwuid/getgrnam) and this process's uid. */
public final class Users {
    private Users() {
    }

    /** A group: its name, gid and the user names listed as its members. */
    public record GroupEntry(String name, int gid, Set<String> members) {
    }

    public static int ownUid() {
        return Posix.get().getuid();
    }

    public static Optional<String> userName(int uid) {
        Passwd pw = Posix.get().getpwuid(uid);
        return pw == null ? Optional.empty() : Optional.ofNullable(pw.getLoginName());
    }

    /** The primary gid in the user database, for peers whose credentials carry only a uid. */
    public static Optional<Integer> primaryGid(int uid) {
        Passwd pw = Posix.get().getpwuid(uid);
        return pw == null ? Optional.empty() : Optional.of((int) pw.getGID());
    }

    public static Optional<GroupEntry> group(String name) {
        Group g = Posix.get().getgrnam(name);
        if (g == null) {
            return Optional.empty();
        }
        String[] members = g.getMembers();
        return Optional.of(new GroupEntry(name, (int) g.getGID(), members == null ? Set.of() : Set.of(members)));
    }

    /** This process's effective gid. */
    public static int ownGid() {
        return Posix.get().getegid();
    }

    /** Name of this process's effective group, if the database knows it. */
    public static Optional<String> ownGroupName() {
        Group g = Posix.get().getgrgid(Posix.get().getegid());
        return g == null ? Optional.empty() : Optional.ofNullable(g.getName());
    }

    /** The name (else the number) of a user's primary group; empty when there is no such user. */
    public static Optional<String> primaryGroupName(String user) {
        Passwd pw = Posix.get().getpwnam(user);
        if (pw == null) {
            return Optional.empty();
        }
        Group g = Posix.get().getgrgid((int) pw.getGID());
        return Optional.of(g == null ? Long.toString(pw.getGID()) : g.getName());
    }
}
