package dev.berth.core.internal.plan;

/** Where a container's root comes from: a host directory, or an overlay of image layers. */
public sealed interface RootSource {

    /** The directory pivot_root enters. */
    String mountpoint();

    /** A host directory, bind-mounted onto itself inside the container's mount namespace. */
    record Directory(String path) implements RootSource {
        @Override
        public String mountpoint() {
            return path;
        }
    }

    /**
     * An overlay mounted inside the container's mount namespace at {@code mountpoint}. The
     * init changes into {@code linkDir} first, so {@code lowerdir} can use the store's short
     * links (and upper/work paths relative to it) and stays below a page for 128 layers.
     */
    record Overlay(String linkDir, String lowerdir, String upperdir, String workdir, String mountpoint)
            implements RootSource {

        public String options() {
            return "lowerdir=" + lowerdir + ",upperdir=" + upperdir + ",workdir=" + workdir;
        }
    }
}
