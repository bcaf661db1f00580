package dev.berth.core.supervise;

import dev.berth.cgroups.CgroupStats;
import dev.berth.cgroups.OomEvent;
import dev.berth.core.Container;
import dev.berth.core.ContainerEvent;
import dev.berth.core.ContainerException;
import dev.berth.core.ContainerFiles;
import dev.berth.core.ContainerStatus;
import dev.berth.core.ExecProcess;
import dev.berth.core.ExecSpec;
import dev.berth.core.ExitStatus;
import dev.berth.core.Health;
import dev.berth.core.HealthCheck;
import dev.berth.core.HealthStatus;
import dev.berth.core.RestartPolicy;
import dev.berth.core.Subscription;
import dev.berth.core.UnhealthyAction;
import dev.berth.core.internal.LinuxContainer;
import dev.berth.core.internal.Supervision;
import dev.berth.core.internal.state.Lifecycle;
import dev.berth.core.internal.state.ProcessId;
import dev.berth.core.internal.sys.Syscalls;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The handle a user holds: one container across its incarnations. Each start of it (the first, and
 * each restart by its {@link RestartPolicy} or an {@link UnhealthyAction#RESTART}) is a
 * {@link LinuxContainer} the runtime launched with the same id, writable layer, image pin and limits;
 * {@link #pid()}, signals, exec and streams go to the current one. {@link #onExit()} completes when
 * the container ends for good. An explicit {@link #stop}, {@link #kill} or {@link #close} is never
 * undone by a restart. Events and health checks are driven from here.
 *
 * <p>Threads: an incarnation's end is seen on the cleanup thread (the decision only, nothing
 * blocking); relaunches and unhealthy actions run on the runtime's restart thread; checks on its
 * health scheduler thread; user callbacks on the callback executor.
 */
public final class SupervisedContainer implements Container {
    private static final Logger LOG = LoggerFactory.getLogger(SupervisedContainer.class);
    /** How long a stop by an unhealthy action waits after the stop signal before SIGKILL. */
    static final Duration UNHEALTHY_STOP_GRACE = Duration.ofSeconds(10);

    /** One start of the container, as the runtime launched it. */
    public record Incarnation(LinuxContainer container, Lifecycle lifecycle, int stopSignal) {}

    /** The runtime's part. */
    public interface Launcher {
        /**
         * Starts the container again, reusing its directory, writable layer, image pin and id; its
         * state says {@code restartCount}. Blocks until its target has been exec'd.
         */
        Incarnation relaunch(int restartCount) throws ContainerException;

        /** After the last incarnation was closed: its writable layer, image pin, state and id go. */
        void release();

        /**
         * A detached container: an explicit stop, {@code kill} or {@code close} is about to signal it;
         * recorded where any process sees it, so that no restart by another supervisor undoes it.
         */
        default void stopping() {}

        /** Whether an explicit stop was recorded by any process (a detached container's {@code berth stop}). */
        default boolean stopRecorded() {
            return false;
        }

        /**
         * A detached container: this handle decided what follows the end of {@code ended} (restart or
         * not), with {@code streak} as the backoff's streak; recorded so that the exit is handled once.
         */
        default void exitHandled(Incarnation ended, int streak) {}

        /**
         * A detached container: this handle's close() called off the restart it had decided for the end
         * of {@code ended}; the exit is unhandled again (with the streak from before), for its exit command.
         */
        default void exitHandedBack(Incarnation ended, int streak) {}

        /**
         * A detached container's handle let go of it: its supervisor lease goes, and a run that ended
         * meanwhile unhandled (its exit command found the lease held) is handed to an exit command.
         */
        default void letGo() {}

        /**
         * Whether a restart of the run {@code ended} was requested by another process (an adopted
         * handle's unhealthy action {@code restart}): restarted whatever the policy, unless stopped.
         */
        default boolean restartRequested(Incarnation ended) {
            return false;
        }

        /**
         * A detached container: this handle's unhealthy action restarts the run {@code inc}; recorded as a
         * restart request, so that the handles of other processes that follow it expect the restart.
         */
        default void requestRestart(Incarnation inc) {}

        /**
         * Takes the container's health lease (held until {@link #release} or {@link #letGo}): only its
         * holder runs health checks, in one process at a time; false when another process holds it.
         */
        default boolean healthLease() {
            return true;
        }

        /**
         * Journals an event of the run {@code inc} ({@code health_status}, {@code paused}, {@code resumed})
         * for the handles of other processes, while that run is running or paused.
         */
        default void journal(Incarnation inc, ContainerEvent.Type type, Map<String, String> attributes) {}
    }

    private final String id;
    private final RestartPolicy policy;
    private final ContainerHealth health;
    private final UnhealthyAction onUnhealthy;
    private final Launcher launcher;
    private final SupervisorServices services;
    private final Supervision supervision;
    private final Path healthOutput;
    private final Map<String, String> baseAttributes;

    private final Object lock = new Object();
    private volatile Incarnation current;
    private volatile int restartCount;
    private RestartBackoff backoff = RestartBackoff.initial();
    private Instant incarnationStart;
    /** stop(), kill(), close() or an unhealthy stop: no restart from now on. */
    private volatile boolean manual;
    /** An unhealthy action asked for a restart, whatever the policy. */
    private volatile boolean restartRequested;
    private ScheduledFuture<?> pending;
    private HealthMonitor monitor;
    private AutoCloseable oomSubscription;
    /** The current incarnation's OOM events: published while it runs, and one at its end if the kill came first. */
    private OomEvents oomEvents;
    private boolean released;
    /** A detached container whose handle let go of it: it goes on, unfollowed (no exit, no destroyed). */
    private boolean letGo;
    /** close() was called (not stop() or kill()): for a detached container, a letting go, not a stop. */
    private volatile boolean closing;
    /** The backoff's streak before the restart that waits in {@link #pending}. */
    private int streakBefore;
    private final CompletableFuture<ExitStatus> finalExit = new CompletableFuture<>();

    /**
     * @param healthOutput a file private to the runtime for exec checks' output
     * @param attributes   what every event of it carries (image or rootfs)
     */
    public SupervisedContainer(String id, RestartPolicy policy, Optional<HealthCheck> check,
            UnhealthyAction onUnhealthy, Launcher launcher, SupervisorServices services, Supervision supervision,
            Path healthOutput, Map<String, String> attributes) {
        this.id = id;
        this.policy = policy;
        this.health = new ContainerHealth(id, check, supervision);
        this.onUnhealthy = onUnhealthy;
        this.launcher = launcher;
        this.services = services;
        this.supervision = supervision;
        this.healthOutput = healthOutput;
        this.baseAttributes = Map.copyOf(attributes);
    }

    /** Takes over the first incarnation: events, health checks, and what follows its end. */
    public SupervisedContainer begin(Incarnation first) {
        begin(first, 0);
        return this;
    }

    private void begin(Incarnation inc, int count) {
        synchronized (lock) {
            current = inc;
            incarnationStart = services.clock().instant();
        }
        var doc = inc.lifecycle().state();
        // the state keeps the first creation time across restarts; each run's event has its own
        publish(ContainerEvent.Type.CREATED, count == 0 ? at(doc.created()) : services.clock().instant(),
                Map.of("pid", Long.toString(inc.container().pid())));
        // a run that ends to be restarted is recorded restarting at once (no exited in between for a list)
        inc.lifecycle().restartFollows(s -> !manual && restartWanted(inc, s));
        publish(ContainerEvent.Type.STARTED, at(doc.started()), count == 0 ? Map.of()
                : Map.of("restartCount", Integer.toString(count)));
        OomEvents oom = new OomEvents();
        oomEvents = oom;
        try {
            oomSubscription = inc.container().onOom(oom::seen);
        } catch (RuntimeException e) {
            LOG.debug("container {}: no OOM events: {}", id, e.getMessage()); // no cgroup
        }
        if (health.check().isPresent()) {
            try {
                if (!launcher.healthLease()) {
                    // adopted by another process before this one began: that process checks it, and this
                    // handle's health() stays at the run's start
                    LOG.info("container {}: its health checks run in another process (its health lease is held)", id);
                    health.update(Health.starting());
                } else {
                    startMonitor(inc);
                }
            } catch (RuntimeException e) { // the runtime is closing: its end must still be seen below
                LOG.warn("container {}: no health checks: {}", id, e.getMessage());
            }
        }
        // last: once hooked, its end may be handled at once, and finds the monitor to stop
        inc.container().supervisorExit().whenComplete((status, failure) -> ended(inc, status, failure));
    }

    private Instant at(String iso) {
        return iso == null ? services.clock().instant() : Instant.parse(iso);
    }

    private void startMonitor(Incarnation inc) {
        health.update(Health.starting());
        recordHealth(inc, HealthStatus.STARTING);
        ProcessId init = inc.lifecycle().state().init() != null ? inc.lifecycle().state().init().id()
                : ProcessId.of(inc.container().pid());
        HealthMonitor m = health.monitor(services, init, inc.container()::exec, healthOutput,
                (h, changed) -> healthChanged(inc, h, changed));
        synchronized (lock) {
            monitor = m;
        }
        m.start();
    }

    /** Health scheduler thread. */
    private void healthChanged(Incarnation inc, Health h, HealthStatus changed) {
        if (changed != null) {
            recordHealth(inc, changed); // first: once health() or onHealthy() says so, state.json (berth ps) does
        }
        health.update(h);
        if (changed == null) {
            return;
        }
        // for the handles of other processes (their health and events come from the journal)
        launcher.journal(inc, ContainerEvent.Type.HEALTH_STATUS, Map.of("health_status", changed.label()));
        publish(ContainerEvent.Type.HEALTH_STATUS, services.clock().instant(), Map.of("health_status", changed.label()));
        if (changed == HealthStatus.UNHEALTHY && onUnhealthy != UnhealthyAction.NONE) {
            try {
                services.restarter().execute(() -> actOnUnhealthy(inc));
            } catch (RejectedExecutionException | IllegalStateException e) {
                LOG.debug("container {}: runtime closing, no unhealthy action: {}", id, e.getMessage());
            }
        }
    }

    private void recordHealth(Incarnation inc, HealthStatus s) {
        try {
            inc.lifecycle().health(s.label());
        } catch (RuntimeException e) {
            LOG.warn("container {}: recording its health: {}", id, e.getMessage());
        }
    }

    /** Restart thread. */
    private void actOnUnhealthy(Incarnation inc) {
        synchronized (lock) {
            if (manual || current != inc || !inc.container().isRunning()) {
                return;
            }
            if (onUnhealthy == UnhealthyAction.RESTART) {
                restartRequested = true;
            } else {
                manual = true;
            }
        }
        LOG.info("container {} is unhealthy: {}", id, onUnhealthy.label());
        if (onUnhealthy == UnhealthyAction.RESTART) {
            try {
                launcher.requestRestart(inc);
            } catch (RuntimeException e) {
                LOG.warn("container {}: recording its restart request: {}", id, e.getMessage());
            }
        }
        LinuxContainer c = inc.container();
        if (onUnhealthy == UnhealthyAction.KILL) {
            c.kill();
            return;
        }
        c.signal(inc.stopSignal());
        services.restarter().schedule(() -> {
            if (c.isRunning()) {
                c.kill();
            }
        }, UNHEALTHY_STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Cleanup thread, as the incarnation's exit is recorded: decide, publish, hand any restart off. */
    private void ended(Incarnation inc, ExitStatus status, Throwable failure) {
        HealthMonitor m;
        AutoCloseable oom;
        synchronized (lock) {
            m = monitor;
            monitor = null;
            oom = oomSubscription;
            oomSubscription = null;
        }
        if (m != null) {
            m.stop();
        }
        closeQuietly(oom);
        if (failure instanceof LinuxContainer.Released) {
            // a detached container's handle let go of it: it did not exit, and nothing follows it here
            synchronized (lock) {
                letGo = true;
                finish(null, failure);
            }
            try {
                launcher.letGo();
            } catch (RuntimeException e) {
                LOG.warn("container {}: handing its supervision over: {}", id, e.getMessage());
            }
            return;
        }
        ExitStatus s = failure == null ? status : ExitStatus.killed(Syscalls.SIGKILL);
        OomEvents o = oomEvents;
        if (o != null) {
            o.ended(s);
        }
        publish(ContainerEvent.exited(id, services.clock().instant(), s, baseAttributes));
        synchronized (lock) {
            boolean wouldRestart = failure == null && restartWanted(inc, s);
            boolean again = wouldRestart && !manual;
            restartRequested = false;
            if (!again) {
                recordQuietly(inc.lifecycle()::restartCalledOff); // recorded restarting as it ended: not so
                if (!(wouldRestart && closing)) {
                    // not when only this handle's close() held the restart back: a detached container's
                    // close lets go of it, and the exit goes to its exit command (Launcher.letGo)
                    exitHandled(inc, backoff.streak());
                }
                finish(s, failure);
                return;
            }
            restartCount++;
            streakBefore = backoff.streak();
            backoff = backoff.after(Duration.between(incarnationStart, services.clock().instant()));
            exitHandled(inc, backoff.streak());
            Duration delay = backoff.delay();
            Map<String, String> attrs = new LinkedHashMap<>();
            attrs.put("restartCount", Integer.toString(restartCount));
            attrs.put("delayMillis", Long.toString(delay.toMillis()));
            recordQuietly(inc.lifecycle()::restarting);
            publish(ContainerEvent.Type.RESTARTING, services.clock().instant(), attrs);
            try {
                pending = services.restarter().schedule(() -> relaunch(inc, s), delay.toMillis(), TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException | IllegalStateException e) {
                finish(s, null); // the runtime is closing
            }
        }
    }

    /** Restart thread: the old incarnation goes (not its storage), a new one starts. */
    private void relaunch(Incarnation old, ExitStatus last) {
        synchronized (lock) {
            pending = null;
            if (manual || stopRecorded()) {
                manual = true;
                recordQuietly(old.lifecycle()::restartCalledOff);
                finish(last, null);
                return;
            }
        }
        old.container().close(); // its processes, streams and cgroup; the container's storage stays
        Incarnation next;
        int count = restartCount;
        try {
            next = launcher.relaunch(count);
        } catch (RuntimeException e) { // ContainerException too (unchecked)
            LOG.warn("container {}: restart {} failed, it stays exited: {}", id, count, e.getMessage());
            recordQuietly(old.lifecycle()::restartCalledOff);
            synchronized (lock) {
                finish(last, null);
            }
            return;
        }
        boolean stopNow;
        synchronized (lock) {
            stopNow = manual;
        }
        begin(next, count);
        if (stopNow) {
            next.container().kill(); // stopped while it was starting: its exit finishes the container
        }
    }

    /**
     * One incarnation's OOM events. The cgroup's notification and the exit race: an OOM kill the
     * exit status shows but no notification announced yet is published as the incarnation ends,
     * before its {@code exited}, as docker's {@code oom} comes before {@code die}; later
     * notifications are dropped.
     */
    private final class OomEvents {
        private boolean published;
        private boolean ended;

        synchronized void seen(OomEvent e) {
            if (!ended) {
                published = true;
                publish(ContainerEvent.Type.OOM, services.clock().instant(), Map.of("kind",
                        e.kind().name().toLowerCase(java.util.Locale.ROOT), "count", Long.toString(e.count())));
            }
        }

        synchronized void ended(ExitStatus s) {
            ended = true;
            if (s.oomKilled() && !published) {
                publish(ContainerEvent.Type.OOM, services.clock().instant(), Map.of("kind", "oom_kill"));
            }
        }
    }

    private void recordQuietly(Runnable transition) {
        try {
            transition.run();
        } catch (RuntimeException e) {
            LOG.warn("container {}: recording its status: {}", id, e.getMessage());
        }
    }

    /** Whether the end of {@code inc} with {@code s} is followed by a restart, unless stopped by this handle. */
    private boolean restartWanted(Incarnation inc, ExitStatus s) {
        boolean requested = restartRequested;
        if (!requested) {
            try {
                requested = launcher.restartRequested(inc);
            } catch (RuntimeException e) {
                LOG.warn("container {}: reading whether a restart was requested: {}", id, e.getMessage());
            }
        }
        return (requested || policy.restartsAfter(s, restartCount)) && !stopRecorded();
    }

    private boolean stopRecorded() {
        try {
            return launcher.stopRecorded();
        } catch (RuntimeException e) {
            LOG.warn("container {}: reading whether a stop was recorded: {}", id, e.getMessage());
            return false;
        }
    }

    private void exitHandled(Incarnation inc, int streak) {
        try {
            launcher.exitHandled(inc, streak);
        } catch (RuntimeException e) {
            LOG.warn("container {}: recording that its exit was handled: {}", id, e.getMessage());
        }
    }

    /** Under {@link #lock}: the container ended for good. */
    private void finish(ExitStatus s, Throwable failure) {
        if (failure != null) {
            finalExit.completeExceptionally(failure);
        } else {
            finalExit.complete(s);
        }
        health.neverHealthy(s == null ? ": its handle was closed before it was healthy"
                : " ended (" + s + ") before it was healthy");
    }

    /** From now on no restart; a restart waiting for its backoff is called off. */
    private void markManual() {
        synchronized (lock) {
            manual = true;
            if (pending != null && pending.cancel(false)) {
                pending = null;
                recordQuietly(current.lifecycle()::restartCalledOff);
                if (closing && restartCount > 0) {
                    restartCount--; // not restarted here: its exit command decides anew
                    Incarnation ended = current;
                    int streak = streakBefore;
                    recordQuietly(() -> launcher.exitHandedBack(ended, streak));
                }
                var doc = current.lifecycle().state();
                finish(doc.exit() != null ? doc.exit().toExitStatus() : ExitStatus.killed(Syscalls.SIGKILL), null);
            }
        }
    }

    private void publish(ContainerEvent.Type type, Instant time, Map<String, String> attributes) {
        Map<String, String> all = new LinkedHashMap<>(baseAttributes);
        all.putAll(attributes);
        publish(ContainerEvent.of(id, type, time, all));
    }

    private void publish(ContainerEvent e) {
        services.events().publish(e);
    }

    // ---- Container ----

    @Override
    public String id() {
        return id;
    }

    @Override
    public long pid() {
        return current.container().pid();
    }

    @Override
    public CompletableFuture<ExitStatus> onExit() {
        return supervision.forCallers(finalExit);
    }

    /** True until it ended for good (also while it waits to be restarted). */
    @Override
    public boolean isRunning() {
        return !finalExit.isDone();
    }

    @Override
    public ContainerStatus status() {
        if (finalExit.isDone()) {
            return ContainerStatus.EXITED;
        }
        ContainerStatus s = current.lifecycle().status();
        return s == ContainerStatus.RESTARTING ? s : current.container().status();
    }

    @Override
    public ExitStatus waitFor() throws InterruptedException {
        try {
            return finalExit.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    @Override
    public boolean waitFor(Duration timeout) throws InterruptedException {
        return Supervision.endsWithin(finalExit, timeout);
    }

    @Override
    public void signal(int signal) {
        current.container().signal(signal);
    }

    /** Never undone by a restart; waits for the end of a restart in progress too. */
    @Override
    public ExitStatus stop(Duration grace) throws InterruptedException {
        launcher.stopping();
        markManual();
        current.container().stop(grace);
        if (!waitFor(grace.plusSeconds(5))) {
            current.container().kill(); // a restart in progress started a new incarnation meanwhile
        }
        return waitFor();
    }

    @Override
    public void kill() {
        launcher.stopping();
        markManual();
        current.container().kill();
    }

    @Override
    public ContainerFiles files() {
        return current.container().files();
    }

    @Override
    public Subscription onLog(Consumer<dev.berth.core.LogEntry> listener, Executor executor) {
        return current.container().onLog(listener, executor, () -> finalExit.isDone());
    }

    /** The network of its current run (each run of a restarting container is attached anew). */
    @Override
    public Optional<dev.berth.core.NetworkInfo> network() {
        return current.container().network();
    }

    /** One log across its incarnations: each writes to the same files. */
    @Override
    public java.util.stream.Stream<dev.berth.core.LogEntry> logs(dev.berth.core.LogQuery query) {
        Incarnation c = current;
        return c.container().logs(query, () -> finalExit.isDone());
    }

    @Override
    public OutputStream stdin() {
        return current.container().stdin();
    }

    @Override
    public InputStream stdout() {
        return current.container().stdout();
    }

    @Override
    public InputStream stderr() {
        return current.container().stderr();
    }

    @Override
    public void resizeTerminal(int columns, int rows) {
        current.container().resizeTerminal(columns, rows);
    }

    @Override
    public ExecProcess exec(ExecSpec spec) throws ContainerException {
        return current.container().exec(spec);
    }

    @Override
    public CgroupStats stats() {
        return current.container().stats();
    }

    @Override
    public void pause() {
        Incarnation inc = current;
        inc.container().pause();
        launcher.journal(inc, ContainerEvent.Type.PAUSED, Map.of());
        publish(ContainerEvent.Type.PAUSED, services.clock().instant(), Map.of());
    }

    @Override
    public void resume() {
        Incarnation inc = current;
        inc.container().resume();
        launcher.journal(inc, ContainerEvent.Type.RESUMED, Map.of());
        publish(ContainerEvent.Type.RESUMED, services.clock().instant(), Map.of());
    }

    @Override
    public Subscription onOom(Consumer<OomEvent> listener) {
        return current.container().onOom(listener);
    }

    @Override
    public Optional<Health> health() {
        return health.health();
    }

    @Override
    public CompletableFuture<Void> onHealthy() {
        return health.onHealthy();
    }

    @Override
    public int restartCount() {
        return restartCount;
    }

    @Override
    public Subscription events(Consumer<ContainerEvent> listener) {
        return services.events().subscribe(id, listener, null);
    }

    @Override
    public Subscription events(Consumer<ContainerEvent> listener, Executor executor) {
        return services.events().subscribe(id, listener, executor);
    }

    /** Ends it for good (no restart), closes its last incarnation, then releases its storage, pin, state and id. */
    @Override
    public void close() {
        closing = true;
        markManual();
        boolean interrupted = false;
        while (true) {
            Incarnation c = current;
            c.container().close();
            while (true) {
                try {
                    finalExit.get();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    break;
                }
            }
            if (current == c) {
                break;
            }
        }
        boolean release;
        synchronized (lock) {
            release = !released;
            released = true;
        }
        if (release) {
            try {
                launcher.release();
            } catch (RuntimeException e) {
                LOG.warn("container {}: releasing its resources failed: {}", id, e.getMessage(), e);
            }
            if (!letGo) {
                publish(ContainerEvent.Type.DESTROYED, services.clock().instant(), Map.of());
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.debug("closing an OOM subscription: {}", e.getMessage());
            }
        }
    }
}
