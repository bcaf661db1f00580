package dev.berth.core;

import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A started container. Closing it kills it if it still runs and releases everything it
 * held; use it in try-with-resources.
 */
public interface Container extends AutoCloseable {

    /** The container id, unique within its runtime. */
    String id();

    /** The host pid of the container's init (PID 1 inside), which runs the target as its child. */
    long pid();

    /** Completes when the target has ended, with its exit code or terminating signal. */
    CompletableFuture<ExitStatus> onExit();

    boolean isRunning();

    /**
     * Sends a signal: the init forwards every catchable signal to the target; SIGKILL
     * ends the whole container. No effect once the container has ended.
     */
    void signal(int signal);

    /** SIGTERM, then SIGKILL when the target is still running after {@code grace}; returns how it ended. */
    ExitStatus stop(Duration grace) throws InterruptedException;

    /** Kills every process of the container (SIGKILL to its init). */
    void kill();

    /** The target's stdin when the spec asked for {@link Stdio#pipe()}. */
    OutputStream stdin();

    /** The target's stdout when the spec asked for {@link Stdio#pipe()}. */
    InputStream stdout();

    /** The target's stderr when the spec asked for {@link Stdio#pipe()}. */
    InputStream stderr();

    /** Kills the container if it runs, waits for it to end, and releases its resources. */
    @Override
    void close();
}
