package dev.berth.core.internal;

import dev.berth.core.internal.sys.Syscalls;
import java.io.IOException;

/**
 * An fd used by several threads, closed only once no call is using it. Checking a "closed" flag
 * and then calling read(fd) is not enough: a concurrent close(fd) in between, and an open
 * elsewhere in the JVM that reuses the number, would make the read hit somebody else's file.
 * So every use holds a reference, and {@link #close()} leaves the actual close to the last one.
 */
final class SharedFd {
    private final Syscalls sys;
    private final int fd;
    private int users;
    private boolean closing;
    private boolean closed;

    SharedFd(Syscalls sys, int fd) {
        this.sys = sys;
        this.fd = fd;
    }

    /** The fd, for one call; pair with {@link #release()}. */
    synchronized int acquire() throws IOException {
        if (closing) {
            throw new IOException("stream closed");
        }
        users++;
        return fd;
    }

    void release() {
        boolean closeNow;
        synchronized (this) {
            users--;
            closeNow = closing && users == 0 && !closed;
            closed |= closeNow;
        }
        if (closeNow) {
            sys.close(fd);
        }
    }

    /** Closes the fd now, or when the last call using it returns. Idempotent. */
    void close() {
        boolean closeNow;
        synchronized (this) {
            closing = true;
            closeNow = users == 0 && !closed;
            closed |= closeNow;
        }
        if (closeNow) {
            sys.close(fd);
        }
    }
}
