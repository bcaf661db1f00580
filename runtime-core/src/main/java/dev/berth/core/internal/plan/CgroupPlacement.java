package dev.berth.core.internal.plan;

import java.util.List;

/**
 * How the container init enters its cgroups: clone3 straight into a v2 cgroup
 * ({@code CLONE_INTO_CGROUP}, fd in the monitor), and/or writing "0" to
 * cgroup.procs files through fds it was handed, before anything else runs; and whether
 * those cgroups enforce the device policy.
 *
 * @param devicePolicy true when the cgroup enforces the container's device policy; without
 *                     one the container must not get CAP_MKNOD (a node it made in /dev could
 *                     then be opened)
 */
public record CgroupPlacement(int cloneIntoFd, List<Join> joins, boolean devicePolicy) {

    /** A cgroup.procs file open in the monitor at {@code fd}. */
    public record Join(int fd, String path) {}

    public static final CgroupPlacement NONE = new CgroupPlacement(-1, List.of(), false);

    public CgroupPlacement {
        joins = List.copyOf(joins);
    }
}
