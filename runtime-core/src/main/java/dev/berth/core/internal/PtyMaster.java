package dev.berth.core.internal;

import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * The JVM's end of a container's pseudo-terminal, the master the init opened in the container's
 * devpts: read as what the container writes, written as what it reads, and resized. Each use has
 * an fd of its own (dups of the master, close-on-exec), so closing one stream leaves the others
 * working, and each is safe to close while another thread uses it.
 */
final class PtyMaster implements AutoCloseable {
    private final Syscalls sys;
    private final FdInputStream output;
    private final FdOutputStream input;
    private final SharedFd control;

    /** Owns {@code master} from here on, also when this throws. */
    PtyMaster(Syscalls sys, int master) {
        int in = -1;
        int ctl;
        try {
            in = sys.dup(master);
            ctl = sys.dup(master);
        } catch (RuntimeException e) {
            sys.close(master);
            if (in >= 0) {
                sys.close(in);
            }
            throw e;
        }
        this.sys = sys;
        this.output = new FdInputStream(sys, master, true);
        this.input = new FdOutputStream(sys, in);
        this.control = new SharedFd(sys, ctl);
    }

    /** What the container writes to its terminal (stdout and stderr, echo included). */
    InputStream output() {
        return output;
    }

    /** What the container reads from its terminal: keystrokes, including control characters (0x03: SIGINT). */
    OutputStream input() {
        return input;
    }

    /** TIOCSWINSZ: the container's foreground process group gets SIGWINCH when the size changes. */
    void resize(int columns, int rows) {
        int fd;
        try {
            fd = control.acquire();
        } catch (IOException e) {
            throw new IllegalStateException("terminal closed", e);
        }
        try {
            sys.setWindowSize(fd, columns, rows);
        } catch (SyscallException e) {
            throw new IllegalStateException(e.getMessage(), e);
        } finally {
            control.release();
        }
    }

    @Override
    public void close() {
        output.close();
        input.close();
        control.close();
    }
}
