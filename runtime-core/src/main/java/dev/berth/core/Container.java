package dev.berth.core;

import dev.berth.cgroups.CgroupStats;
import dev.berth.cgroups.OomEvent;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

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
     * Where it is in its life: {@code running}, {@code paused} or {@code exited} (a started container
     * is past {@code created}). Recorded in its state file at each change.
     */
    ContainerStatus status();

    /**
     * Waits until the container has ended, as {@link Process#waitFor()} does.
     *
     * @return how it ended
     * @throws IllegalStateException when its supervision failed (it was killed and released all the same)
     */
    ExitStatus waitFor() throws InterruptedException;

    /**
     * Waits at most {@code timeout} for the container to end, as {@link Process#waitFor(long,
     * java.util.concurrent.TimeUnit)} does.
     *
     * @return true when it has ended ({@link #onExit()} is then complete)
     */
    boolean waitFor(Duration timeout) throws InterruptedException;

    /**
     * Sends a signal: the init forwards every catchable signal to the target; SIGKILL
     * ends the whole container. No effect once the container has ended.
     */
    void signal(int signal);

    /**
     * The stop signal (SIGTERM, or the image's StopSignal), then SIGKILL when the target is
     * still running after {@code grace}; returns how it ended.
     */
    ExitStatus stop(Duration grace) throws InterruptedException;

    /** Kills every process of the container (SIGKILL to its init). */
    void kill();

    /**
     * Files into and out of the container, as it sees them, while it runs and after it ended
     * (until it is closed).
     *
     * @throws IllegalStateException once the container is closed
     */
    ContainerFiles files();

    /** {@link ContainerFiles#copyTo}: extracts a tar into the existing directory {@code containerDir}. */
    default void copyTo(Path containerDir, InputStream tar) throws IOException {
        files().copyTo(containerDir.toString(), tar);
    }

    /** {@link ContainerFiles#copyFrom}: a tar of {@code containerPath}. */
    default InputStream copyFrom(String containerPath) throws IOException {
        return files().copyFrom(containerPath);
    }

    /**
     * The target's stdin when the spec asked for {@link Stdio#pipe()}; with {@link ContainerSpec#tty()},
     * the input of its terminal (keystrokes: a 0x03 byte interrupts its foreground process group, as
     * Ctrl-C does).
     */
    OutputStream stdin();

    /**
     * The target's stdout when the spec asked for {@link Stdio#pipe()}; with {@link ContainerSpec#tty()},
     * the output of its terminal (stdout, stderr and echo, with terminal line endings).
     */
    InputStream stdout();

    /** The target's stderr when the spec asked for {@link Stdio#pipe()} (with a terminal, it goes to {@link #stdout()}). */
    InputStream stderr();

    /**
     * Sets the size of the container's terminal ({@link ContainerSpec#tty()}); its foreground
     * process group gets SIGWINCH when the size changes. No effect once the container has ended.
     *
     * @throws IllegalStateException when the container has no terminal
     */
    void resizeTerminal(int columns, int rows);

    /**
     * Runs another process in the running container, as {@code docker exec} does: in its namespaces,
     * cgroup and root, with its capabilities, resource limits and environment (plus the spec's), as
     * its user unless the spec names another, with stdio (or a pty) of its own. Returns once the
     * process has been exec'd; its exit is {@link ExecProcess#onExit()}.
     *
     * @throws ContainerStartException when it could not be started, naming the step: e.g.
     *                                 {@code exec(nope): No such file or directory}
     * @throws ContainerException      when the container is not running
     */
    ExecProcess exec(ExecSpec spec) throws ContainerException;

    /**
     * Resource usage from the container's cgroup: CPU, memory, IO, pids, pressure. After it ended, the
     * final figures (CPU time, peak memory, ...), read as it ended, until it is closed.
     *
     * @throws IllegalStateException once it is closed, or when it runs without a cgroup
     */
    CgroupStats stats();

    /**
     * Freezes every process of the container (cgroup freezer); it stays frozen until {@link #resume()}.
     *
     * @throws ContainerStateException when it is not running ({@code pause: container web-1 is not
     *                                 running (status exited)})
     */
    void pause();

    /**
     * Thaws a paused container.
     *
     * @throws ContainerStateException when it is not paused
     */
    void resume();

    /**
     * Registers a listener for OOM events of the container's cgroup; each event is delivered
     * once. Close the returned subscription to unregister.
     */
    Subscription onOom(Consumer<OomEvent> listener);

    /**
     * Where the container is on its network (bridge or a user network), as CNI gave it; empty for
     * the modes {@code none}, {@code host} and {@code container:<id>}. Kept after the container ended.
     */
    default java.util.Optional<NetworkInfo> network() {
        return java.util.Optional.empty();
    }

    /** Its published ports with the host ports actually used ({@code -p 127.0.0.1::80} gets a free one). */
    default java.util.List<dev.berth.network.PortMapping> ports() {
        return network().map(NetworkInfo::ports).orElse(java.util.List.of());
    }

    /** Its addresses on its network, without prefix ({@code 10.89.0.2}), IPv4 first; empty without one. */
    default java.util.List<String> addresses() {
        return network().map(n -> n.addresses().stream().map(a -> a.replaceFirst("/.*$", "")).toList())
                .orElse(java.util.List.of());
    }

    /**
     * Its captured stdout and stderr ({@link ContainerSpec#logging()}), line by line, oldest first, as
     * {@code docker logs} gives them: {@link LogQuery#since()}/{@code until()}, the last
     * {@link LogQuery#tail()} lines, and with {@link LogQuery#follow()} the lines still to come (the
     * stream then ends when the container has ended and everything is read, or when it is closed;
     * close it: it holds an open file). Rotation does not break a follow. Reading runs on the caller's
     * thread, which waits for new lines, polling.
     *
     * @throws IllegalStateException when its output is not captured
     */
    java.util.stream.Stream<LogEntry> logs(LogQuery query);

    /**
     * Calls {@code listener} with each line its log gets from now on ({@code docker logs -f --tail 0}),
     * in order, on {@code executor}: lines are read by one thread for all containers (every 100 ms) and
     * handed over, so a slow listener holds up nobody else. Ends once the container has ended and its
     * last lines are delivered, or when the subscription is closed. {@link LogEntry#slf4j(String)} is a
     * ready-made listener.
     *
     * @throws IllegalStateException when its output is not captured
     */
    Subscription onLog(Consumer<LogEntry> listener, Executor executor);

    /** {@link #onLog(Consumer, Executor)} on the JDK's default asynchronous executor. */
    default Subscription onLog(Consumer<LogEntry> listener) {
        return onLog(listener, CompletableFuture.completedFuture(null).defaultExecutor());
    }

    /**
     * A stream of {@link #stats()} snapshots, one every {@code interval} (the first at once), delivered
     * in order on {@code executor} until the container has ended or the subscription is closed
     * ({@code docker stats}). Read by one thread for all containers.
     */
    default Subscription onStats(Duration interval, Consumer<CgroupStats> listener, Executor executor) {
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("interval: " + interval + "; must be positive");
        }
        return dev.berth.core.internal.Sampler.every(interval, () -> isRunning()
                ? new dev.berth.core.internal.Sampler.Read<>(java.util.List.of(stats()), false)
                : new dev.berth.core.internal.Sampler.Read<CgroupStats>(java.util.List.of(), true), listener, executor);
    }

    /** {@link #onStats(Duration, Consumer, Executor)} on the JDK's default asynchronous executor. */
    default Subscription onStats(Duration interval, Consumer<CgroupStats> listener) {
        return onStats(interval, listener, CompletableFuture.completedFuture(null).defaultExecutor());
    }

    /** {@link #logs(LogQuery)} of everything kept, without follow. */
    default java.util.stream.Stream<LogEntry> logs() {
        return logs(LogQuery.ALL);
    }

    /**
     * Kills the container if it runs, waits for it to end, and releases its resources
     * (its cgroup, its writable layer, its pin on the image). Of a {@link ContainerSpec#detached()
     * detached} container, only lets go of this handle: the container goes on, or stays as it ended
     * until {@link ContainerRuntime#remove(String, boolean)}.
     */
    @Override
    void close();

    // ---- supervision: restarts, health, events ----

    /**
     * Its health as its {@link ContainerSpec#healthCheck() health check} (or its image's) last said:
     * status, failing streak and the last results; empty when it has none.
     */
    default Optional<Health> health() {
        return Optional.empty();
    }

    /**
     * Completes when the container first becomes {@link HealthStatus#HEALTHY healthy} (on the runtime's
     * callback executor), for callers that wait for readiness; completes exceptionally when it ends for
     * good before, or at once when it has no health check.
     */
    default CompletableFuture<Void> onHealthy() {
        return CompletableFuture.failedFuture(new IllegalStateException("container " + id() + " has no health check"));
    }

    /** How often it was started again by its {@link RestartPolicy} or an {@link UnhealthyAction#RESTART}. */
    default int restartCount() {
        return 0;
    }

    /**
     * Registers a listener for this container's events, each delivered once, in order, on the runtime's
     * callback executor; close the subscription to unregister.
     */
    default Subscription events(Consumer<ContainerEvent> listener) {
        throw new UnsupportedOperationException("container " + id() + ": no events");
    }

    /** {@link #events(Consumer)}, with the listener called on {@code executor}. */
    default Subscription events(Consumer<ContainerEvent> listener, Executor executor) {
        throw new UnsupportedOperationException("container " + id() + ": no events");
    }
}
