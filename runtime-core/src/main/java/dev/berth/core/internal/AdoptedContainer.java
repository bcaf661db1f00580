package dev.berth.core.internal;

import dev.berth.cgroups.Cgroup;
import dev.berth.cgroups.CgroupStats;
import dev.berth.cgroups.OomEvent;
import dev.berth.core.Container;
import dev.berth.core.ContainerException;
import dev.berth.core.ContainerFiles;
import dev.berth.core.ContainerStateException;
import dev.berth.core.ContainerStatus;
import dev.berth.core.ExecProcess;
import dev.berth.core.ExecSpec;
import dev.berth.core.ContainerEvent;
import dev.berth.core.ContainerSpec;
import dev.berth.core.ExitStatus;
import dev.berth.core.Health;
import dev.berth.core.HealthCheck;
import dev.berth.core.HealthStatus;
import dev.berth.core.RestartPolicy;
import dev.berth.core.UnhealthyAction;
import dev.berth.core.LogEntry;
import dev.berth.core.LogQuery;
import dev.berth.core.Subscription;
import dev.berth.core.internal.logs.LogReader;
import dev.berth.core.supervise.DetachedRestart;
import dev.berth.core.supervise.HealthMonitor;
import dev.berth.core.supervise.SupervisorServices;
import dev.berth.core.internal.state.EventJournal;
import dev.berth.core.internal.state.IdLock;
import dev.berth.core.internal.state.ProcessId;
import dev.berth.core.internal.state.Reconciler;
import dev.berth.core.internal.state.StateDocument;
import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A handle to a container this runtime did not start: one started detached by another process (or by
 * this one, and let go of), or one another live runtime on the same state root runs. It follows the
 * container through pidfds of its init and monitor (each checked to have the recorded start time and
 * to run berth-init, so a reused pid is never signalled), its cgroup (found by id) and its state;
 * the monitor's exit (its pidfd, on the reactor) ends it. Closing it lets go of the handle only.
 */
public final class AdoptedContainer implements Container, Reactor.Handler {
    private static final Logger LOG = LoggerFactory.getLogger(AdoptedContainer.class);

    /** What the runtime does for an adopted container. */
    public interface Runtime {
        ExecProcess exec(String id, ExecSpec spec) throws ContainerException;

        ContainerFiles files(String id) throws ContainerException;

        /** Its state now; empty once it is removed. */
        Optional<StateDocument> read(String id);

        /**
         * Its monitor is gone: its end recorded (under its lock, unless another runtime holds that and
         * records it); its state then.
         */
        Optional<StateDocument> settle(String id);

        /**
         * Records a pause or resume in its state and, while the state names a run running or paused, in its
         * event journal ({@code paused}/{@code resumed}, for every handle in every process).
         */
        void recordStatus(String id, ContainerStatus status);

        /** Its event journal (in its state directory). */
        EventJournal journal(String id);

        /**
         * Its health lease if nobody holds it (null otherwise, or when it is gone): only its holder runs its
         * health checks, in one process at a time; the kernel drops it when the holder dies.
         */
        IdLock tryHealthLease(String id);

        /** The handle was closed. */
        void closed(AdoptedContainer c);

        /**
         * An explicit stop or kill is about to signal it: recorded first, so that no restart by its
         * supervisor (an exit command, its starting runtime) undoes it.
         */
        default void stopping(String id) {}

        /** Where it is on its network, as its runtime recorded beside its state. */
        default Optional<dev.berth.core.NetworkInfo> network(String id) {
            return Optional.empty();
        }

        /** The runtime's event bus, health scheduler and probes, and the thread that follows the state. */
        SupervisorServices services();

        /** A handle is about to follow its container (before its first event). */
        void adopting(AdoptedContainer c);

        /**
         * Whether {@code c} is the handle of its id that publishes the container's events and runs its
         * health checks in this runtime (one at a time, so that no event is published twice).
         */
        boolean leads(AdoptedContainer c);

        /**
         * Records its health status in its state (as {@code berth ps} shows it) while {@code run} is its
         * run there, running or paused, and ({@code journal}) a {@code health_status} event in its journal
         * under the same id lock (so before any end of that run is recorded); false when another process
         * held its id lock for the moment (nothing written).
         */
        boolean recordHealth(String id, StateDocument.ProcessDoc run, String status, boolean journal);

        /** A file private to the runtime that its exec checks' output goes to. */
        Path healthOutput(String id);

        /** Its cgroup now (each run has its own: a restart makes it anew). */
        Optional<Cgroup> cgroup(String id);

        /**
         * Whether the run whose monitor is {@code monitor} ended for good: its state, read under its id lock
         * (so that no supervisor is between its decision and its record), still shows that run exited, and
         * its restart supervisor handled that exit (deciding against a restart); null while another process
         * holds the lock.
         */
        Boolean endedUnrestarted(String id, StateDocument.ProcessDoc monitor);

        /** Whether an explicit stop of it was recorded. */
        boolean stopRecorded(String id);

        /**
         * Requests a restart of its run whose monitor is {@code run} (an unhealthy action {@code restart}),
         * under its id lock, for its supervisor (the lease holder) to carry out once the run ended: true
         * when recorded; false when there is nothing to restart (another run by now, ended, stopped, not
         * detached); null while another process holds its id lock for a moment.
         */
        Boolean requestRestart(String id, StateDocument.ProcessDoc run);

