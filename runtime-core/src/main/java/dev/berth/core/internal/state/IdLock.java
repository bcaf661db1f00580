package dev.berth.core.internal.state;

import dev.berth.core.internal.sys.Syscalls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Ownership of one container id under a state root: an exclusive {@code flock} on
 * {@code <stateRoot>/.<id>.lock}, held by the runtime that owns the container for as long as
 * anything of it exists. The kernel drops a {@code flock} when the last fd of its open file goes,
 * so a JVM killed with {@code kill -9} releases it with no code of its own running: a lock that can
 * be taken means nobody owns the id, and what its state names is a dead runtime's leftover. A lock
 * that cannot be taken is never second-guessed (no pid checks, no timeouts).
 *
 * <p>Why {@code flock} and not {@code fcntl} record locks ({@link java.nio.channels.FileLock}):
 * {@code fcntl} locks belong to the process, so two runtimes in one JVM would not exclude each
 * other, and closing any fd of the file drops them; a {@code flock} belongs to the open file, so
 * it excludes even another fd of the same process, and could be handed to a monitor (an fd passed
 * on keeps it) for containers that outlive their JVM.
 *
 * <p>The lock file is removed by its holder when the id is released. Someone who opened the file
 * before the removal may then get the lock on the removed file: {@link #tryAcquire} therefore checks
 * that the file it locked is still the one at the path, and tries again if not.
 */
public final class IdLock implements AutoCloseable {
    private final Syscalls sys;
    private final Path file;
    private int fd;

    private IdLock(Syscalls sys, Path file, int fd) {
        this.sys = sys;
        this.file = file;
        this.fd = fd;
    }

    /** The lock, or null when another holds it (a live runtime, or a reconciler at work). */
    public static IdLock tryAcquire(Syscalls sys, Path file) {
        for (int attempt = 0; attempt < 1000; attempt++) {
            int fd = sys.open(file.toString(), Syscalls.O_RDWR | Syscalls.O_CREAT | Syscalls.O_CLOEXEC
                    | Syscalls.O_NOFOLLOW, 0600);
            boolean locked;
            try {
                locked = sys.flock(fd, Syscalls.LOCK_EX | Syscalls.LOCK_NB, file.toString());
            } catch (RuntimeException e) {
                sys.close(fd);
                throw e;
            }
            if (!locked) {
                sys.close(fd);
                return null;
            }
            if (isFileAt(fd, file)) {
                return new IdLock(sys, file, fd);
            }
            sys.close(fd); // its holder removed it after our open: the id's lock is the file at the path now
        }
        throw new IllegalStateException("lock " + file + ": replaced 1000 times while being taken");
    }

    private static boolean isFileAt(int fd, Path file) {
        try {
            Path opened = Path.of("/proc/self/fd/" + fd);
            return Objects.equals(Files.getAttribute(opened, "unix:ino"),
                    Files.getAttribute(file, "unix:ino", LinkOption.NOFOLLOW_LINKS))
                    && Objects.equals(Files.getAttribute(opened, "unix:dev"),
                    Files.getAttribute(file, "unix:dev", LinkOption.NOFOLLOW_LINKS));
        } catch (NoSuchFileException e) {
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException("lock " + file + ": " + e.getMessage(), e);
        }
    }

    public Path file() {
        return file;
    }

    /** Removes the lock file, then releases the lock: the id is free, and nothing of it is left. */
    public synchronized void release() {
        if (fd < 0) {
            return;
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException("removing lock " + file + ": " + e.getMessage(), e);
        } finally {
            close();
        }
    }

    /** Releases the lock and keeps the file (the id stays taken by what its state names). */
    @Override
    public synchronized void close() {
        if (fd >= 0) {
            sys.close(fd);
            fd = -1;
        }
    }
}
