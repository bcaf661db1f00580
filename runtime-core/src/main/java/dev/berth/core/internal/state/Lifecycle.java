package dev.berth.core.internal.state;

import dev.berth.core.ContainerStateException;
import dev.berth.core.ContainerStatus;
import dev.berth.core.ExitStatus;
import java.time.Clock;
import java.util.List;
import java.util.function.Consumer;

/**
 * One container's status machine, {@code created → running ⇄ paused → exited}
 * ({@link ContainerStatus#canBecome}), and its state document: every transition is checked, then
 * persisted (through {@code persist}, the state store's atomic write) under one lock, so the file
 * always holds the latest status and two transitions never interleave their writes. A transition
 * the machine does not allow is refused with a {@link ContainerStateException} naming the
 * operation, the container and its status; an exit that races a start or a pause always wins (it
 * is what happened).
 */
public final class Lifecycle {
    private final Consumer<StateDocument> persist;
    private final Clock clock;
    private StateDocument state;
    /** Set by {@link #discard()}: the state file is about to go, transitions stay in memory. */
    private boolean discarded;
    /**
     * A restart's run: from its clone until its target's exec it is recorded {@code restarting} (not
     * {@code created}), so that a list never shows a restarting container as one that is not running.
     */
    private final boolean restart;
    /** Between the clone of a restart's run and its exec (or end). */
    private boolean relaunching;
    /** Asked as the target ends: whether a restart follows (then recorded {@code restarting} at once), or null. */
    private java.util.function.Predicate<ExitStatus> restartFollows;

    /**
     * @param initial the state before the init exists (status {@code created}, not persisted yet)
     * @param persist writes a state; its failure fails the transition (the status is unchanged)
     */
    public Lifecycle(StateDocument initial, Consumer<StateDocument> persist, Clock clock) {
        this(initial, persist, clock, false);
    }

    /**
     * @param restart a restart's run: {@code restarting} (not {@code created}) until its target was
     *                exec'd, and the container's first creation time ({@code initial.created()}) kept
     */
    public Lifecycle(StateDocument initial, Consumer<StateDocument> persist, Clock clock, boolean restart) {
        this.state = initial;
        this.persist = persist;
        this.clock = clock;
        this.restart = restart;
    }

    /**
     * {@code decides} is asked as the target ends whether a restart follows; when it says so, the
     * exit is recorded with the status {@code restarting} in the same write (no {@code exited} in
     * between for a reader to see). Its supervisor confirms or calls it off afterwards.
     */
    public synchronized void restartFollows(java.util.function.Predicate<ExitStatus> decides) {
        this.restartFollows = decides;
    }

    public synchronized ContainerStatus status() {
        return state.containerStatus();
    }

    public synchronized StateDocument state() {
        return state;
    }

    public String id() {
        return state.id(); // never changes
    }

    /**
     * The init was cloned: its and the monitor's identity, persisted before the init runs anything.
     * The creation time is the container's first (kept across restarts, as docker and podman do).
     */
    public synchronized void created(ProcessId init, ProcessId monitor) {
        relaunching = restart;
        set(new StateDocument(state.schema(), state.id(), (restart ? ContainerStatus.RESTARTING
                : ContainerStatus.CREATED).label(), StateDocument.ProcessDoc.of(init), StateDocument.ProcessDoc.of(monitor),
                state.cgroup(), state.image(), state.rootfs(), state.spec(), state.created() != null ? state.created()
                : now(), null, null, null, state.restartCount(), state.health(), null, state.control()));
    }

    /** The target was exec'd. No effect on the status when it has already ended (it only records the time). */
    public synchronized void started() {
        ContainerStatus s = status();
        if (relaunching) {
            relaunching = false;
            set(state.withStarted(now()));
            return;
        }
        if (s == ContainerStatus.EXITED || s == ContainerStatus.RESTARTING) {
            set(new StateDocument(state.schema(), state.id(), state.status(), state.init(), state.monitor(),
                    state.cgroup(), state.image(), state.rootfs(), state.spec(), state.created(), now(),
                    state.finished(), state.exit(), state.restartCount(), state.health(), state.usage(),
                    state.control()));
            return;
        }
        require("start", ContainerStatus.CREATED, "created");
        set(state.withStarted(now()));
    }

