package dev.berth.core.testing;

import dev.berth.core.SubordinateIds;
import dev.berth.linux.internal.ProcStatus;
import dev.berth.testing.Preconditions;
import java.nio.file.Path;
import java.util.List;

/**
 * The ids a rootless test runs with: the JVM's effective uid and gid (a JVM run as root fails, never
 * skips: {@link Preconditions#requireUnprivileged}) and the user's first subordinate ranges of
 * {@code /etc/subuid} and {@code /etc/subgid}, by name or uid, as the runtime maps them (container id 1
 * onward). The rootless suite's user has them; a user without them fails naming the file.
 */
public record RootlessIds(long uid, long gid, SubordinateIds.Range subuid, SubordinateIds.Range subgid) {

    /** The ids of this JVM's user; call it first in a rootless test's {@code @BeforeAll}. */
    public static RootlessIds require() {
        long uid = Preconditions.requireUnprivileged();
        String user = System.getProperty("user.name");
        return new RootlessIds(uid, ProcStatus.effectiveGid(), first(SubordinateIds.SUBUID, user, uid),
                first(SubordinateIds.SUBGID, user, uid));
    }

    private static SubordinateIds.Range first(Path file, String user, long uid) {
        List<SubordinateIds.Range> r = SubordinateIds.read(file).rangesOf(user, uid);
        if (r.isEmpty()) {
            throw new AssertionError(file + ": no subordinate ids for " + user + " (uid " + uid
                    + "); the rootless tests need a range");
        }
        return r.get(0);
    }
}
