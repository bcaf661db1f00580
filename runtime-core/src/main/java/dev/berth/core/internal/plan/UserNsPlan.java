package dev.berth.core.internal.plan;

/**
 * A container in a user namespace of its own (created with its other namespaces, which it then owns):
 * what its plan needs beyond the spec.
 *
 * @param treeSocketFd   where the init finds its end of the socket the JVM sends the detached trees on,
 *                       once the maps are written: the idmapped root first, then each generated /etc file
 *                       ({@link PlanCompiler#shownFiles}), in that order ({@link OpCode#RECV_MOUNT})
 * @param ptyGroupMapped whether the container's gid 5 ({@code tty}) is mapped: devpts is mounted with
 *                       {@code gid=5} only then (the kernel refuses an unmapped gid)
 * @param deviceSources  the host's node of each device (by its path in the container) that is not at the
 *                       same path on the host: bound onto an empty file, mknod being refused in a user namespace
 */
public record UserNsPlan(int treeSocketFd, boolean ptyGroupMapped, java.util.Map<String, String> deviceSources,
        Rootless rootless) {

    /**
     * A rootless container's (the JVM is not root): the init mounts its root itself inside the new user and mount
     * namespaces (an overlay with {@code userxattr}, or a bind of the directory; no tree comes over a socket, no
     * idmapped mount exists there), binds the spec's mounts by path, and the /etc files from the state directory,
     * which are the user's.
     *
     * @param setgroups   whether setgroups is allowed (false with the single-id map, whose setgroups is denied)
     * @param layerOwners the {@link OpCode#LAYER_OWNERS} ops to run before the root's layers are mounted
     * @param joinFd      where the monitor finds the runtime's shared user namespace to clone the init into (its
     *                    maps already written), or -1: the init gets a new one, mapped between the clone and go
     */
    public record Rootless(boolean setgroups, java.util.List<Op> layerOwners, int joinFd) {
        public Rootless {
            layerOwners = java.util.List.copyOf(layerOwners);
        }

        public Rootless(boolean setgroups, java.util.List<Op> layerOwners) {
            this(setgroups, layerOwners, -1);
        }
    }

    public UserNsPlan(int treeSocketFd, boolean ptyGroupMapped, java.util.Map<String, String> deviceSources) {
        this(treeSocketFd, ptyGroupMapped, deviceSources, null);
    }

    public UserNsPlan {
        deviceSources = java.util.Map.copyOf(deviceSources);
    }
}
