package dev.clustermaster.os;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The user database as libc's own getent(1) reads it, and this process's ids as the files it creates carry them. */
class UsersTest {

    @TempDir
    Path tmp;

    private static List<String[]> getent(String db) throws Exception {
        Process p = new ProcessBuilder("getent", db).redirectErrorStream(true).start();
        List<String[]> rows = new ArrayList<>();
        for (String line : new String(p.getInputStream().readAllBytes()).split("\n")) {
            if (!line.isBlank()) {
                rows.add(line.split(":", -1));
            }
        }
        assertEquals(0, p.waitFor());
        return rows;
    }

    @Test
    void ownIdsAreThoseOfTheFilesThisProcessCreates() throws Exception {
        Path f = Files.createFile(tmp.resolve("f"));
        assertEquals(Files.getAttribute(f, "unix:uid"), Users.ownUid());
        assertEquals(Files.getAttribute(f, "unix:uid"), Users.effectiveUid());
        assertEquals(Files.getAttribute(f, "unix:gid"), Users.ownGid());
        assertEquals(Optional.of(Files.readAttributes(f, PosixFileAttributes.class).group().getName()), Users.ownGroupName());
    }

    @Test
    void everyGroupWithItsGidAndMembers() throws Exception {
        List<String[]> groups = getent("group");
        assertFalse(groups.isEmpty());
        boolean sawMembers = false;
        for (String[] g : groups) {
            Set<String> members = g[3].isEmpty() ? Set.of() : new HashSet<>(Arrays.asList(g[3].split(",")));
            sawMembers |= !members.isEmpty();
            assertEquals(Optional.of(new Users.GroupEntry(g[0], Integer.parseInt(g[2]), members)), Users.group(g[0]), g[0]);
        }
        assertTrue(sawMembers || groups.size() < 3, "a group with members to compare");
        assertEquals(Optional.empty(), Users.group("cm-no-such-group"));
    }

    @Test
    void everyUserWithItsPrimaryGroup() throws Exception {
        Set<Integer> seen = new HashSet<>();
        List<String[]> groups = getent("group");
        for (String[] u : getent("passwd")) {
            int uid = Integer.parseInt(u[2]);
            int gid = Integer.parseInt(u[3]);
            if (seen.add(uid)) {   // the first name of a uid is the one getpwuid finds
                assertEquals(Optional.of(u[0]), Users.userName(uid), u[0]);
                assertEquals(Optional.of(gid), Users.primaryGid(uid), u[0]);
            }
            String group = groups.stream().filter(g -> g[2].equals(u[3])).map(g -> g[0]).findFirst()
                    .orElse(u[3]);
            assertEquals(Optional.of(group), Users.primaryGroupName(u[0]), u[0]);
        }
        assertEquals(Optional.empty(), Users.primaryGroupName("cm-no-such-user"));
        assertEquals(Optional.empty(), Users.userName(987_654));
    }
}
