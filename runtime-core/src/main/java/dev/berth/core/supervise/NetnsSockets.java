package dev.berth.core.supervise;

import dev.berth.core.internal.state.ProcessId;
import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.nio.channels.SocketChannel;

/**
 * Creates a TCP socket inside a container's network namespace without forking: the calling thread
 * enters the namespace ({@code setns}, allowed for one thread of a multi-threaded process), creates
 * the socket (a socket stays in the namespace it was created in), and returns at once to the
 * runtime's namespace, before anything else runs on it. Nothing but {@code socket(2)} happens
 * inside: no file is opened there, no path of the container is read.
 *
 * <p>If the way back fails, the thread is {@link StrandedThreadError stranded} and must run nothing
 * else; {@link HealthScheduler} replaces it.
 */
public final class NetnsSockets {
    private final Syscalls sys;
    /** The runtime's own network namespace, opened on the thread that built the runtime. */
    private final int home;

    public NetnsSockets(Syscalls sys) {
        this.sys = sys;
        this.home = sys.open("/proc/thread-self/ns/net", Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
    }

    /** Moves the calling thread to the runtime's network namespace (a new scheduler thread's first step). */
    public void enterHome() {
        try {
            sys.setns(home, Syscalls.CLONE_NEWNET, "/proc/thread-self/ns/net of the runtime");
        } catch (SyscallException e) {
            throw new StrandedThreadError(e.getMessage(), e);
        }
    }

    /**
     * A new, non-blocking TCP socket in the network namespace of the process {@code init}, or an
     * IOException when that process is gone (its pid may be another's now: the namespace is only
     * used when the process still has the start time it had).
     */
    public SocketChannel openIn(ProcessId init) throws IOException {
        String ns = "/proc/" + init.pid() + "/ns/net";
        int target;
        try {
            target = sys.open(ns, Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
        } catch (SyscallException e) {
            throw new IOException(e.getMessage(), e);
        }
        SocketChannel ch = null;
        try {
            // the namespace fd names the process that had the pid when it was opened: still the init?
            if (ProcessId.startTime(init.pid()) != init.startTime()) {
                throw new IOException("container init " + init.pid() + " is gone");
            }
            sys.setns(target, Syscalls.CLONE_NEWNET, ns);
            try {
                ch = SocketChannel.open(StandardProtocolFamily.INET);
            } finally {
                back();
            }
            ch.configureBlocking(false);
            SocketChannel out = ch;
            ch = null;
            return out;
        } catch (SyscallException e) {
            throw new IOException(e.getMessage(), e);
        } finally {
            sys.close(target);
            if (ch != null) {
                ch.close();
            }
        }
    }

    private void back() {
        try {
            sys.setns(home, Syscalls.CLONE_NEWNET, "/proc/thread-self/ns/net of the runtime");
        } catch (RuntimeException e) {
            throw new StrandedThreadError("setns back to the runtime's network namespace failed: " + e.getMessage(), e);
        }
    }

    public void close() {
        sys.close(home);
    }
}
