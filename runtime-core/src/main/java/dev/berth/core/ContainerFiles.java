package dev.berth.core;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;

/**
 * Files into and out of a container, running or ended (until it is closed), as the container
 * sees them: its root (an image's overlay, or a directory) and the mounts in it. Every container
 * path is resolved inside the container's root, so a symlink the container or its image planted
 * can neither read nor write anything of the host. Container paths are absolute, or relative to
 * the root.
 */
public interface ContainerFiles {

    /**
     * Extracts a tar into {@code containerDir}, an existing directory. Entries keep the archive's
     * modes, owners and times; an existing file of an entry's name is replaced, an existing
     * directory entered. Device nodes and names with {@code ..} are refused.
     */
    void copyTo(String containerDir, InputStream tar) throws IOException;

    /**
     * A tar of {@code containerPath}, its top entry named after the path's last component (a
     * path ending in {@code /.}: the directory's contents only). Symlinks are archived as
     * symlinks. Read it to the end or close it: it is written while it is read.
     */
    InputStream copyFrom(String containerPath) throws IOException;

    /**
     * docker's {@code cp HOST_PATH CONTAINER:DEST}: a file lands at {@code containerDest}, or
     * inside it when that is a directory; a directory becomes {@code containerDest} when that does
     * not exist, and lands inside it otherwise ({@code hostSource} ending in {@code /.}: its
     * contents do). Copied entries belong to root in the container.
     */
    void copyIn(Path hostSource, String containerDest) throws IOException;

    /** docker's {@code cp CONTAINER:SRC HOST_PATH}, with the rules of {@link #copyIn} the other way round. */
    void copyOut(String containerSource, Path hostDest) throws IOException;
}