        /** Whether a restart of its run whose monitor is {@code run} was requested. */
        boolean restartRequested(String id, StateDocument.ProcessDoc run);
    }

    /** How often the state is read for what happens without this handle (pause by others, restarts, removal). */
    private static final long POLL_MILLIS = 100;
    /**
     * How long after a run's end whose restart policy restarts it this handle waits for its exit command to
     * take it (status {@code restarting}, or the run recorded handled); past it, the run's end is its end.
     * The exit command is a new JVM: on a loaded host (two busy cores) its start alone took over 8 s.
     */
    private static final Duration HANDOFF = Duration.ofSeconds(30);
    /** How long an unhealthy stop waits after the stop signal before SIGKILL. */
    private static final Duration UNHEALTHY_STOP_GRACE = Duration.ofSeconds(10);

    /** Where the followed container is. */
    private enum Phase { RUNNING, BETWEEN, ENDED, GONE }

    @Override
    public Optional<dev.berth.core.NetworkInfo> network() {
        return runtime.network(id);
    }

    private final Syscalls sys;
    private final String id;
    private volatile StateDocument adopted;
    private final Supervision supervision;
    private final Runtime runtime;
    private volatile Optional<Cgroup> cgroup;
    private final CompletableFuture<ExitStatus> exit = new CompletableFuture<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Object lock = new Object();
    /** Orders what this handle sees of its container, and the events it publishes for it. */
    private final Object follow = new Object();
    private volatile CgroupStats finalStats;
    private int initPidfd = -1;
    private int monitorPidfd = -1;
    private volatile long token;
    private final dev.berth.core.supervise.ContainerHealth health;
    private final UnhealthyAction onUnhealthy;
    private final RestartPolicy policy;
    private final boolean detached;
    private final Map<String, String> baseAttributes;
    // guarded by follow
    private Phase phase = Phase.RUNNING;
    private StateDocument.ProcessDoc runMonitor;
    private ContainerStatus seen;
    private boolean restartingPublished;
    private boolean oomPublished;
    private boolean runEnded;
    private long betweenSince;
    private boolean runStartedHere;
    /** Poll thread only. */
    private int restartingTicks;
    private ExitStatus lastExit;
    private AutoCloseable oomSubscription;
    private HealthMonitor healthMonitor;
    private ScheduledFuture<?> poll;
    /** stop() or kill() through this handle: a restart pending is called off (its supervisor sees the stop). */
    private volatile boolean stopRequested;
    /** Its event journal from where this handle subscribed; read under {@link #follow}. */
    private final EventJournal.Follower journal;
    // guarded by follow
    /** Journal entries read but not delivered yet: those of a run this handle does not follow yet. */
    private final java.util.ArrayDeque<EventJournal.Entry> journalPending = new java.util.ArrayDeque<>();
    /** The runs this handle saw end: their entries, should any come late, are dropped. */
    private final java.util.Set<StateDocument.ProcessDoc> endedRuns = new java.util.LinkedHashSet<>();
    /** The followed run's last health status from the journal (another process's checks), or null. */
    private HealthStatus journalHealth;
    /** Its health lease while this handle runs its checks (one process at a time). */
    private IdLock healthLease;

    private AdoptedContainer(Syscalls sys, StateDocument doc, Supervision supervision, Runtime runtime,
            Optional<Cgroup> cgroup) {
        this.sys = sys;
        this.id = doc.id();
        this.adopted = doc;
        this.supervision = supervision;
        this.runtime = runtime;
        this.cgroup = cgroup;
        ContainerSpec spec = null;
        try {
            spec = doc.spec() == null ? null : doc.spec().toSpec();
        } catch (RuntimeException e) {
            LOG.debug("container {}: its stored spec: {}", id, e.getMessage());
        }
        this.health = new dev.berth.core.supervise.ContainerHealth(id, checkOf(doc, spec), supervision);
        this.onUnhealthy = spec == null ? UnhealthyAction.NONE : spec.onUnhealthy();
        this.policy = spec == null ? RestartPolicy.no() : spec.restart();
        this.detached = Reconciler.detached(doc);
        Map<String, String> attrs = new LinkedHashMap<>();
        if (doc.image() != null) {
            attrs.put("image", doc.image());
        } else {
            attrs.put("rootfs", doc.rootfs() == null ? "" : doc.rootfs());
        }
        this.baseAttributes = Map.copyOf(attrs);
        this.journal = runtime.journal(id).follow(); // from now on: nothing before it is replayed
    }

    /**
     * The health check its runs have: the one its starter recorded as in effect (the spec's, or the
     * image's when the spec has none), else (a state written before) the stored spec's.
     */
    private static Optional<HealthCheck> checkOf(StateDocument doc, ContainerSpec spec) {
        if (doc.control() != null && doc.control().healthCheck() != null) {
            try {
                return Optional.of(doc.control().healthCheck().toCheck());
            } catch (RuntimeException e) {
                LOG.warn("container {}: its recorded health check: {}", doc.id(), e.getMessage());
            }
        }
        return spec == null || spec.healthCheckDisabled() ? Optional.empty() : spec.healthCheck();
    }

