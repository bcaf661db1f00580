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
import dev.berth.core.ExitStatus;
import dev.berth.core.LogEntry;
import dev.berth.core.LogQuery;
import dev.berth.core.Subscription;
import dev.berth.core.internal.logs.LogReader;
import dev.berth.core.internal.state.ProcessId;
import dev.berth.core.internal.state.Reconciler;
import dev.berth.core.internal.state.StateDocument;
import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
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

        /** Records a pause or resume in its state. */
        void recordStatus(String id, ContainerStatus status);

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
    }

    @Override
    public Optional<dev.berth.core.NetworkInfo> network() {
        return runtime.network(id);
    }

    private final Syscalls sys;
    private final String id;
    private final StateDocument adopted;
    private final Supervision supervision;
    private final Runtime runtime;
    private final Optional<Cgroup> cgroup;
    private final CompletableFuture<ExitStatus> exit = new CompletableFuture<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Object lock = new Object();
    private volatile CgroupStats finalStats;
    private int initPidfd = -1;
    private int monitorPidfd = -1;
    private long token;

    private AdoptedContainer(Syscalls sys, StateDocument doc, Supervision supervision, Runtime runtime,
            Optional<Cgroup> cgroup) {
        this.sys = sys;
        this.id = doc.id();
        this.adopted = doc;
        this.supervision = supervision;
        this.runtime = runtime;
        this.cgroup = cgroup;
    }

    /**
     * A handle to the container {@code doc} describes: ended already (its recorded exit), or followed
     * until it ends.
     */
    public static AdoptedContainer adopt(Syscalls sys, StateDocument doc, Supervision supervision, Runtime runtime,
            Optional<Cgroup> cgroup) {
        AdoptedContainer c = new AdoptedContainer(sys, doc, supervision, runtime, cgroup);
        c.follow();
        return c;
    }

    private void follow() {
        if (adopted.containerStatus() == ContainerStatus.EXITED || adopted.containerStatus() == ContainerStatus.RESTARTING) {
            ended(Optional.of(adopted));
            return;
        }
        monitorPidfd = adopted.monitor() == null ? -1 : openChecked(adopted.monitor().id());
        if (monitorPidfd < 0) {
            ended(runtime.settle(id)); // it ended, and nobody recorded it yet
            return;
        }
        initPidfd = adopted.init() == null ? -1 : openChecked(adopted.init().id());
        token = supervision.reactor().register(monitorPidfd, this);
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
        supervision.cleanup().execute(() -> ended(runtime.settle(id)));
        return true;
    }

    @Override
    public void onFailure(RuntimeException e) {
        releaseProcessHandles();
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

    private void ended(Optional<StateDocument> state) {
        ExitStatus status = state.map(StateDocument::exit).map(StateDocument.ExitDoc::toExitStatus)
                .orElse(ExitStatus.killed(Syscalls.SIGKILL));
        finalStats = state.map(StateDocument::usage).map(AdoptedContainer::stats).orElse(null);
        exit.complete(status);
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

    /** Lets go of the handle: the container goes on as it is. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (token != 0) {
            supervision.reactor().forget(token);
        }
        releaseProcessHandles();
        exit.completeExceptionally(new IllegalStateException("container " + id
                + ": this handle was closed; the container goes on without it"));
        runtime.closed(this);
    }
}
