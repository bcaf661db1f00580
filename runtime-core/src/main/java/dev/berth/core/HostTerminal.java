package dev.berth.core;

import dev.berth.core.internal.linux.LinuxSyscalls;
import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Optional;

/**
 * A terminal the JVM itself runs on, for attaching a container's terminal to it (what {@code berth
 * run -it} does): its size, for {@link ContainerSpec.Builder#consoleSize} and {@link
 * Container#resizeTerminal}, and raw mode while its keystrokes go to the container.
 */
public final class HostTerminal {
    private final Syscalls sys;
    private final int fd;
    private final String name;

    HostTerminal(Syscalls sys, int fd, String name) {
        this.sys = sys;
        this.fd = fd;
        this.name = name;
    }

    /** The JVM's standard input (fd 0), when it is a terminal. */
    public static Optional<HostTerminal> stdin() {
        return of(new LinuxSyscalls(), 0, "stdin");
    }

    /** The JVM's standard output (fd 1), when it is a terminal. */
    public static Optional<HostTerminal> stdout() {
        return of(new LinuxSyscalls(), 1, "stdout");
    }

    static Optional<HostTerminal> of(Syscalls sys, int fd, String name) {
        return sys.isatty(fd) ? Optional.of(new HostTerminal(sys, fd, name)) : Optional.empty();
    }

    /** Its current size (TIOCGWINSZ). */
    public TerminalSize size() {
        try {
            int[] cr = sys.windowSize(fd);
            return new TerminalSize(cr[0], cr[1]);
        } catch (SyscallException e) {
            throw failure(e);
        }
    }

    /**
     * Puts the terminal into raw mode ({@code cfmakeraw}: no echo, no line editing, no signal
     * characters, so Ctrl-C is a 0x03 byte to pass on; no output processing) until the returned
     * handle is closed, which restores the settings it had. Should the JVM exit first (System.exit,
     * or a signal whose default the JVM keeps), a shutdown hook restores them; only SIGKILL leaves
     * the terminal raw.
     */
    public RawMode enterRawMode() {
        byte[] saved;
        try {
            saved = sys.tcgetattr(fd);
        } catch (SyscallException e) {
            throw failure(e);
        }
        RawMode raw = new RawMode(saved);
        Runtime.getRuntime().addShutdownHook(raw.hook); // first: from here on, an exit restores the settings
        try {
            sys.tcsetattr(fd, sys.makeRaw(saved));
        } catch (SyscallException e) {
            raw.disarm();
            throw failure(e);
        }
        return raw;
    }

    private UncheckedIOException failure(SyscallException e) {
        return new UncheckedIOException(new IOException(name + " terminal: " + e.getMessage(), e));
    }

    @Override
    public String toString() {
        return "HostTerminal[" + name + "]";
    }

    /** A terminal in raw mode; closing it (once, from any thread) restores the settings it had. */
    public final class RawMode implements AutoCloseable {
        private final byte[] saved;
        private final Thread hook;
        private boolean restored;

        private RawMode(byte[] saved) {
            this.saved = saved;
            this.hook = new Thread(this::restore, "berth-terminal-restore");
        }

        @Override
        public void close() {
            restore();
            disarm();
        }

        private void disarm() {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is exiting: the hook runs (or ran) and finds the terminal restored
            }
        }

        private synchronized void restore() {
            if (restored) {
                return;
            }
            restored = true;
            try {
                sys.tcsetattr(fd, saved);
            } catch (SyscallException e) {
                throw failure(e);
            }
        }
    }
}
