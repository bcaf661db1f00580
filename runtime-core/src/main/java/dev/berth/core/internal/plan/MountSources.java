package dev.berth.core.internal.plan;

import java.util.List;

/**
 * What the plan's mounts refer to beyond the spec: for each of {@code spec.mounts()}, in order,
 * the fd of its detached tree in the monitor (bind mounts and volumes, opened by the JVM with
 * {@code open_tree}; -1 for a tmpfs) and whether that tree's root is a file; and whether the init
 * stops before the mounts ({@link OpCode#SYNC}) for the JVM to fill new volumes from the image.
 */
public record MountSources(List<Source> sources, boolean populateFirst) {

    /** One mount's detached tree. */
    public record Source(int fd, boolean file, String hostPath) {
        /** A mount with no tree (a tmpfs). */
        public static final Source NONE = new Source(-1, false);

        public Source(int fd, boolean file) {
            this(fd, file, null);
        }

        /** A rootless container's bind or volume: the init binds its host path (no detached tree). */
        public static Source byPath(String hostPath, boolean file) {
            return new Source(-1, file, hostPath);
        }
    }

    public static final MountSources NONE = new MountSources(List.of(), false);

    public MountSources {
        sources = List.copyOf(sources);
    }
}
