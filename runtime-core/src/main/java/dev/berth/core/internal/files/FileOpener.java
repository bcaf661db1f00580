package dev.berth.core.internal.files;

import java.io.IOException;

/**
 * Opens the entries of a tree for a copy out on behalf of the JVM: a rootless runtime's reader in the user's
 * namespace ({@link NamespaceOpener}), whose root may read the files of the container's other users, which the
 * JVM's user may not. The JVM reads, lists and stats through the fds it gets (permissions are checked at open).
 */
public interface FileOpener extends AutoCloseable {

    /**
     * {@code openat2(dirFd, path, flags, resolve)} as the opener; the fd is the JVM's to close.
     *
     * @throws dev.berth.core.internal.sys.SyscallException with the errno the open failed with
     * @throws IOException when the opener itself failed (it is gone)
     */
    int open(int dirFd, String path, int flags, long resolve) throws IOException;

    /** Ends the opener; nothing it opened stays open on its side. */
    @Override
    void close();

    /** How a copy gets an opener: started for one copy, closed after it. */
    interface Source {
        FileOpener start() throws IOException;
    }
}
