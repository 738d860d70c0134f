package dev.clustermaster.control;

import dev.clustermaster.os.Users;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.function.IntFunction;

/**
 * Decides from SO_PEERCRED (pid, uid, gid) whether a unix-socket peer may use the REPL: the listed uids
 * (by default root and the master's own uid) and members of the configured group. The file mode already keeps others out; this is the second
 * lock, for when the mode or the directory is wider than intended.
 */
final class PeerAccessPolicy {

    /** Outcome with a reason for the log and the refused client. */
    record Decision(boolean allowed, String reason) {
    }

    private final Set<Integer> allowedUids;
    private final String groupName;
    private final Integer groupGid;
    private final Set<String> groupMembers;
    private final IntFunction<Optional<String>> userNames;
    private final IntFunction<Set<Integer>> supplementaryGroups;

    PeerAccessPolicy(Set<Integer> allowedUids, String groupName, Integer groupGid, Set<String> groupMembers,
                     IntFunction<Optional<String>> userNames, IntFunction<Set<Integer>> supplementaryGroups) {
        this.allowedUids = Set.copyOf(allowedUids);
        this.groupName = groupName;
        this.groupGid = groupGid;
        this.groupMembers = Set.copyOf(groupMembers);
        this.userNames = userNames;
        this.supplementaryGroups = supplementaryGroups;
    }

    /** Policy backed by the system's user/group database; fails if the group does not exist. */
    static PeerAccessPolicy forSystem(Set<Integer> allowedUids, String groupName) throws IOException {
        if (groupName == null) {
            return new PeerAccessPolicy(allowedUids, null, null, Set.of(), Users::userName, PeerAccessPolicy::procGroups);
        }
        var group = Users.group(groupName)
                .orElseThrow(() -> new IOException("control socket group '" + groupName + "' does not exist"));
        return new PeerAccessPolicy(allowedUids, groupName, group.gid(), group.members(),
                Users::userName, PeerAccessPolicy::procGroups);
    }

    Decision check(int pid, int uid, int gid) {
        if (allowedUids.contains(uid)) {
            return new Decision(true, "uid " + uid + " is allowed");
        }
        if (groupGid != null) {
            if (gid == groupGid) {
                return new Decision(true, "primary group is " + groupName);
            }
            Optional<String> user = userNames.apply(uid);
            if (user.isPresent() && groupMembers.contains(user.get())) {
                return new Decision(true, "user " + user.get() + " is in group " + groupName);
            }
            if (pid > 0 && supplementaryGroups.apply(pid).contains(groupGid)) {
                return new Decision(true, "process is in group " + groupName);
            }
        }
        String who = "uid " + uid + " (gid " + gid + (pid > 0 ? ", pid " + pid : "") + ")";
        return new Decision(false, who + " is not allowed" + (groupName == null ? "" : " and not in group " + groupName));
    }

    /** Supplementary groups of a live process, from the "Groups:" line of /proc/&lt;pid&gt;/status. */
    static Set<Integer> procGroups(int pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "status"), StandardCharsets.UTF_8)) {
                if (line.startsWith("Groups:")) {
                    Set<Integer> groups = new HashSet<>();
                    for (String g : line.substring(7).trim().split("\\s+")) {
                        if (!g.isEmpty()) {
                            groups.add(Integer.parseInt(g));
                        }
                    }
                    return groups;
                }
            }
        } catch (IOException | RuntimeException e) {
            // the peer may already be gone; then it is simply not a member
        }
        return Set.of();
    }
}
