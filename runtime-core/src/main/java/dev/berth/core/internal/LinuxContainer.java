package dev.berth.core.internal;

import dev.berth.cgroups.Cgroup;
import dev.berth.cgroups.CgroupStats;
import dev.berth.cgroups.OomEvent;
import dev.berth.core.Container;
import dev.berth.core.ContainerException;
import dev.berth.core.ContainerFiles;
import dev.berth.core.ContainerStatus;
import dev.berth.core.ExecProcess;
import dev.berth.core.ExecSpec;
import dev.berth.core.ExitStatus;
import dev.berth.core.LogEntry;
import dev.berth.core.LogQuery;
import dev.berth.core.Subscription;
import dev.berth.core.internal.logs.LogReader;
import dev.berth.core.TerminalSize;
import dev.berth.core.internal.files.ContainerFilesImpl;
import dev.berth.core.internal.files.FsRoot;
import dev.berth.core.internal.files.TreeAccess;
import dev.berth.core.internal.state.Lifecycle;
import dev.berth.core.internal.state.StateDocument;
import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import dev.berth.core.internal.sys.WaitStatus;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.List;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A running container: its init's pidfd, its monitor's control socket and its streams. */
public final class LinuxContainer implements Container, Reactor.Handler {
    private static final Logger LOG = LoggerFactory.getLogger(LinuxContainer.class);