    /**
     * A handle to the container {@code doc} describes: ended already (its recorded exit), or followed
     * until it ends for good (across restarts by its exit command).
     */
    public static AdoptedContainer adopt(Syscalls sys, StateDocument doc, Supervision supervision, Runtime runtime,
            Optional<Cgroup> cgroup) {
        AdoptedContainer c = new AdoptedContainer(sys, doc, supervision, runtime, cgroup);
        runtime.adopting(c);
        c.follow();
        return c;
    }

    private void follow() {
        StateDocument d = adopted;
        boolean settle = false;
        synchronized (follow) {
            runMonitor = d.monitor();
            if (d.containerStatus() == ContainerStatus.RESTARTING) {
                // between two runs: its supervisor starts the next one, or calls it off
                runEnded = true;
                restartingPublished = true; // it was restarting before this handle came
                lastExit = exitOf(Optional.of(d));
                finalStats = d.usage() == null ? null : stats(d.usage());
                betweenSince = System.nanoTime();
                phase = Phase.BETWEEN;
            } else if (d.containerStatus() == ContainerStatus.EXITED) {
                runEnded = true;
                lastExit = exitOf(Optional.of(d));
                finalStats = d.usage() == null ? null : stats(d.usage());
                endForGood();
            } else if (!attach(d)) {
                runEnded = true;
                settle = true; // it ended, and nobody recorded it yet
            }
        }
        if (settle) {
            Optional<StateDocument> s = runtime.settle(id);
            synchronized (follow) {
                afterRun(s, false);
            }
        }
        startPolling();
    }

    /** Under {@link #follow}: follows the run {@code d} describes; false when its monitor is gone already. */
    private boolean attach(StateDocument d) {
        boolean again = phase == Phase.BETWEEN; // a new run: its cgroup was made anew
        int m = d.monitor() == null ? -1 : openChecked(d.monitor().id());
        if (m < 0) {
            return false;
        }
        synchronized (lock) {
            if (closed.get()) {
                sys.close(m);
                return false;
            }
            monitorPidfd = m;
            initPidfd = d.init() == null ? -1 : openChecked(d.init().id());
        }
        adopted = d;
        runMonitor = d.monitor();
        runEnded = false;
        oomPublished = false;
        restartingPublished = false;
        seen = d.containerStatus();
        phase = Phase.RUNNING;
        runStartedHere = again; // a run this handle saw start: its health starts anew (a record is the last run's)
        journalHealth = null;
        if (again) {
            try {
                cgroup = runtime.cgroup(id);
            } catch (RuntimeException e) {
                LOG.debug("container {}: its new cgroup: {}", id, e.getMessage());
                cgroup = Optional.empty();
            }
        }
        subscribeOom();
        startHealth();
        token = supervision.reactor().register(m, this);
        return true;
    }

    /** A pidfd of the process {@code p} names while it is that process (start time, berth-init); -1 otherwise. */
    private int openChecked(ProcessId p) {
        int fd;
        try {
            fd = sys.pidfdOpen(p.pid());
        } catch (SyscallException e) {
            return -1;
        }
        if (!Reconciler.isLive(p) || !sys.pidfdSendSignal(fd, 0)) {
            sys.close(fd);
            return -1;
        }
        return fd;
    }

    /** Reactor thread: the monitor exited (after it recorded the exit); the rest on the cleanup thread. */
    @Override
    public boolean onReadable() {
        releaseProcessHandles();
        supervision.cleanup().execute(this::runEnded);
        return true;
    }

    @Override
    public void onFailure(RuntimeException e) {
        releaseProcessHandles();
        synchronized (follow) {
            stopRunExtras();
            releaseHealthLease();
            phase = Phase.ENDED;
        }
        exit.completeExceptionally(e);
    }

    private void releaseProcessHandles() {
        synchronized (lock) {
            if (initPidfd >= 0) {
                sys.close(initPidfd);
                initPidfd = -1;
            }
            if (monitorPidfd >= 0) {
                sys.close(monitorPidfd);
                monitorPidfd = -1;
            }
        }
    }

    /** Cleanup thread: the followed run's monitor is gone. */
    private void runEnded() {
        synchronized (follow) {
            if (runEnded || phase != Phase.RUNNING) {
                return;
            }
            runEnded = true;
            stopRunExtras();
        }
        Optional<StateDocument> d = runtime.settle(id);
        synchronized (follow) {
            afterRun(d, true);
        }
    }

    private static ExitStatus exitOf(Optional<StateDocument> state) {
        return state.map(StateDocument::exit).map(StateDocument.ExitDoc::toExitStatus)
                .orElse(ExitStatus.killed(Syscalls.SIGKILL));
    }

