package dev.berth.core.internal;

import dev.berth.core.internal.sys.Syscalls;
import java.nio.file.Path;

/**
 * An ended container's root, mounted again in a mount namespace of its own by an init that
 * holds it (see {@link Launcher#holdRoot}). Closing it ends the holder, and the mounts with it.
 */
public final class RootHold implements AutoCloseable {
    private final Syscalls sys;
    private final long pid;
    private final long monitor;
    private final int ctl;
    private final String mountpoint;
    private boolean closed;

    RootHold(Syscalls sys, long pid, long monitor, int ctl, String mountpoint) {
        this.sys = sys;
        this.pid = pid;
        this.monitor = monitor;
        this.ctl = ctl;
        this.mountpoint = mountpoint;
    }

    /** The held root, as the host reaches it: through the holder's root, at the root's mount point. */
    public Path root() {
        return Path.of("/proc/" + pid + "/root" + mountpoint);
    }

    /** The holder's pid: its mount namespace is the one {@link #root()} lies in. */
    public long pid() {
        return pid;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            release(sys, monitor, ctl);
        }
    }

    /** Closing the control socket makes the monitor kill the holder; then the monitor is reaped. */
    static void release(Syscalls sys, long monitor, int ctl) {
        if (ctl >= 0) {
            sys.close(ctl);
        }
        if (monitor > 0) {
            sys.waitpid(monitor, false);
        }
    }
}
