package dev.berth.core.internal.plan;

import java.util.List;

/**
 * How the container init enters its cgroups: clone3 straight into a v2 cgroup
 * ({@code CLONE_INTO_CGROUP}, fd in the monitor), and/or writing "0" to
 * cgroup.procs files through fds it was handed, before anything else runs.
 */
public record CgroupPlacement(int cloneIntoFd, List<Join> joins) {

    /** A cgroup.procs file open in the monitor at {@code fd}. */
    public record Join(int fd, String path) {}

    public static final CgroupPlacement NONE = new CgroupPlacement(-1, List.of());

    public CgroupPlacement {
        joins = List.copyOf(joins);
    }
}