    /**
     * Under {@link #follow}: the followed run ended, {@code state} its settled state. Publishes its end;
     * it ended for good unless its supervisor restarts it (restarting, or a new run already), or
     * ({@code watched}: this handle saw it end) its policy restarts it and its exit command has yet to
     * take it.
     */
    private void afterRun(Optional<StateDocument> state, boolean watched) {
        if (phase == Phase.ENDED || phase == Phase.GONE) {
            return;
        }
        drainJournal(); // the run's journaled events (recorded before its end) come before its end
        if (runMonitor != null) {
            endedRuns.add(runMonitor);
            if (endedRuns.size() > 16) {
                endedRuns.remove(endedRuns.iterator().next());
            }
        }
        ExitStatus s = exitOf(state);
        lastExit = s;
        finalStats = state.map(StateDocument::usage).map(AdoptedContainer::stats).orElse(null);
        if (s.oomKilled() && !oomPublished) {
            oomPublished = true;
            publish(ContainerEvent.Type.OOM, Map.of("kind", "oom_kill"));
        }
        publish(ContainerEvent.exited(id, now(), s, baseAttributes));
        if (state.isEmpty()) {
            gone();
            return;
        }
        StateDocument d = state.get();
        boolean newRun = d.monitor() != null && !d.monitor().equals(runMonitor);
        if (d.containerStatus() == ContainerStatus.RESTARTING || newRun || (watched && restartExpected(d, s))) {
            phase = Phase.BETWEEN;
            betweenSince = System.nanoTime();
            if (d.containerStatus() == ContainerStatus.RESTARTING) {
                publishRestarting(d);
            }
            return;
        }
        endForGood();
    }

    /** Whether the run just ended is one its restart policy restarts (its exit command decides for sure). */
    private boolean restartExpected(StateDocument d, ExitStatus s) {
        if (!detached) {
            return false;
        }
        boolean stop = stopRequested || runtime.stopRecorded(id);
        return DetachedRestart.decide(policy, s, d.restartCount(), stop, runtime.restartRequested(id, runMonitor), 0,
                Duration.ZERO).verdict() == DetachedRestart.Verdict.RESTART;
    }

    private void publishRestarting(StateDocument d) {
        if (restartingPublished) {
            return;
        }
        restartingPublished = true;
        int next = d.containerStatus() == ContainerStatus.RESTARTING ? d.restartCount() + 1 : d.restartCount();
        publish(ContainerEvent.Type.RESTARTING, Map.of("restartCount", Integer.toString(next)));
    }

    /** Under {@link #follow}: no restart follows; the handle's exit completes. */
    private void endForGood() {
        phase = Phase.ENDED;
        stopRunExtras();
        releaseHealthLease();
        exit.complete(lastExit);
        health.neverHealthy(" ended (" + lastExit + ") before it was healthy");
    }

    /** Under {@link #follow}: its state is gone (removed). */
    private void gone() {
        boolean wasEnded = phase == Phase.ENDED;
        drainJournal();
        phase = Phase.GONE;
        releaseHealthLease();
        publish(ContainerEvent.Type.DESTROYED, Map.of());
        if (!wasEnded) {
            stopRunExtras();
            exit.complete(lastExit != null ? lastExit : ExitStatus.killed(Syscalls.SIGKILL));
            health.neverHealthy(" was removed");
        }
        if (poll != null) {
            poll.cancel(false);
        }
    }

    private void startPolling() {
        try {
            ScheduledFuture<?> f = runtime.services().restarter().scheduleWithFixedDelay(this::tick, POLL_MILLIS,
                    POLL_MILLIS, TimeUnit.MILLISECONDS);
            synchronized (follow) {
                if (closed.get() || phase == Phase.GONE) {
                    f.cancel(false);
                } else {
                    poll = f;
                }
            }
        } catch (RejectedExecutionException | IllegalStateException e) {
            LOG.debug("container {}: the runtime is closing, its state is not followed: {}", id, e.getMessage());
        }
    }

