package dev.berth.core.internal.files;

import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import java.nio.file.Path;

/**
 * A directory tree that paths must not leave: a container's root (or, on the host side of a
 * copy, the directory a copy reads from or writes to). Every path is resolved with
 * {@code openat2(RESOLVE_IN_ROOT)}, so a symlink the container planted (absolute, or full of
 * {@code ..}) resolves inside the tree, never on the host. Below a resolved directory, one name
 * at a time is reached through {@code /proc/self/fd/N/name}, a single component that the calls
 * never follow when it is a symlink.
 */
public final class FsRoot implements AutoCloseable {
    static final long IN_ROOT = Syscalls.RESOLVE_IN_ROOT | Syscalls.RESOLVE_NO_MAGICLINKS;
    static final long BENEATH_NO_LINKS = Syscalls.RESOLVE_BENEATH | Syscalls.RESOLVE_NO_SYMLINKS
            | Syscalls.RESOLVE_NO_MAGICLINKS;
    static final int DIR = Syscalls.O_PATH | Syscalls.O_DIRECTORY | Syscalls.O_CLOEXEC;

    private final Syscalls sys;
    private final int fd;
    private final String description;

    private FsRoot(Syscalls sys, int fd, String description) {
        this.sys = sys;
        this.fd = fd;
        this.description = description;
    }

    /** Opens the tree at {@code hostPath}. */
    public static FsRoot open(Syscalls sys, Path hostPath, String description) {
        return new FsRoot(sys, sys.open(hostPath.toString(), DIR, 0), description);
    }

    /** The tree's own {@code O_PATH} fd (a copy's reader resolves in it). */
    int fd() {
        return fd;
    }

    Syscalls sys() {
        return sys;
    }

    String description() {
        return description;
    }

    /**
     * An {@code O_PATH} fd of the directory at {@code path} (absolute or relative: both from the
     * tree's top), resolved inside the tree.
     */
    int openDirectory(String path) {
        return sys.openat2(fd, relative(path), DIR, IN_ROOT);
    }

    /** An {@code O_PATH} fd of the child directory {@code name} of {@code dirFd}; a symlink is refused. */
    int openChildDirectory(int dirFd, String name) {
        return sys.openat2(dirFd, name, DIR, BENEATH_NO_LINKS);
    }

    /** Opens the child {@code name} of {@code dirFd} with {@code flags}; a symlink is refused, nothing blocks. */
    int openChild(int dirFd, String name, int flags) {
        return sys.openat2(dirFd, name, flags | Syscalls.O_NOFOLLOW | Syscalls.O_NONBLOCK | Syscalls.O_CLOEXEC,
                BENEATH_NO_LINKS);
    }

    /** The child {@code name} of the directory {@code dirFd}, as a path the JDK's file calls can use. */
    static Path child(int dirFd, String name) {
        return Path.of("/proc/self/fd/" + dirFd, name);
    }

    /** The file or directory {@code fd} itself, as a path the JDK's file calls can use. */
    static Path self(int fd) {
        return Path.of("/proc/self/fd/" + fd);
    }

    void close(int dirFd) {
        try {
            sys.close(dirFd);
        } catch (SyscallException e) {
            // a close of our own fd cannot fail in a way worth reporting over the copy's own error
        }
    }

    static String relative(String path) {
        String p = path;
        while (p.startsWith("/")) {
            p = p.substring(1);
        }
        return p.isEmpty() ? "." : p;
    }

    @Override
    public void close() {
        sys.close(fd);
    }
}