    /**
     * Checks that {@code operation} may run now: the container is {@code required}.
     *
     * @throws ContainerStateException when it is not
     */
    public synchronized void require(String operation, ContainerStatus required, String expected) {
        ContainerStatus s = status();
        if (s != required) {
            throw new ContainerStateException(operation, state.id(), s, expected);
        }
    }

    /** {@code pause} done: running → paused. False (nothing recorded) when it ended meanwhile. */
    public synchronized boolean paused() {
        return move("pause", ContainerStatus.RUNNING, ContainerStatus.PAUSED, "running");
    }

    /** {@code resume} done: paused → running. False when it ended meanwhile. */
    public synchronized boolean resumed() {
        return move("resume", ContainerStatus.PAUSED, ContainerStatus.RUNNING, "paused");
    }

    private boolean move(String operation, ContainerStatus from, ContainerStatus to, String expected) {
        ContainerStatus s = status();
        if (s == ContainerStatus.EXITED || s == ContainerStatus.RESTARTING) {
            return false;
        }
        if (s != from || !from.canBecome(to)) {
            throw new ContainerStateException(operation, state.id(), s, expected);
        }
        set(state.withStatus(to));
        return true;
    }

    /** The target ended (from any status but exited: a second report changes nothing). */
    public synchronized void exited(ExitStatus exit) {
        if (status() == ContainerStatus.EXITED || (status() == ContainerStatus.RESTARTING && !relaunching)) {
            return;
        }
        relaunching = false;
        StateDocument next = state.withExit(exit, now());
        if (restartFollows != null && restartFollows.test(exit)) {
            next = next.withStatus(ContainerStatus.RESTARTING);
        }
        try {
            if (!discarded) {
                persist.accept(next);
            }
        } finally {
            state = next; // it ended, whether or not the file could say so: nothing may pause it now
        }
    }

    /** Ended, and waiting for its restart's backoff: exited → restarting. */
    public synchronized void restarting() {
        if (status() == ContainerStatus.EXITED) {
            set(state.withStatus(ContainerStatus.RESTARTING));
        }
    }

    /** A stop called the restart off (or it failed): restarting → exited, the ended run's record as it was. */
    public synchronized void restartCalledOff() {
        if (status() == ContainerStatus.RESTARTING) {
            set(state.withStatus(ContainerStatus.EXITED));
        }
    }

    /** The cgroup is gone (removed after the exit), with its final figures. */
    public synchronized void cgroupRemoved(StateDocument.UsageDoc usage) {
        set(state.withCgroup(List.of()).withUsage(usage));
    }

    private void set(StateDocument next) {
        if (!discarded) {
            persist.accept(next); // first: a failed write leaves the status as the file has it
        }
        state = next;
    }

    /**
     * The container is being closed, which ends it and then removes its state file: the exit and
     * the cgroup's removal that follow are kept in memory only (the handle still reports them), not
     * written to a file deleted a moment later. A runtime that dies meanwhile leaves a state naming
     * processes that are gone, which a reconcile cleans up as it does any dead runtime's.
     */
    public synchronized void discard() {
        discarded = true;
    }

    private String now() {
        return clock.instant().toString();
    }

    /**
     * Runs {@code r} while the run is running or paused (its end cannot be recorded meanwhile): what
     * belongs to the run (a journaled event) is then never after its end. False when it ended.
     */
    public synchronized boolean whileLive(Runnable r) {
        ContainerStatus s = status();
        if (s != ContainerStatus.RUNNING && s != ContainerStatus.PAUSED) {
            return false;
        }
        r.run();
        return true;
    }

    /** The health check's status changed ({@code starting}, {@code healthy}, {@code unhealthy}); kept across exits. */
    public synchronized void health(String status) {
        set(state.withHealth(status));
    }
}
