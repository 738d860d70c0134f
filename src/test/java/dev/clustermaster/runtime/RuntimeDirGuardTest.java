package dev.clustermaster.runtime;

import dev.clustermaster.os.Posix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class RuntimeDirGuardTest {

    @TempDir
    Path tmp;

    private final int euid = Posix.get().geteuid();

    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    }

    /** A directory like /tmp: everybody may create entries, the sticky bit keeps them from removing others'. */
    private Path sharedTmp() throws Exception {
        Path shared = Files.createDirectory(tmp.resolve("shared"));
        Posix.get().chmod(shared.toString(), 01777);
        return shared;
    }

    @Test
    void createsWithExactModes() throws Exception {
        Path run = tmp.resolve("run/app");
        RuntimeDirGuard.ensure(run, euid);
        assertTrue(Set.of("rwxr-xr-x", "rwxr-x---", "rwx------").contains(mode(run)), mode(run));
        Path inTmp = sharedTmp().resolve("app-user");
        RuntimeDirGuard.ensure(inTmp, euid);
        assertEquals("rwx------", mode(inTmp), "private in a directory everybody may write");
        RuntimeDirGuard.ensure(inTmp, euid); // its own existing directory is fine
    }

    /** The attack of issue 12: another user creates $TMPDIR/NAME-USER first. */
    @Test
    void refusesADirectoryAnotherUserCreated() throws Exception {
        assumeTrue(euid == 0, "needs root to act as another user");
        Path planted = sharedTmp().resolve("app-root");
        Files.createDirectory(planted, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Posix.get().chown(planted.toString(), 65534, 65534); // as if user nobody had made it
        IOException e = assertThrows(IOException.class, () -> RuntimeDirGuard.ensure(planted, euid));
        assertEquals("runtime directory " + planted + " belongs to uid 65534, not to this user (uid 0); "
                + "remove it or choose another (runtime.dir, XDG_RUNTIME_DIR)", e.getMessage());
    }

    @Test
    void refusesWiderModesAndLinks() throws Exception {
        Path wide = Files.createDirectory(tmp.resolve("wide"));
        Posix.get().chmod(wide.toString(), 0777);
        IOException e = assertThrows(IOException.class, () -> RuntimeDirGuard.ensure(wide, euid));
        assertTrue(e.getMessage().contains("has mode 0777, wider than 0755; run chmod 755 " + wide), e.getMessage());

        Path inTmp = Files.createDirectory(sharedTmp().resolve("app-user"));
        Posix.get().chmod(inTmp.toString(), 0755);
        e = assertThrows(IOException.class, () -> RuntimeDirGuard.ensure(inTmp, euid));
        assertTrue(e.getMessage().contains("wider than 0700"), e.getMessage());

        Path target = Files.createDirectory(tmp.resolve("target"));
        Path link = Files.createSymbolicLink(tmp.resolve("link"), target);
        e = assertThrows(IOException.class, () -> RuntimeDirGuard.ensure(link, euid));
        assertTrue(e.getMessage().endsWith("is a symbolic link; remove it or choose another (runtime.dir, XDG_RUNTIME_DIR)"), e.getMessage());
    }

    @Test
    void removesWorkerDirsOfDeadMastersOnly() throws Exception {
        Path outside = Files.writeString(tmp.resolve("precious"), "keep");
        Path dead = Files.createDirectories(tmp.resolve("workers-999999-abc"));
        Files.writeString(dead.resolve("w1.notify"), "x");
        Files.createSymbolicLink(dead.resolve("link"), outside);
        Files.createDirectories(dead.resolve("sub")).resolve("f").toFile().createNewFile();
        Path live = Files.createDirectories(tmp.resolve("workers-1-def"));
        Path own = Files.createDirectories(tmp.resolve("workers-" + Posix.get().getpid() + "-ghi"));
        Path other = Files.createDirectories(tmp.resolve("workersfoo"));

        assertEquals(1, RuntimeDirGuard.removeStaleWorkerDirs(tmp, euid, RuntimeDirGuard::processExists));
        assertFalse(Files.exists(dead, LinkOption.NOFOLLOW_LINKS));
        assertEquals("keep", Files.readString(outside), "links out of a stale dir are not followed");
        assertTrue(Files.isDirectory(live) && Files.isDirectory(own) && Files.isDirectory(other));
    }
}
