package dev.berth.examples.cli;

import dev.berth.core.Container;
import dev.berth.core.ExecProcess;
import dev.berth.core.ExitStatus;
import dev.berth.core.HostTerminal;
import dev.berth.core.TerminalSize;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Optional;
import sun.misc.Signal;

/**
 * {@code berth run -t} and {@code -it}: the container's terminal attached to the launcher's own
 * stdio, as docker's are. Its output goes to stdout; with {@code -i} stdin goes to it, with the
 * launcher's terminal in raw mode, so Ctrl-C is a byte the container's terminal turns into SIGINT
 * for its foreground process group. The launcher's terminal gets its settings back on every way
 * out but SIGKILL. SIGWINCH resizes the container's terminal to the launcher's.
 */
final class TerminalAttachment {
    /** How long the container's last output may take to drain once it has ended. */
    private static final long DRAIN_MILLIS = 5000;

    private final boolean interactive;
    private volatile Attached container;

    /** Installed before the start, so that a resize during it is not lost (nor taken for a signal to forward). */
    TerminalAttachment(boolean interactive) {
        this.interactive = interactive;
        try {
            Signal.handle(new Signal("WINCH"), s -> resize());
        } catch (IllegalArgumentException e) {
            // no SIGWINCH for this JVM: the terminal keeps the size it started with
        }
    }

    /** The size of the launcher's terminal (its stdout's, else its stdin's), or 80x24 without one. */
    static TerminalSize hostSize() {
        Optional<HostTerminal> t = HostTerminal.stdout().or(HostTerminal::stdin);
        return t.map(HostTerminal::size).orElse(TerminalSize.DEFAULT);
    }

    private void resize() {
        Attached c = container;
        if (c != null) {
            TerminalSize size = hostSize();
            try {
                c.resizeTerminal(size.columns(), size.rows());
            } catch (RuntimeException e) {
                // the container ended meanwhile
            }
        }
    }

    /** Copies between the launcher's stdio and the container's terminal until the container ends. */
    ExitStatus run(Container c) throws InterruptedException {
        return run(Attached.of(c));
    }

    /** Copies between the launcher's stdio and an exec'd process's terminal until the process ends. */
    ExitStatus run(ExecProcess p) throws InterruptedException {
        return run(Attached.of(p));
    }

    private ExitStatus run(Attached c) throws InterruptedException {
        container = c;
        resize(); // a resize during the start
        Optional<HostTerminal> keyboard = interactive ? HostTerminal.stdin() : Optional.empty();
        try (HostTerminal.RawMode raw = keyboard.map(HostTerminal::enterRawMode).orElse(null)) {
            // started once raw mode is on: what the container prints came after it
            Thread output = copy(c.stdout(), new FileOutputStream(FileDescriptor.out), "berth-terminal-output");
            if (interactive) {
                copy(new FileInputStream(FileDescriptor.in), c.stdin(), "berth-terminal-input");
            }
            ExitStatus status = c.onExit().join();
            output.join(DRAIN_MILLIS); // the master reads end of file once every process of the container is gone
            return status;
        }
    }

    /** A daemon thread copying until end of file or an error (a stdin read never blocks the exit). */
    private static Thread copy(InputStream from, OutputStream to, String name) {
        Thread t = new Thread(() -> {
            byte[] b = new byte[8192];
            try {
                for (int n; (n = from.read(b)) > 0; ) {
                    to.write(b, 0, n);
                    to.flush();
                }
            } catch (IOException e) {
                // the container closed its terminal, or the launcher's stdio went away
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }
}