    /** The poll thread: what the state shows that this handle did not do (pause by others, restarts, removal). */
    private void tick() {
        try {
            if (closed.get()) {
                return;
            }
            Optional<StateDocument> state = runtime.read(id);
            if (phase == Phase.BETWEEN && state.isPresent()
                    && state.get().containerStatus() == ContainerStatus.RESTARTING && ++restartingTicks % 10 == 0) {
                // once a second: a supervisor that died while it waited for its backoff (its lease free)
                // leaves it restarting for good; settling records it exited
                state = runtime.settle(id);
            }
            boolean settleNew = false;
            synchronized (follow) {
                if (closed.get()) {
                    return;
                }
                switch (phase) {
                    case RUNNING -> {
                        if (state.isEmpty() || runEnded || !runMonitor.equals(state.get().monitor())) {
                            return; // its monitor's end is seen on the reactor
                        }
                        // pauses, resumes and health results, by whichever process: each once, in order,
                        // however short they lasted
                        drainJournal();
                        if (healthMonitor == null && health.check().isPresent()) {
                            // not started before: another process holds its health lease (its checks run
                            // there; taken over here once it lets go or dies) or held its id for a moment
                            startHealth();
                        }
                    }
                    case BETWEEN -> {
                        if (state.isEmpty()) {
                            gone();
                            return;
                        }
                        StateDocument d = state.get();
                        ContainerStatus st = d.containerStatus();
                        boolean newRun = d.monitor() != null && !d.monitor().equals(runMonitor)
                                && (st == ContainerStatus.RUNNING || st == ContainerStatus.PAUSED);
                        drainJournal(); // late entries of the ended run are dropped; the next run's wait
                        if (newRun) {
                            publishRestarting(d);
                            boolean followed = attach(d);
                            publish(ContainerEvent.Type.STARTED, Map.of("restartCount",
                                    Integer.toString(d.restartCount())));
                            if (followed) {
                                drainJournal(); // the new run's events appended before this handle saw it
                            }
                            if (!followed) { // it ended already: settled below
                                adopted = d;
                                runMonitor = d.monitor();
                                runEnded = true;
                                phase = Phase.RUNNING;
                                settleNew = true;
                            }
                        } else if (st == ContainerStatus.RESTARTING) {
                            publishRestarting(d);
                            if (stopRequested) {
                                endForGood(); // this handle's stop calls the restart off: it stays exited
                            }
                        } else if (st == ContainerStatus.EXITED) {
                            if (restartingPublished || !restartExpected(d, lastExit)
                                    || Boolean.TRUE.equals(runtime.endedUnrestarted(id, runMonitor))
                                    || System.nanoTime() - betweenSince > HANDOFF.toNanos()) {
                                endForGood(); // called off, not restarted, or no supervisor took it
                            }
                        }
                    }
                    case ENDED -> {
                        if (state.isEmpty()) {
                            gone();
                        }
                    }
                    case GONE -> {
                        if (poll != null) {
                            poll.cancel(false);
                        }
                    }
                }
            }
            if (settleNew) {
                Optional<StateDocument> d = runtime.settle(id);
                synchronized (follow) {
                    phase = Phase.RUNNING;
                    afterRun(d, true);
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("container {}: following its state: {}", id, e.getMessage(), e);
        }
    }

    // ---- per run: OOM events and health checks ----

    /** Under {@link #follow}. */
    private void subscribeOom() {
        Optional<Cgroup> cg = cgroup;
        if (oomSubscription == null && cg.isPresent()) {
            StateDocument.ProcessDoc run = runMonitor;
            try {
                oomSubscription = cg.get().onOom(e -> oomSeen(run, e))::close;
            } catch (RuntimeException e) {
                LOG.debug("container {}: no OOM events: {}", id, e.getMessage());
            }
        }
    }

    private void oomSeen(StateDocument.ProcessDoc run, OomEvent e) {
        synchronized (follow) {
            if (phase == Phase.RUNNING && !runEnded && run.equals(runMonitor)) {
                oomPublished = true;
                publish(ContainerEvent.Type.OOM, Map.of("kind", e.kind().name().toLowerCase(java.util.Locale.ROOT),
                        "count", Long.toString(e.count())));
            }
        }
    }

    /**
     * Under {@link #follow}: the run's health checks, per its stored spec, by the leading handle only and
     * only while it holds the container's health lease (else their results come from the journal).
     */
    private void startHealth() {
        if (health.check().isEmpty() || healthMonitor != null || closed.get()) {
            return;
        }
        StateDocument d = adopted;
        if (d.init() == null) {
            return;
        }
        StateDocument.ProcessDoc run = runMonitor;
        // what the state recorded for this run stays until a check says otherwise (a short-lived handle,
        // e.g. one `berth exec`, leaves a healthy container healthy); a run without a record starts;
        // checks taken over from another process (its lease let go): from the last status it journaled
        HealthStatus recorded = journalHealth;
        for (HealthStatus h : HealthStatus.values()) {
            if (recorded == null && !runStartedHere && h.label().equals(d.health()) && run.equals(d.monitor())) {
                recorded = h;
            }
        }
        if (healthLease == null) {
            try {
                healthLease = runtime.leads(this) ? runtime.tryHealthLease(id) : null;
            } catch (RuntimeException e) {
                LOG.warn("container {}: its health lease: {}", id, e.getMessage());
            }
            if (healthLease == null) {
                // another process (or handle) runs its checks: their results come from the journal; until
                // the next, the status recorded for the run
                if (health.status() == null || runStartedHere && journalHealth == null) {
                    health.update(recorded == null ? Health.starting() : new Health(recorded, 0, List.of()));
                }
                return;
            }
        }
        HealthMonitor m;
        try {
            HealthMonitor[] self = new HealthMonitor[1];
            m = health.monitor(runtime.services(), d.init().id(), spec -> runtime.exec(id, spec),
                    runtime.healthOutput(id), (h, changed) -> healthChanged(self[0], run, h, changed));
            self[0] = m;
        } catch (RuntimeException e) {
            LOG.debug("container {}: no health checks: {}", id, e.getMessage()); // the runtime is closing
            return;
        }
        healthMonitor = m;
        if (recorded == null || recorded == HealthStatus.STARTING) {
            health.update(Health.starting());
            recordHealth(run, HealthStatus.STARTING, 20, false);
        } else {
            health.update(new Health(recorded, 0, List.of())); // recorded healthy: onHealthy() completes
            m.resumeFrom(recorded); // a first check that agrees is no change (no second event)
        }
        m.start();
    }

    /** Health scheduler thread. */
    private void healthChanged(HealthMonitor m, StateDocument.ProcessDoc run, Health h, HealthStatus changed) {
        synchronized (follow) {
            if (m != healthMonitor || runEnded || phase != Phase.RUNNING) {
                return;
            }
            health.update(h);
            if (changed == null) {
                return;
            }
            // journaled under its id lock while the state names the run; every handle (this one too)
            // delivers it from the journal
            recordHealth(run, changed, 20, true);
        }
        if (changed == HealthStatus.UNHEALTHY) {
            actOnUnhealthy(run);
        }
    }

    /**
     * An unhealthy run: {@code stop} and {@code kill} are explicit stops (recorded first, so no restart
     * undoes them); {@code restart} requests a restart of the run from its supervisor (the holder of its
     * lease: its exit command, or its starter), then stops the run (see {@link #requestRestart}).
     */
    private void actOnUnhealthy(StateDocument.ProcessDoc run) {
        switch (onUnhealthy) {
            case KILL -> {
                LOG.info("container {} is unhealthy: kill", id);
                kill();
            }
            case STOP -> {
                LOG.info("container {} is unhealthy: stop", id);
                stopRequested = true;
                runtime.stopping(id);
                signal(adopted.control() != null ? adopted.control().stopSignal() : Syscalls.SIGTERM);
                try {
                    runtime.services().restarter().schedule(() -> {
                        if (isRunning()) {
                            kill();
                        }
                    }, UNHEALTHY_STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
                } catch (RejectedExecutionException | IllegalStateException e) {
                    LOG.debug("container {}: runtime closing: {}", id, e.getMessage());
                }
            }
            case RESTART -> {
                if (!detached) {
                    // its runtime runs the same check and restarts it itself (it holds its id)
                    LOG.info("container {} is unhealthy: restarted by the runtime that runs it", id);
                } else {
                    requestRestart(run, 20);
                }
            }
            default -> { }
        }
    }

    /**
     * The unhealthy action {@code restart}: a restart of the run is recorded under its id lock (when
     * another process holds it for a moment, again 50 ms later), then the run is stopped through its
     * own init's pidfd (the stop signal, SIGKILL after the grace). Its supervisor restarts it once
     * ended, whatever its policy: once, however many handles in however many processes asked. An
     * explicit stop recorded meanwhile still wins.
     */
    private void requestRestart(StateDocument.ProcessDoc run, int attempts) {
        Boolean recorded;
        try {
            recorded = runtime.requestRestart(id, run);
        } catch (RuntimeException e) {
            LOG.warn("container {}: requesting its restart: {}", id, e.getMessage());
            return;
        }
        if (recorded == null) {
            if (attempts > 0 && !closed.get()) {
                try {
                    runtime.services().restarter().schedule(() -> requestRestart(run, attempts - 1), 50,
                            TimeUnit.MILLISECONDS);
                } catch (RejectedExecutionException | IllegalStateException e) {
                    LOG.debug("container {}: runtime closing: {}", id, e.getMessage());
                }
            }
            return;
        }
        if (!recorded) {
            return;
        }
        LOG.info("container {} is unhealthy: restart", id);
        int stopSignal = adopted.control() != null ? adopted.control().stopSignal() : Syscalls.SIGTERM;
        if (!signalRun(run, stopSignal)) {
            return;
        }
        try {
            runtime.services().restarter().schedule(() -> signalRun(run, Syscalls.SIGKILL),
                    UNHEALTHY_STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException | IllegalStateException e) {
            LOG.debug("container {}: runtime closing: {}", id, e.getMessage());
        }
    }

    /** Signals the init of the run {@code run} while this handle follows that run; false otherwise. */
    private boolean signalRun(StateDocument.ProcessDoc run, int signal) {
        synchronized (follow) {
            if (!run.equals(runMonitor) || runEnded || phase != Phase.RUNNING) {
                return false;
            }
            synchronized (lock) {
                if (initPidfd >= 0) {
                    sys.pidfdSendSignal(initPidfd, signal);
                }
            }
            return true;
        }
    }

    /**
     * Records its health in its state under its id lock, while {@code run} is the run there; when another
     * process holds the lock for a moment (an exit command settling), again a little later.
     */
    private void recordHealth(StateDocument.ProcessDoc run, HealthStatus s, int attempts, boolean event) {
        boolean done;
        try {
            done = runtime.recordHealth(id, run, s.label(), event);
        } catch (RuntimeException e) {
            LOG.warn("container {}: recording its health: {}", id, e.getMessage());
            return;
        }
        if (done && event) {
            drainJournal();
        }
        if (!done && attempts > 0 && !closed.get()) {
            try {
                runtime.services().restarter().schedule(() -> {
                    synchronized (follow) {
                        if (run.equals(runMonitor) && !runEnded && health.status() == s) {
                            recordHealth(run, s, attempts - 1, event);
                        }
                    }
                }, 50, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException | IllegalStateException e) {
                LOG.debug("container {}: runtime closing: {}", id, e.getMessage());
            }
        }
    }

    /** Under {@link #follow}: the run's OOM subscription and health checks end. */
    private void stopRunExtras() {
        if (healthMonitor != null) {
            healthMonitor.stop();
            healthMonitor = null;
        }
        if (oomSubscription != null) {
            try {
                oomSubscription.close();
            } catch (Exception e) {
                LOG.debug("container {}: closing its OOM subscription: {}", id, e.getMessage());
            }
            oomSubscription = null;
        }
    }

    private Instant now() {
        return runtime.services().clock().instant();
    }

    private void publish(ContainerEvent.Type type, Map<String, String> attributes) {
        Map<String, String> all = new LinkedHashMap<>(baseAttributes);
        all.putAll(attributes);
        publish(ContainerEvent.of(id, type, now(), all));
    }

    /** Under {@link #follow} (one order per container): only the leading handle of its id publishes. */
    private void publish(ContainerEvent e) {
        if (!closed.get() && runtime.leads(this)) {
            runtime.services().events().publish(e);
        }
    }

    /** The figures a state keeps of an ended container: CPU time and peak memory. */
    static CgroupStats stats(StateDocument.UsageDoc u) {
        CgroupStats none = CgroupStats.empty();
        CgroupStats.Cpu cpu = u.cpuUsageUsec() == null ? CgroupStats.Cpu.NONE : new CgroupStats.Cpu(u.cpuUsageUsec(),
                CgroupStats.UNAVAILABLE, CgroupStats.UNAVAILABLE, CgroupStats.UNAVAILABLE, CgroupStats.UNAVAILABLE,
                CgroupStats.UNAVAILABLE);
        CgroupStats.Memory mem = u.memoryPeakBytes() == null ? CgroupStats.Memory.NONE : new CgroupStats.Memory(
                CgroupStats.UNAVAILABLE, u.memoryPeakBytes(), CgroupStats.UNAVAILABLE, Map.of(), Map.of());
        return new CgroupStats(cpu, mem, CgroupStats.UNAVAILABLE, List.of(), none.cpuPressure(), none.memoryPressure(),
                none.ioPressure());
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public long pid() {
        return adopted.init() == null ? 0 : adopted.init().pid();
    }

    @Override
    public CompletableFuture<ExitStatus> onExit() {
        return supervision.forCallers(exit);
    }

    @Override
    public boolean isRunning() {
        return !exit.isDone();
    }

    @Override
    public ContainerStatus status() {
        if (exit.isDone()) {
            return ContainerStatus.EXITED;
        }
        return runtime.read(id).map(StateDocument::containerStatus).orElse(ContainerStatus.EXITED);
    }

    @Override
    public ExitStatus waitFor() throws InterruptedException {
        try {
            return exit.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
        }
    }

    @Override
    public boolean waitFor(Duration timeout) throws InterruptedException {
        return Supervision.endsWithin(exit, timeout);
    }

    @Override
    public void signal(int signal) {
        if (signal <= 0 || signal > 64) {
            throw new IllegalArgumentException("signal: " + signal + " is not a signal number");
        }
        synchronized (lock) {
            if (initPidfd >= 0) {
                sys.pidfdSendSignal(initPidfd, signal);
            }
        }
    }

    @Override
    public ExitStatus stop(Duration grace) throws InterruptedException {
        stopRequested = true;
        runtime.stopping(id); // before the signal: no restart undoes it
        int stopSignal = adopted.control() != null ? adopted.control().stopSignal() : Syscalls.SIGTERM;
        signal(stopSignal);
        if (!waitFor(grace)) {
            kill();
        }
        return waitFor();
    }

    @Override
    public void kill() {
        stopRequested = true;
        runtime.stopping(id);
        thawIfFrozen();
        signal(Syscalls.SIGKILL);
        boolean ownPidNamespace = adopted.spec() == null || adopted.spec().namespaces() == null
                || adopted.spec().namespaces().contains("PID");
        if (!ownPidNamespace && cgroup.isPresent() && isRunning()) {
            try {
                cgroup.get().killAll();
            } catch (RuntimeException e) {
                LOG.debug("container {}: killing its cgroup: {}", id, e.getMessage());
            }
        }
    }

    /** A frozen init takes SIGKILL only once thawed (cgroup v1 freezer). */
    private void thawIfFrozen() {
        try {
            if (cgroup.isPresent() && cgroup.get().frozen()) {
                cgroup.get().thaw();
                runtime.recordStatus(id, ContainerStatus.RUNNING);
                seenByThisHandle(ContainerStatus.RUNNING);
            }
        } catch (RuntimeException e) {
            LOG.debug("container {}: thaw before kill: {}", id, e.getMessage());
        }
    }

    @Override
    public ContainerFiles files() {
        try {
            return runtime.files(id);
        } catch (ContainerException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    @Override
    public OutputStream stdin() {
        throw notHere();
    }

    @Override
    public InputStream stdout() {
        throw notHere();
    }

    @Override
    public InputStream stderr() {
        throw notHere();
    }

    private IllegalStateException notHere() {
        return new IllegalStateException("container " + id + ": its stdio belongs to the process that started it;"
                + " read its output with logs()");
    }

    @Override
    public void resizeTerminal(int columns, int rows) {
        throw new IllegalStateException("container " + id + ": its terminal belongs to the process that started it");
    }

    @Override
    public ExecProcess exec(ExecSpec spec) throws ContainerException {
        return runtime.exec(id, spec);
    }

    @Override
    public CgroupStats stats() {
        CgroupStats last = finalStats;
        if (last != null) {
            return last;
        }
        if (exit.isDone()) {
            throw new IllegalStateException("container " + id + ": ended; no figures were kept");
        }
        return cgroup.orElseThrow(() -> new IllegalStateException("container " + id + ": runs without a cgroup"))
                .stats();
    }

    @Override
    public void pause() {
        ContainerStatus s = status();
        if (s != ContainerStatus.RUNNING) {
            throw new ContainerStateException("pause", id, s, "running");
        }
        Cgroup cg = cgroup.orElseThrow(() -> new IllegalStateException("container " + id + ": runs without a cgroup"));
        cg.freeze();
        runtime.recordStatus(id, ContainerStatus.PAUSED);
        seenByThisHandle(ContainerStatus.PAUSED);
    }

    /** A pause or resume through this handle (journaled by it): its event now, from the journal. */
    private void seenByThisHandle(ContainerStatus st) {
        synchronized (follow) {
            drainJournal();
        }
    }

    /**
     * Under {@link #follow}: delivers what the journal gained, in its order: the entries of the run this
     * handle follows (pauses, resumes, health results, by whichever process); those of a run it saw end
     * are dropped; those of a later run wait until this handle follows that run (its restart and start
     * come first).
     */
    private void drainJournal() {
        if (closed.get()) {
            return;
        }
        try {
            journalPending.addAll(journal.poll());
        } catch (RuntimeException e) {
            LOG.warn("container {}: reading its event journal: {}", id, e.getMessage());
        }
        while (!journalPending.isEmpty()) {
            EventJournal.Entry e = journalPending.peek();
            if (e.run() != null && endedRuns.contains(e.run())) {
                journalPending.poll();
                continue;
            }
            if (e.run() != null && !e.run().equals(runMonitor)) {
                return; // a later run's: once this handle follows it
            }
            journalPending.poll();
            if (phase == Phase.RUNNING) {
                deliver(e);
            }
        }
    }

    /** Under {@link #follow}: one journaled event of the followed run. */
    private void deliver(EventJournal.Entry e) {
        ContainerEvent.Type type;
        try {
            type = ContainerEvent.Type.valueOf(e.type().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException x) {
            LOG.debug("container {}: journal entry {} of an unknown type {}", id, e.seq(), e.type());
            return;
        }
        switch (type) {
            case HEALTH_STATUS -> {
                HealthStatus st = null;
                for (HealthStatus h : HealthStatus.values()) {
                    if (h.label().equals(e.attributes().get("health_status"))) {
                        st = h;
                    }
                }
                if (st == null) {
                    LOG.debug("container {}: journal entry {}: no health status", id, e.seq());
                    return;
                }
                journalHealth = st;
                if (healthMonitor == null) { // another process's check: its result is this handle's too
                    health.update(new Health(st, 0, List.of()));
                }
            }
            case PAUSED -> seen = ContainerStatus.PAUSED;
            case RESUMED -> seen = ContainerStatus.RUNNING;
            default -> { }
        }
        Map<String, String> all = new LinkedHashMap<>(baseAttributes);
        all.putAll(e.attributes());
        try {
            publish(ContainerEvent.of(id, type, e.instant(), all));
        } catch (RuntimeException x) { // an exited event has no place here
            LOG.debug("container {}: journal entry {}: {}", id, e.seq(), x.getMessage());
        }
    }

    /** Under {@link #follow}: this handle runs no more checks; another process (or handle) may take over. */
    private void releaseHealthLease() {
        if (healthLease != null) {
            healthLease.close();
            healthLease = null;
        }
    }

    @Override
    public void resume() {
        ContainerStatus s = status();
        if (s != ContainerStatus.PAUSED) {
            throw new ContainerStateException("resume", id, s, "paused");
        }
        Cgroup cg = cgroup.orElseThrow(() -> new IllegalStateException("container " + id + ": runs without a cgroup"));
        cg.thaw();
        runtime.recordStatus(id, ContainerStatus.RUNNING);
        seenByThisHandle(ContainerStatus.RUNNING);
    }

    @Override
    public Subscription onOom(Consumer<OomEvent> listener) {
        return cgroup.orElseThrow(() -> new IllegalStateException("container " + id + ": runs without a cgroup"))
                .onOom(listener)::close;
    }

    @Override
    public Stream<LogEntry> logs(LogQuery query) {
        String dir = adopted.control() == null ? null : adopted.control().logDir();
        if (dir == null) {
            throw new IllegalStateException("container " + id + ": its output is not captured (spec: logging(), or"
                    + " detached(true))");
        }
        return new LogReader(Path.of(dir), query, exit::isDone).stream();
    }

    @Override
    public dev.berth.core.Subscription onLog(Consumer<LogEntry> listener, java.util.concurrent.Executor executor) {
        logs(LogQuery.ALL).close(); // the same checks as logs()
        return LogReader.follow(Path.of(adopted.control().logDir()), exit::isDone, listener, executor);
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
        return runtime.read(id).map(StateDocument::restartCount).orElse(adopted.restartCount());
    }

    @Override
    public Subscription events(Consumer<ContainerEvent> listener) {
        return runtime.services().events().subscribe(id, listener, null);
    }

    @Override
    public Subscription events(Consumer<ContainerEvent> listener, Executor executor) {
        return runtime.services().events().subscribe(id, listener, java.util.Objects.requireNonNull(executor,
                "executor"));
    }

    /** Lets go of the handle: the container goes on as it is (its health checks here stop). */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        synchronized (follow) {
            if (poll != null) {
                poll.cancel(false);
            }
            stopRunExtras(); // its checks stop before the lease goes: no two processes check at once
            releaseHealthLease();
            journal.close();
        }
        if (token != 0) {
            supervision.reactor().forget(token);
        }
        releaseProcessHandles();
        exit.completeExceptionally(new IllegalStateException("container " + id
                + ": this handle was closed; the container goes on without it"));
        health.neverHealthy(": this handle was closed before it was healthy");
        runtime.closed(this);
    }
}