    private final Syscalls sys;
    private final String id;
    private final long initPid;
    private final long monitorPid;
    private final int ctlFd;
    private final OutputStream stdin;
    private final InputStream stdout;
    private final InputStream stderr;
    private final PtyMaster terminal;
    private final ExitHandler onEnded;
    private final Resources resources;
    private final Supervision supervision;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Completed on the cleanup thread; users see it through {@link #onExit()} on the callback executor. */
    private final CompletableFuture<ExitStatus> exit = new CompletableFuture<>();
    /** Completed once the monitor is reaped too: {@link #close()} returns only after it. */
    private final CompletableFuture<Void> reaped = new CompletableFuture<>();
    private final Object lock = new Object();
    /** Serialises pause and resume (each checks, acts on the freezer, then records). */
    private final Object pauseLock = new Object();
    private final Lifecycle lifecycle;
    /** Its network, once attached (ContainerRuntime sets it right after the launch). */
    private volatile dev.berth.core.NetworkInfo network;
    /** The cgroup's figures read once the container ended, before its cgroup went: what stats() gives from then on. */
    private volatile CgroupStats finalStats;
    private int pidfd;
    private boolean ctlClosed;
    /** Bit 1: it ended; bit 2: its start completed. Both: an autoRemove container is removed. */
    private final java.util.concurrent.atomic.AtomicInteger autoRemoval = new java.util.concurrent.atomic.AtomicInteger();
    /** Its registration with the reactor (0: none yet). */
    private volatile long token;

    /**
     * What a container holds beyond its processes.
     *
     * @param cgroup          its cgroup, or null when the runtime runs without cgroups
     * @param stopSignal      the first signal {@link #stop} sends
     * @param ownPidNamespace whether killing the init ends every process (PID 1 of its namespace)
     * @param onClosed        runs once from {@link #close()} after the container ended
     * @param endedRoot       reaches the root once the container ended (mounted again by a holder)
     * @param lifecycle       its status machine and state, or null for one kept in memory only
     */
    public record Resources(Cgroup cgroup, int stopSignal, boolean ownPidNamespace, Runnable onClosed,
            TreeAccess endedRoot, Lifecycle lifecycle, Entry entry, Path logDir, Detached detached) {
        public static final Resources NONE = new Resources(null, Syscalls.SIGTERM, true, () -> { }, () -> {
            throw new IOException("no root to reach");
        });

        /** Resources of an attached container without captured output. */
        public Resources(Cgroup cgroup, int stopSignal, boolean ownPidNamespace, Runnable onClosed,
                TreeAccess endedRoot, Lifecycle lifecycle, Entry entry) {
            this(cgroup, stopSignal, ownPidNamespace, onClosed, endedRoot, lifecycle, entry, null, null);
        }

        /** Resources of a container nothing can be exec'd into, without a lifecycle (a test's). */
        public Resources(Cgroup cgroup, int stopSignal, boolean ownPidNamespace, Runnable onClosed,
                TreeAccess endedRoot) {
            this(cgroup, stopSignal, ownPidNamespace, onClosed, endedRoot, null, (spec, pid, pidfd) -> {
                throw new ContainerException("exec: this container was started without a way in");
            });
        }
    }

    /**
     * A detached container's part: {@link #close()} only lets go of the handle (the container goes on,
     * or stays, ended, until removed), unless it ended and asked to be removed then.
     *
     * @param removeOnExit its spec's autoRemove: {@code remove} runs once it ended and its start completed
     * @param letGo        runs once from {@code close()} otherwise
     * @param remove       removes the ended container (state, layer, logs, cgroup, pin)
     */
    public record Detached(boolean removeOnExit, Runnable letGo, Runnable remove) {}

    /** How a detached container's exit future ends when its handle lets go of it (it did not exit). */
    public static final class Released extends IllegalStateException {
        Released(String message) {
            super(message);
        }
    }

    /** How a process is exec'd into the container: the runtime's part of {@link Container#exec}. */
    @FunctionalInterface
    public interface Entry {
        /**
         * @param initPid the host pid of the container's init
         * @param pidfd   a pidfd of the init, open while the init was known to run; the callee's to close
         */
        ExecProcess enter(ExecSpec spec, long initPid, int pidfd) throws ContainerException;
    }

    /**
     * @param onEnded runs once on the cleanup thread after the container ended: its verdict
     *                before {@link #onExit()} completes, its teardown after
     */
    public LinuxContainer(Syscalls sys, String id, long initPid, int pidfd, long monitorPid, int ctlFd,
            OutputStream stdin, InputStream stdout, InputStream stderr, ExitHandler onEnded,
            Resources resources, Supervision supervision) {
        this(sys, id, initPid, pidfd, monitorPid, ctlFd, stdin, stdout, stderr, null, onEnded, resources, supervision);
    }

    /** A container with a terminal: its master's streams are stdin and stdout. */
    LinuxContainer(Syscalls sys, String id, long initPid, int pidfd, long monitorPid, int ctlFd, PtyMaster terminal,
            ExitHandler onEnded, Resources resources, Supervision supervision) {
        this(sys, id, initPid, pidfd, monitorPid, ctlFd, terminal.input(), terminal.output(), null, terminal, onEnded,
                resources, supervision);
    }

    private LinuxContainer(Syscalls sys, String id, long initPid, int pidfd, long monitorPid, int ctlFd,
            OutputStream stdin, InputStream stdout, InputStream stderr, PtyMaster terminal, ExitHandler onEnded,
            Resources resources, Supervision supervision) {
        this.terminal = terminal;
        this.sys = sys;
        this.id = id;
        this.initPid = initPid;
        this.pidfd = pidfd;
        this.monitorPid = monitorPid;
        this.ctlFd = ctlFd;
        this.stdin = stdin;
        this.stdout = stdout;
        this.stderr = stderr;
        this.onEnded = onEnded;
        this.resources = resources;
        this.supervision = supervision;
        this.lifecycle = resources.lifecycle() != null ? resources.lifecycle() : new Lifecycle(
                new StateDocument(StateDocument.SCHEMA, id, ContainerStatus.RUNNING.label(), null, null, List.of(), null,
                        null, null, null, null, null, null, 0, null, null, null), s -> { }, Clock.systemUTC());
    }

    /** Its registration with the reactor, which a detached container's {@link #close()} drops. */
    void registered(long reactorToken) {
        this.token = reactorToken;
    }

    /** Reactor thread: reads the monitor's report and hands the rest to the cleanup thread. */
    @Override
    public boolean onReadable() {
        byte[] buf = new byte[64];
        int n = sys.read(ctlFd, buf, 0, buf.length);
        ExitStatus status;
        boolean reported = n > 0;
        if (reported) {
            MonitorMessage m = MonitorMessage.decode(buf, n);
            if (m.type() != 'W') {
                LOG.warn("container {}: unexpected monitor message {}", id, m);
                return false;
            }
            status = toExitStatus(m.value());
        } else {
            // The monitor died without reporting; its death took the container with it (PDEATHSIG).
            status = ExitStatus.killed(Syscalls.SIGKILL);
        }
        releaseProcessHandles();
        ExitStatus raw = status;
        supervision.cleanup().execute(() -> ended(raw, reported));
        return true;
    }

    /** The reactor could not read the report: the container is killed and released all the same. */
    @Override
    public void onFailure(RuntimeException e) {
        synchronized (lock) {
            if (pidfd >= 0) {
                sys.pidfdSendSignal(pidfd, Syscalls.SIGKILL);
            }
        }
        releaseProcessHandles();
        supervision.cleanup().execute(() -> {
            try {
                ExitStatus status = onEnded.verdict(ExitStatus.killed(Syscalls.SIGKILL));
                lifecycle.exited(status);
                onEnded.teardown(status, null);
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            sys.waitpid(monitorPid, false);
            exit.completeExceptionally(new IllegalStateException("container " + id + ": supervision failed: "
                    + e.getMessage(), e));
            reaped.complete(null);
        });
    }

    private void releaseProcessHandles() {
        synchronized (lock) {
            if (!ctlClosed) {
                sys.close(ctlFd); // also takes it out of the reactor's epoll set
                ctlClosed = true;
            }
            if (pidfd >= 0) {
                sys.close(pidfd);
                pidfd = -1;
            }
        }
    }

    /**
     * Cleanup thread: the verdict completes the exit status, then the teardown runs, off the exit
     * path; a failure of either never loses the status.
     */
    private void ended(ExitStatus raw, boolean reported) {
        ExitStatus status = raw;
        try {
            status = onEnded.verdict(raw);
        } catch (RuntimeException e) {
            LOG.error("container {}: exit verdict failed: {}", id, e.getMessage(), e);
        }
        LOG.debug("container {} ended: {}", id, status);
        try {
            lifecycle.exited(status); // before onExit(): who sees the exit sees it in the state
        } catch (RuntimeException e) {
            LOG.error("container {}: recording its exit failed: {}", id, e.getMessage(), e);
        }
        exit.complete(status);
        finalStats = lastStats();
        try {
            onEnded.teardown(status, finalStats);
        } catch (RuntimeException e) {
            LOG.error("container {}: cleanup after exit failed: {}", id, e.getMessage(), e);
        }
        try {
            if (resources.detached() == null) {
                int ms = sys.waitpid(monitorPid, false); // the monitor exits right after its report
                if (!reported) {
                    LOG.warn("container {}: monitor {} ended without a report ({})", id, monitorPid, toExitStatus(ms));
                }
            } // a detached one is not the JVM's child: it exits on its own, and its new parent reaps it
        } finally {
            reaped.complete(null);
        }
        if (resources.detached() != null && resources.detached().removeOnExit() && autoRemoval.getAndUpdate(v -> v | 1) == 2) {
            removeAfterExit();
        }
    }

    /**
     * The runtime's start of this container is complete (its state and exec profile written): a
     * detached container that asked for it is removed once it ended, which may have been before.
     */
    public void startCompleted() {
        if (resources.detached() != null && resources.detached().removeOnExit() && autoRemoval.getAndUpdate(v -> v | 2) == 1) {
            supervision.cleanup().execute(this::removeAfterExit);
        }
    }

    private void removeAfterExit() {
        if (closed.compareAndSet(false, true)) {
            try {
                resources.detached().remove().run();
            } catch (RuntimeException e) {
                LOG.warn("container {}: removing it after its exit (autoRemove) failed: {}", id, e.getMessage(), e);
            }
        }
    }

    /** The cgroup's figures now that nothing runs in it any more; null without a cgroup or its files. */
    private CgroupStats lastStats() {
        if (resources.cgroup() == null) {
            return null;
        }
        try {
            return resources.cgroup().stats();
        } catch (RuntimeException e) {
            LOG.debug("container {}: final stats: {}", id, e.getMessage());
            return null;
        }
    }

    static ExitStatus toExitStatus(int raw) {
        return WaitStatus.exited(raw) ? ExitStatus.exited(WaitStatus.exitCode(raw)) : ExitStatus.killed(WaitStatus.termSignal(raw));
    }

    /** Set once, by the runtime that attached the container to its network. */
    public void network(dev.berth.core.NetworkInfo info) {
        this.network = info;
    }

    @Override
    public java.util.Optional<dev.berth.core.NetworkInfo> network() {
        return java.util.Optional.ofNullable(network);
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public long pid() {
        return initPid;
    }

    /**
     * Completes on the runtime's callback executor, so that dependants (user code) never run on
     * the reactor or cleanup thread, however long they take or whatever they wait for. Once the
     * container has ended, the future is complete when returned (dependants then run on the
     * thread that adds them).
     */
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
        return exit.isDone() ? ContainerStatus.EXITED : lifecycle.status();
    }

    @Override
    public ExitStatus waitFor() throws InterruptedException {
        return awaitExit();
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
            if (pidfd < 0) {
                return;
            }
            try {
                sys.pidfdSendSignal(pidfd, signal);
            } catch (SyscallException e) {
                throw new IllegalStateException("container " + id + ": " + e.getMessage(), e);
            }
        }
    }

    @Override
    public ExitStatus stop(Duration grace) throws InterruptedException {
        signal(resources.stopSignal());
        try {
            return exit.get(Math.max(0, grace.toMillis()), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            kill();
            return awaitExit();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    /**
     * SIGKILL to the init: as PID 1 of the container's namespace its death ends every process.
     * Without a PID namespace of its own, the target dies with it (its parent-death signal), and the
     * cgroup takes whatever the target started.
     */
    @Override
    public ContainerFiles files() {
        if (closed.get()) {
            throw new IllegalStateException("container " + id + ": closed; its files are gone");
        }
        return new ContainerFilesImpl(sys, id, this::openRoot, resources.endedRoot().readers());
    }

    /**
     * While the container runs: its init's root, checked to be still that process's after it was
     * opened (the pidfd names the process, a pid could have been reused). After it ended: the
     * root mounted again by a holder.
     */
    private TreeAccess.Opened openRoot() throws IOException {
        synchronized (lock) {
            if (pidfd >= 0) {
                try {
                    // rootless, the init's own /proc entries are closed to its user: its child's show the same root
                    FsRoot root = FsRoot.open(sys, Path.of("/proc/" + RootlessStart.inspectable(initPid) + "/root"),
                            "container " + id);
                    if (sys.pidfdSendSignal(pidfd, 0)) {
                        return new TreeAccess.Opened(root, null);
                    }
                    root.close();
                } catch (SyscallException e) {
                    LOG.debug("container {}: its init's root is gone ({}): reaching the ended root", id, e.getMessage());
                }
            }
        }
        if (closed.get()) {
            throw new IOException("container " + id + ": closed; its files are gone");
        }
        return resources.endedRoot().open();
    }

    @Override
    public void kill() {
        signal(Syscalls.SIGKILL);
        if (!resources.ownPidNamespace() && resources.cgroup() != null && isRunning()) {
            try {
                resources.cgroup().killAll();
            } catch (RuntimeException e) {
                LOG.debug("container {}: killing its cgroup: {}", id, e.getMessage());
            }
        }
    }

    private ExitStatus awaitExit() throws InterruptedException {
        try {
            return exit.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    private Cgroup cgroup() {
        if (resources.cgroup() == null) {
            throw new IllegalStateException("container " + id + ": runs without a cgroup (the runtime has no cgroup driver)");
        }
        return resources.cgroup();
    }

    /**
     * While it runs, read now; once it ended, the figures read when it ended (its cgroup is gone by
     * then), until it is closed.
     */
    @Override
    public CgroupStats stats() {
        if (closed.get()) {
            throw new IllegalStateException("container " + id + ": closed; its stats are gone");
        }
        CgroupStats last = finalStats;
        if (last != null) {
            return last;
        }
        Cgroup cg = cgroup();
        try {
            return cg.stats();
        } catch (RuntimeException e) {
            last = finalStats; // the cgroup went between the two reads: the figures were kept first
            if (last != null) {
                return last;
            }
            throw e;
        }
    }

    @Override
    public void pause() {
        synchronized (pauseLock) {
            lifecycle.require("pause", ContainerStatus.RUNNING, "running");
            Cgroup cg = cgroup();
            cg.freeze();
            if (!lifecycle.paused()) {
                thawQuietly(cg); // it ended while being frozen: nothing is left to pause
            }
        }
    }

    @Override
    public void resume() {
        synchronized (pauseLock) {
            lifecycle.require("resume", ContainerStatus.PAUSED, "paused");
            Cgroup cg = cgroup();
            cg.thaw();
            lifecycle.resumed();
        }
    }

    private void thawQuietly(Cgroup cg) {
        try {
            cg.thaw();
        } catch (RuntimeException e) {
            LOG.debug("container {}: thaw: {}", id, e.getMessage());
        }
    }

    @Override
    public Subscription onOom(Consumer<OomEvent> listener) {
        return cgroup().onOom(listener)::close;
    }

    /**
     * Runs a process in the container. The init's pidfd is duplicated while it is known to run, so
     * the entry names this container's init even if it ends meanwhile (then the entry fails).
     */
    @Override
    public ExecProcess exec(ExecSpec spec) throws ContainerException {
        Objects.requireNonNull(spec, "spec");
        int fd;
        synchronized (lock) {
            if (pidfd < 0 || exit.isDone()) {
                throw new ContainerException("exec: container " + id + " is not running (status exited)");
            }
            fd = sys.dup(pidfd);
        }
        return resources.entry().enter(spec, initPid, fd);
    }

    @Override
    public OutputStream stdin() {
        if (stdin == null) {
            throw new IllegalStateException("container " + id + ": stdin is not a pipe (spec: Stdio.pipe())");
        }
        return stdin;
    }

    @Override
    public InputStream stdout() {
        if (stdout == null) {
            throw new IllegalStateException("container " + id + ": stdout is not a pipe (spec: Stdio.pipe())");
        }
        return stdout;
    }

    @Override
    public InputStream stderr() {
        if (terminal != null) {
            throw new IllegalStateException("container " + id + ": stderr goes to its terminal: read stdout()");
        }
        if (stderr == null) {
            throw new IllegalStateException("container " + id + ": stderr is not a pipe (spec: Stdio.pipe())");
        }
        return stderr;
    }

    @Override
    public void resizeTerminal(int columns, int rows) {
        TerminalSize size = new TerminalSize(columns, rows);
        if (terminal == null) {
            throw new IllegalStateException("container " + id + ": has no terminal (spec: tty(true))");
        }
        if (isRunning()) {
            terminal.resize(size.columns(), size.rows());
        }
    }

    @Override
    public Stream<LogEntry> logs(LogQuery query) {
        return logs(query, () -> !isRunning());
    }

    @Override
    public dev.berth.core.Subscription onLog(Consumer<LogEntry> listener, java.util.concurrent.Executor executor) {
        return onLog(listener, executor, () -> !isRunning());
    }

    /** @param ended whether the follow may end (a restarting container's log goes on across incarnations) */
    public dev.berth.core.Subscription onLog(Consumer<LogEntry> listener, java.util.concurrent.Executor executor,
            java.util.function.BooleanSupplier ended) {
        logs(LogQuery.ALL, ended).close(); // the same checks as logs()
        return LogReader.follow(resources.logDir(), ended, listener, executor);
    }

    /** @param ended whether a follow may end (a restarting container's log goes on across incarnations) */
    public Stream<LogEntry> logs(LogQuery query, java.util.function.BooleanSupplier ended) {
        if (resources.logDir() == null) {
            throw new IllegalStateException("container " + id + ": its output is not captured (spec: logging(), or"
                    + " detached(true))");
        }
        if (closed.get() && resources.detached() == null) {
            throw new IllegalStateException("container " + id + ": closed; its logs are gone");
        }
        return new LogReader(resources.logDir(), query, ended).stream();
    }

    @Override
    public void close() {
        if (resources.detached() != null) {
            letGo();
            return;
        }
        boolean interrupted = false;
        if (isRunning()) {
            lifecycle.discard(); // this close ends it and its state goes right after: no exit record to write
            thawIfFrozen();
            kill();
        }
        while (true) {
            try {
                awaitExit();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            } catch (IllegalStateException e) {
                break; // supervision failed; the container was killed and released all the same
            }
        }
        reaped.join(); // nothing of the container, not even its monitor's zombie, outlives close()
        closeQuietly(stdin);
        closeQuietly(stdout);
        closeQuietly(stderr);
        closeQuietly(terminal);
        if (closed.compareAndSet(false, true)) {
            try {
                resources.onClosed().run();
            } catch (RuntimeException e) {
                LOG.warn("container {}: releasing its resources failed: {}", id, e.getMessage(), e);
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A detached container's close(): the handle lets go of its monitor (which goes on without the
     * JVM) and of its process handles; the container goes on running, or stays as it ended, until it
     * is removed. Who still waits on this handle's exit learns that it no longer follows it.
     */
    private void letGo() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (token != 0) {
            supervision.reactor().forget(token);
        }
        releaseProcessHandles();
        exit.completeExceptionally(new Released("container " + id
                + ": its handle was closed; the detached container goes on without it"));
        try {
            resources.detached().letGo().run();
        } catch (RuntimeException e) {
            LOG.warn("container {}: letting go of it: {}", id, e.getMessage(), e);
        }
    }

    /** A frozen init would take SIGKILL only once thawed (cgroup v1 freezer). */
    private void thawIfFrozen() {
        Cgroup cg = resources.cgroup();
        if (cg == null) {
            return;
        }
        try {
            if (cg.frozen()) {
                cg.thaw();
            }
        } catch (RuntimeException e) {
            // the container ended meanwhile and its cgroup is already gone: nothing to thaw
            LOG.debug("container {}: thaw before kill: {}", id, e.getMessage());
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.debug("closing stream", e);
            }
        }
    }

    // ---- for the runtime's supervision (restart policies, events) ----

    /**
     * The exit future itself, completed on the cleanup thread after the exit is recorded and before the
     * teardown: for the runtime's own bookkeeping, which must run before anyone sees the exit and must
     * not block. Never handed to user code ({@link #onExit()} is theirs).
     */
    public CompletableFuture<ExitStatus> supervisorExit() {
        return exit;
    }
}
