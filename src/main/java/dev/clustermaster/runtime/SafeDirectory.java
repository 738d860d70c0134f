package dev.clustermaster.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;

/**
 * Whether files in a directory can be trusted: no other user can replace them or anything on the way to them.
 * Like OpenSSH's safe_path: the directory and each parent, links resolved, must be owned by root or us, and no
 * group or world write unless sticky (as /tmp); the directory itself must be ours and owner-only.
 */
final class SafeDirectory {
    private static final int STICKY = 01000;

    private SafeDirectory() {
    }

    /** What lstat says about one file. */
    record Stat(boolean regularFile, boolean directory, int uid, int mode, long size, FileTime mtime, Object inode) {
        boolean othersMayWrite() {
            return (mode & 022) != 0;
        }
    }

    static Stat lstat(Path p) throws IOException {
        Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,ino,size,lastModifiedTime", LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) a.get("mode");
        int type = mode & 0170000;
        return new Stat(type == 0100000, type == 0040000, (Integer) a.get("uid"), mode & 07777, (Long) a.get("size"),
                (FileTime) a.get("lastModifiedTime"), a.get("ino"));
    }

    /**
     * @param real a directory path without links ({@link Path#toRealPath})
     * @throws IOException naming the first unsafe directory and why
     */
    static void check(Path real, int ownUid) throws IOException {
        Stat own = lstat(real);
        if (!own.directory()) {
            throw new IOException(real + " is not a directory: remove it");
        }
        if (own.uid() != ownUid) {
            throw new IOException(real + " is owned by uid " + own.uid() + ", not by this master's user: chown " + ownUid + " " + real);
        }
        if ((own.mode() & 077) != 0) {
            throw new IOException(real + " is open to other users (mode " + Integer.toOctalString(own.mode())
                    + "); make it owner-only: chmod 700 " + real);
        }
        for (Path p = real.getParent(); p != null; p = p.getParent()) {
            Stat s = lstat(p);
            if (s.uid() != 0 && s.uid() != ownUid) {
                throw new IOException(p + " is owned by uid " + s.uid() + ": another user could replace what is in it; chown root "
                        + p);
            }
            if (s.othersMayWrite() && (s.mode() & STICKY) == 0) {
                throw new IOException(p + " is writable by other users (mode " + Integer.toOctalString(s.mode())
                        + ") without the sticky bit: chmod go-w " + p);
            }
        }
    }
}
