package dev.berth.core;

import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A process running in a container, started by {@link Container#exec} (or
 * {@link ContainerRuntime#exec}). It ends on its own, when it is killed, when its container ends
 * (its PID namespace goes), or when the runtime that started it is closed. Closing it kills it if
 * it still runs and releases its streams; use it in try-with-resources.
 */
public interface ExecProcess extends AutoCloseable {

    /** Its host pid (the pid the host's /proc names it by, not the one it has in the container). */
    long pid();

    /**
     * Completes when it has ended, with its exit code or terminating signal. Dependants run on the
     * runtime's callback executor, never on its supervision threads.
     */
    CompletableFuture<ExitStatus> onExit();

    boolean isRunning();

    /** Sends a signal to it (through its pidfd: never to a process that reused its pid); no effect once it ended. */
    void signal(int signal);

    /** SIGKILL. */
    void kill();

    /** Waits at most {@code timeout} for it to end; empty when it still runs. */
    Optional<ExitStatus> waitFor(Duration timeout) throws InterruptedException;

    /** Its stdin when the spec asked for {@link Stdio#pipe()}; with {@link ExecSpec#tty()}, the input of its terminal. */
    OutputStream stdin();

    /** Its stdout when the spec asked for {@link Stdio#pipe()}; with {@link ExecSpec#tty()}, the output of its terminal. */
    InputStream stdout();

    /** Its stderr when the spec asked for {@link Stdio#pipe()} (with a terminal, it goes to {@link #stdout()}). */
    InputStream stderr();

    /**
     * Sets the size of its terminal; its foreground process group gets SIGWINCH. No effect once it ended.
     *
     * @throws IllegalStateException when it has no terminal
     */
    void resizeTerminal(int columns, int rows);

    /** Kills it if it runs, waits for it to end, and closes its streams. */
    @Override
    void close();
}
