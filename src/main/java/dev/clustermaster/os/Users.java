package dev.clustermaster.os;

import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import jnr.ffi.Pointer;

/** The user and group database (getpwuid_r/getgrnam_r, so NSS answers as for any program) and this process's ids. */
public final class Users {
    private Users() {
    }

    /** A group: its name, gid and the user names listed as its members. */
    public record GroupEntry(String name, int gid, Set<String> members) {
    }

    private record PasswdEntry(String name, int uid, int gid) {
    }

    /** A reentrant lookup: fills {@code entry} with pointers into {@code buf}; 0 or an errno (ERANGE: buf too small). */
    private interface Lookup {
        int call(Pointer entry, Pointer buf, long bufLen, Pointer result);
    }

    public static int ownUid() {
        return Libc.api().getuid();
    }

    public static int effectiveUid() {
        return Libc.api().geteuid();
    }

    /** This process's effective gid. */
    public static int ownGid() {
        return Libc.api().getegid();
    }

    public static Optional<String> userName(int uid) {
        return passwdEntry((e, b, n, r) -> Libc.api().getpwuid_r(uid, e, b, n, r)).map(PasswdEntry::name);
    }

    /** The primary gid in the user database, for peers whose credentials carry only a uid. */
    public static Optional<Integer> primaryGid(int uid) {
        return passwdEntry((e, b, n, r) -> Libc.api().getpwuid_r(uid, e, b, n, r)).map(PasswdEntry::gid);
    }

    public static Optional<GroupEntry> group(String name) {
        return groupEntry((e, b, n, r) -> Libc.api().getgrnam_r(name, e, b, n, r));
    }

    /** Name of this process's effective group, if the database knows it. */
    public static Optional<String> ownGroupName() {
        int gid = ownGid();
        return groupEntry((e, b, n, r) -> Libc.api().getgrgid_r(gid, e, b, n, r)).map(GroupEntry::name);
    }

    /** The name (else the number) of a user's primary group; empty when there is no such user. */
    public static Optional<String> primaryGroupName(String user) {
        return passwdEntry((e, b, n, r) -> Libc.api().getpwnam_r(user, e, b, n, r)).map(pw ->
                groupEntry((e, b, n, r) -> Libc.api().getgrgid_r(pw.gid(), e, b, n, r)).map(GroupEntry::name)
                        .orElse(Integer.toString(pw.gid())));
    }

    // glibc's struct passwd {char *pw_name, *pw_passwd; uid_t pw_uid; gid_t pw_gid; ...} and
    // struct group {char *gr_name, *gr_passwd; gid_t gr_gid; char **gr_mem}: pointers, then 4-byte ids
    private static Optional<PasswdEntry> passwdEntry(Lookup lookup) {
        return lookup(lookup, (pw, a) -> new PasswdEntry(pw.getPointer(0).getString(0), pw.getInt(2L * a),
                pw.getInt(2L * a + 4)));
    }

    private static Optional<GroupEntry> groupEntry(Lookup lookup) {
        return lookup(lookup, (gr, a) -> {
            Set<String> members = new HashSet<>();
            Pointer mem = gr.getPointer(3L * a);
            for (int i = 0; mem != null; i++) {
                Pointer m = mem.getPointer((long) i * a);
                if (m == null) {
                    break;
                }
                members.add(m.getString(0));
            }
            return new GroupEntry(gr.getPointer(0).getString(0), gr.getInt(2L * a), Set.copyOf(members));
        });
    }

    private interface Reader<T> {
        T read(Pointer entry, int addressSize);
    }

    /** Runs a lookup with a buffer that grows while glibc says ERANGE; empty when not found or on an error. */
    private static <T> Optional<T> lookup(Lookup lookup, Reader<T> reader) {
        int a = Libc.runtime().addressSize();
        for (int size = 16 * 1024; size <= 16 * 1024 * 1024; size *= 4) {
            Pointer entry = Libc.alloc(8 * a);
            Pointer buf = Libc.alloc(size);
            Pointer result = Libc.alloc(a);
            int rc = lookup.call(entry, buf, size, result);
            if (rc == Libc.ERANGE) {
                continue;
            }
            try {
                return rc != 0 || result.getPointer(0) == null ? Optional.empty() : Optional.of(reader.read(entry, a));
            } finally {
                java.lang.ref.Reference.reachabilityFence(buf);
            }
        }
        return Optional.empty();
    }
}
