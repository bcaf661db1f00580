package dev.berth.examples.cli;

import dev.berth.core.Container;
import dev.berth.core.ExecProcess;
import dev.berth.core.ExitStatus;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;

/** What the launcher attaches its stdio and signals to: a container's target, or a process exec'd into one. */
interface Attached {
    void signal(int signal);

    void resizeTerminal(int columns, int rows);

    InputStream stdout();

    OutputStream stdin();

    CompletableFuture<ExitStatus> onExit();

    static Attached of(Container c) {
        return new Attached() {
            @Override
            public void signal(int signal) {
                c.signal(signal);
            }

            @Override
            public void resizeTerminal(int columns, int rows) {
                c.resizeTerminal(columns, rows);
            }

            @Override
            public InputStream stdout() {
                return c.stdout();
            }

            @Override
            public OutputStream stdin() {
                return c.stdin();
            }

            @Override
            public CompletableFuture<ExitStatus> onExit() {
                return c.onExit();
            }
        };
    }

    static Attached of(ExecProcess p) {
        return new Attached() {
            @Override
            public void signal(int signal) {
                p.signal(signal);
            }

            @Override
            public void resizeTerminal(int columns, int rows) {
                p.resizeTerminal(columns, rows);
            }

            @Override
            public InputStream stdout() {
                return p.stdout();
            }

            @Override
            public OutputStream stdin() {
                return p.stdin();
            }

            @Override
            public CompletableFuture<ExitStatus> onExit() {
                return p.onExit();
            }
        };
    }
}
