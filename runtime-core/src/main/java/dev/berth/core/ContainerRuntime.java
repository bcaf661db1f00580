package dev.berth.core;

import dev.berth.cgroups.Cgroup;
import dev.berth.cgroups.CgroupDriver;
import dev.berth.cgroups.CgroupException;
import dev.berth.cgroups.CgroupMode;
import dev.berth.cgroups.CgroupStats;
import dev.berth.cgroups.Delegation;
import dev.berth.cgroups.DeviceRule;
import dev.berth.cgroups.Resources;
import dev.berth.core.internal.ExitHandler;
import dev.berth.core.internal.AdoptedContainer;
import dev.berth.core.internal.Launcher;
import dev.berth.core.internal.Supervision;
import dev.berth.core.internal.LinuxContainer;
import dev.berth.core.internal.LinuxExecProcess;
import dev.berth.core.internal.NativeInit;
import dev.berth.core.internal.PrivateDirectories;
import dev.berth.core.internal.RootHold;
import dev.berth.core.internal.RootlessStart;
import dev.berth.core.internal.SharedUserNamespace;
import dev.berth.core.internal.SeccompNotifier;
import dev.berth.core.internal.Reactor;
import dev.berth.core.internal.Signals;
import dev.berth.core.internal.StartFailure;
import dev.berth.core.internal.StateStore;
import dev.berth.core.supervise.DetachedRestart;
import dev.berth.core.supervise.SupervisedContainer;
import dev.berth.core.supervise.SupervisorServices;
import dev.berth.core.internal.etc.EtcFiles;
import dev.berth.core.internal.net.ContainerNetwork;
import dev.berth.core.internal.net.JoinedNetwork;
import dev.berth.core.internal.net.NameService;
import dev.berth.core.internal.net.ServerNameService;
import dev.berth.linux.internal.ProcStatus;
import dev.berth.network.Networks;
import dev.berth.core.internal.state.IdLock;
import dev.berth.core.internal.state.Lifecycle;
import dev.berth.core.internal.state.ProcessId;
import dev.berth.core.internal.state.Reconciler;
import dev.berth.core.internal.state.SpecDocument;
import dev.berth.core.internal.state.StateDocument;
import dev.berth.core.internal.files.ContainerFilesImpl;
import dev.berth.core.internal.files.FsRoot;
import dev.berth.core.internal.files.FileOpener;
import dev.berth.core.internal.files.NamespaceOpener;
import dev.berth.core.internal.files.TreeAccess;
import dev.berth.core.internal.linux.Libseccomp;
import dev.berth.core.internal.linux.LinuxSyscalls;
import dev.berth.core.internal.plan.CgroupPlacement;
import dev.berth.core.internal.plan.ContainerView;
import dev.berth.core.internal.plan.ExecProfile;
import dev.berth.core.internal.plan.MountOptions;
import dev.berth.core.internal.plan.MountSources;
import dev.berth.core.internal.plan.Plan;
import dev.berth.core.internal.plan.Op;
import dev.berth.core.internal.plan.OpCode;
import dev.berth.core.internal.plan.PlanCompiler;
import dev.berth.core.internal.plan.ProcessPlan;
import dev.berth.core.internal.plan.RootSource;
import dev.berth.core.internal.plan.UserNsPlan;
import dev.berth.core.internal.UserNamespaces;
import dev.berth.core.internal.seccomp.SeccompCompiler;
import dev.berth.core.internal.seccomp.SeccompPrograms;
import dev.berth.core.internal.plan.TargetPolicy;
import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import dev.berth.core.internal.user.IdRangeAllocator;
import dev.berth.core.internal.user.ResolvedUser;
import dev.berth.core.internal.user.SubordinateIdFiles;
import dev.berth.image.ImageException;
import dev.berth.image.ImageStore;
import dev.berth.image.ImageUsers;
import dev.berth.image.PreparedImage;
import dev.berth.image.ProcessDefaults;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.nio.file.LinkOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The entry point: starts and tracks containers. One instance per state root; it owns
 * the same threads however many containers run (the reactor, which reads the monitors'
 * reports, and a fixed few cleanup threads, twice the cores and at most 8, which tear ended
 * containers down), and two more on first use (the restart thread and the health check
 * thread). Closing it kills the containers it started, side by side.
 *
 * <pre>{@code
 * try (ContainerRuntime runtime = ContainerRuntime.builder().build();
 *      Container c = runtime.start(ContainerSpec.builder()
 *              .rootfs(Path.of("/srv/rootfs"))
 *              .command("/bin/echo", "hello")
 *              .build())) {
 *     ExitStatus status = c.onExit().join();
 * }
 * }</pre>
 */
public final class ContainerRuntime implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerRuntime.class);
    private static final Pattern ID = StateStore.ID;
    private static final SecureRandom RANDOM = new SecureRandom();
    /** The pids limit of a container whose spec sets none (podman's default); {@code -1} in the spec: none. */
    public static final long DEFAULT_PIDS_LIMIT = 2048;
    /** The host's /etc files a container's hosts, hostname and resolv.conf are made from. */
    private final EtcFiles etc;
    /** The kernel's own ceiling on argv + envp, whatever the stack limit (fs/exec.c: 3/4 of 8 MiB). */
    static final long KERNEL_ARG_CEILING = 6L << 20;
    /**
     * The teardown workers (cgroup removal, state writes after an exit): a fixed few, scaled to the
     * cores and never to the containers. Each of those steps mostly waits on the kernel (an rmdir in
     * every cgroup hierarchy, a rename the file system flushes), so containers ending together are
     * torn down side by side rather than one after another.
     */
    static final int CLEANUP_THREADS = Math.max(2, Math.min(8, 2 * Runtime.getRuntime().availableProcessors()));
    /** MAX_ARG_STRLEN: the longest single argument or environment string, with its NUL. */
    static final long MAX_ARG_STRLEN = 32 * 4096;

    private final Path stateRoot;
    private final Path storageRoot;
    private final Syscalls sys;
    /** Where onExit() dependants and seccomp listeners run. */
    private final Executor callbacks;
    private final Libseccomp libseccomp = new Libseccomp();
    private final SeccompPrograms seccompPrograms = new SeccompPrograms(new SeccompCompiler(libseccomp),
            dev.berth.linux.internal.Arch.current(), System.getProperty("os.version"));
    private final NativeInit init;
    private final Reactor reactor;
    private final ExecutorService cleanup;
    private final Launcher launcher;
    /** Rootless: the user namespace containers with the user's mapping join (made on first use). */
    private final SharedUserNamespace sharedUserns;
    private final Duration startTimeout;
    private final Supervision supervision;
    private final StateStore state;
    /**
     * Copies of another runtime's ended containers, one at a time per id in this runtime: each mounts the
     * writable layer again under the id's lock, which a second copy of the same process could not take
     * (and overlay refuses an upper directory two mounts share). Dropped when this runtime removes the id.
     */
    private final Map<String, java.util.concurrent.Semaphore> endedCopies = new ConcurrentHashMap<>();
    private final long hostBoundingSet;
    private final CgroupDriver cgroups;
    private final String cgroupsUnavailable;
    /** Rootless: what the host delegates to this user (the limits a spec may ask for); null when root. */
    private final Delegation delegation;
    private final boolean ownsCgroupDriver;
    private final boolean cloneIntoCgroup;
    private volatile ImageStore images;
    /** The CNI networks under the storage root (made on first use) and their names. */
    private volatile Networks networks;
    private final NameService names;
    private final Volumes volumes;
    /** Ids started here and not closed yet (claimed first, so two starts of one id never both run). */
    private final Map<String, Optional<Container>> open = new ConcurrentHashMap<>();
    /** The lock of each id in {@link #open} (docs/architecture.md, "Ids, state and cleanup"). */
    private final Map<String, IdLock> locks = new ConcurrentHashMap<>();
    private final Reconciler reconciler;
    /** Processes exec'd by this runtime that still run: closing the runtime ends them. */
    private final Set<LinuxExecProcess> execs = ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    /** Handles of containers this runtime did not start ({@link #container(String)}), until closed. */
    private final Set<AdoptedContainer> adopted = ConcurrentHashMap.newKeySet();
    /** Per id, the adopted handle that publishes its events and runs its health checks here. */
    private final Map<String, AdoptedContainer> leaders = new ConcurrentHashMap<>();
    /** Events, the restart thread and the health scheduler (restart policies, health checks). */
    private final SupervisorServices supervisors;
    /** Whether this runtime was built with cgroups on (its exit commands' runtimes are built alike). */
    private final boolean cgroupsOn;
    /** The class path of the exit command's JVM: this JVM's (a test sets another). */
    private final String exitCommandClassPath;
    /** {@code --userns=auto}: the id ranges of this state root's containers. */
    private final IdRangeAllocator idRanges;
    /** Rootless (the JVM's effective uid is not 0): the user's ids and name; null for root. */
    private final long[] rootlessIds;
    private final String rootlessUser;
    private final Path subuid;
    private final Path subgid;
    /** Rootless: subuid and subgid as parsed, read again when a file changes. */
    private final SubordinateIdFiles subordinateIdFiles = new SubordinateIdFiles();

    private ContainerRuntime(Builder b) {
        this.etc = b.hostResolvConf == null ? new EtcFiles(Path.of("/"))
                : new EtcFiles(Path.of("/"), b.hostResolvConf.toAbsolutePath());
        this.stateRoot = b.stateRoot.toAbsolutePath();
        this.storageRoot = b.storageRoot.toAbsolutePath();
        this.cgroupsOn = b.cgroups;
        this.exitCommandClassPath = b.exitCommandClassPath != null ? b.exitCommandClassPath
                : System.getProperty("java.class.path", "");
        this.sys = new LinuxSyscalls();
        this.init = NativeInit.load(sys);
        this.reactor = new Reactor(sys);
        java.util.concurrent.atomic.AtomicInteger cleaners = new java.util.concurrent.atomic.AtomicInteger();
        ThreadPoolExecutor teardown = (ThreadPoolExecutor) Executors.newFixedThreadPool(CLEANUP_THREADS, r -> {
            Thread t = new Thread(r, "berth-cleanup-" + cleaners.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        teardown.prestartAllCoreThreads(); // a fixed count from the start: none appears with the first exit
        this.cleanup = teardown;
        Executor callbacks = b.callbackExecutor != null ? b.callbackExecutor
                : new CompletableFuture<Void>().defaultExecutor(); // the JDK's: where Process.onExit() completes
        this.callbacks = callbacks;
        this.supervision = new Supervision(reactor, cleanup, callbacks);
        this.supervisors = new SupervisorServices(sys, callbacks, Clock.systemUTC());
        this.launcher = new Launcher(sys, init, supervision, b.startTimeout);
        this.sharedUserns = new SharedUserNamespace(sys, launcher);
        this.startTimeout = b.startTimeout;
        this.state = new StateStore(stateRoot, sys);
        this.idRanges = new IdRangeAllocator(stateRoot, b.subuid, b.subgid, sys);
        this.subuid = b.subuid;
        this.subgid = b.subgid;
        long euid = ProcStatus.effectiveUid();
        this.rootlessIds = euid == 0 ? null : new long[] {euid, ProcStatus.effectiveGid()};
        this.rootlessUser = System.getProperty("user.name");
        this.volumes = new Volumes(storageRoot.resolve("volumes"), sys);
        this.hostBoundingSet = readBoundingSet();
        warmUpSeccomp();
        CgroupDriver driver = b.cgroupDriver;
        String unavailable = null;
        boolean owns = false;
        Delegation delegation = null;
        if (driver == null && b.cgroups && rootlessIds != null) {
            // rootless: only a cgroup v2 subtree systemd delegated to this user (the JVM's own cgroup,
            // whose processes move into a leaf so that controllers can be enabled for the containers)
            delegation = Delegation.detect(euid);
            if (delegation.delegated()) {
                try {
                    driver = CgroupDriver.detect(CgroupDriver.Options.builder().unprivileged(true).moveSelfToLeaf(true)
                            .selfLeafName("supervisor").build());
                    owns = true;
                } catch (RuntimeException e) {
                    unavailable = e.getMessage();
                    delegation = Delegation.none(euid, delegation.finding() + ", but its driver failed: " + e.getMessage());
                }
            } else {
                unavailable = "rootless: no delegated cgroup v2 subtree for uid " + euid + " (" + delegation.finding() + ")";
            }
            if (driver == null) {
                LOG.info("{}: containers run without a cgroup ({})", unavailable, RootlessStart.DOCS);
            }
        } else if (driver == null && b.cgroups) {
            try {
                driver = CgroupDriver.detect();
                owns = true;
            } catch (RuntimeException e) {
                unavailable = e.getMessage();
                LOG.info("cgroups unavailable, containers run without one: {}", unavailable);
            }
        } else if (driver == null) {
            unavailable = "the runtime was built with cgroups(false)";
        }
        this.cgroups = driver;
        this.cgroupsUnavailable = unavailable;
        this.delegation = delegation;
        this.ownsCgroupDriver = owns;
        this.cloneIntoCgroup = kernelAtLeast(System.getProperty("os.version"), 5, 7);
        if (driver == null || !driver.devicePolicySupported()) {
            LOG.info("no device cgroup on this runtime ({}): containers run without CAP_MKNOD, so that no node"
                    + " they make can be opened", driver == null ? unavailable : "the host's cgroups cannot hold one");
        }
        this.names = new ServerNameService(storageRoot.resolve("networks"), sys);
        this.reconciler = new Reconciler(state, sys, driver, storageRoot, id -> images().unpin(id),
                b.keepOrphanedLayers ? Reconciler.LayerPolicy.KEEP : Reconciler.LayerPolicy.REMOVE, Duration.ofSeconds(10),
                id -> ContainerNetwork.releaseRecorded(networks(), sys, names, state.root().resolve(id), id));
        reconciler.layerRemover(this::removeWritableLayer);
        if (b.reconcile) {
            reconcile();
        }
    }

    /**
     * Cleans up what runtimes that died (a JVM killed with {@code kill -9}) left under the state root:
     * the containers whose lock nobody holds lose their remaining processes, cgroup, writable layer,
     * image pin and state, in that order (docs/architecture.md says why it is crash-safe). Containers
     * of live runtimes on the same state root, and this runtime's own, are never touched. A new
     * runtime does this when it is built, unless {@link Builder#reconcile(boolean) reconcile(false)}.
     */
    public Reconciliation reconcile() {
        long t0 = System.nanoTime();
        Reconciler.Outcome o = reconciler.reconcile(Set.copyOf(open.keySet()));
        try {
            idRanges.reconcile(); // the id ranges of containers that are gone now
        } catch (RuntimeException e) {
            LOG.warn("reconciling userns auto ranges under {}: {}", stateRoot, e.getMessage());
        }
        LOG.debug("reconcile of {}: {} removed, {} failed in {} ms", stateRoot, o.removed().size(), o.failed().size(),
                (System.nanoTime() - t0) / 1_000_000);
        return new Reconciliation(o.removed(), o.failed());
    }

    /**
     * Every container under the state root, as its state file says: this runtime's (running or
     * ended, until closed), other live runtimes' on the same root, and leftovers of runtimes that
     * died ({@link ContainerInfo.Owner#NONE}, until {@link #reconcile()}). A state file that cannot be
     * read is left out (and logged).
     */
    public List<ContainerInfo> list() {
        List<ContainerInfo> out = new ArrayList<>();
        for (String id : state.ids()) {
            Optional<StateDocument> doc;
            try {
                doc = state.read(id);
            } catch (UncheckedIOException e) {
                LOG.warn("container {}: {}", id, e.getMessage());
                continue;
            }
            if (doc.isEmpty()) {
                continue; // being created or removed
            }
            ContainerInfo.Owner owner;
            if (locks.containsKey(id)) {
                owner = ContainerInfo.Owner.THIS_RUNTIME;
            } else {
                IdLock probe = state.tryLock(id);
                owner = probe == null ? ContainerInfo.Owner.ANOTHER_RUNTIME : ContainerInfo.Owner.NONE;
                if (probe != null && !state.hasDirectory(id)) {
                    probe.release(); // its owner removed it after it was read: gone, not orphaned
                    continue;
                }
                if (probe != null && Reconciler.detached(doc.get())) {
                    owner = ContainerInfo.Owner.DETACHED;
                    try {
                        Reconciler.Settled settled = reconciler.settle(id, doc.get()); // it may have ended unseen
                        if (settled.removed()) {
                            probe.release();
                            continue;
                        }
                        doc = settled.state();
                    } catch (RuntimeException e) {
                        LOG.warn("container {}: recording its end: {}", id, e.getMessage());
                    }
                }
                if (probe != null) {
                    probe.close(); // only looked: the file stays, for reconcile()
                }
            }
            out.add(infoWithNetwork(doc.get(), owner));
        }
        return out;
    }

    static ContainerInfo info(StateDocument d, ContainerInfo.Owner owner) {
        return new ContainerInfo(d.id(), d.containerStatus(), Optional.ofNullable(d.image()),
                Optional.ofNullable(d.rootfs()), d.created() == null ? Instant.EPOCH : Instant.parse(d.created()),
                Optional.ofNullable(d.started()).map(Instant::parse), Optional.ofNullable(d.finished()).map(Instant::parse),
                Optional.ofNullable(d.exit()).map(StateDocument.ExitDoc::toExitStatus),
                d.init() == null ? 0 : d.init().pid(), owner, Optional.empty(),
                d.control() == null || d.control().argv() == null ? List.of() : d.control().argv(),
                healthOf(d.health()), d.restartCount(), userNamespaceOf(d));
    }

    /** The user namespace a state records; empty when it does not (written before), or says it unreadably. */
    private static Optional<UserNamespace> userNamespaceOf(StateDocument d) {
        if (d.control() == null || d.control().userNamespace() == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(d.control().userNamespace().toUserNamespace());
        } catch (IllegalArgumentException e) {
            LOG.warn("container {}: state.json {}; its user namespace is shown as unknown", d.id(), e.getMessage());
            return Optional.empty();
        }
    }

    /** A recorded health label; empty for none (or one this version does not know). */
    private static Optional<HealthStatus> healthOf(String label) {
        for (HealthStatus h : HealthStatus.values()) {
            if (h.label().equals(label)) {
                return Optional.of(h);
            }
        }
        return Optional.empty();
    }

    /** {@link #info} with the network its runtime recorded beside the state. */
    private ContainerInfo infoWithNetwork(StateDocument d, ContainerInfo.Owner owner) {
        ContainerInfo i = info(d, owner);
        Optional<NetworkInfo> n;
        try {
            n = ContainerNetwork.recordedInfo(state.root().resolve(d.id()));
        } catch (RuntimeException e) {
            LOG.debug("container {}: network record: {}", d.id(), e.getMessage());
            n = Optional.empty();
        }
        return i.withNetwork(n);
    }

    public static Builder builder() {
        return new Builder();
    }

    public Path stateRoot() {
        return stateRoot;
    }

    public Path storageRoot() {
        return storageRoot;
    }

    /**
     * The image store under the storage root, opened on first use.
     *
     * @throws ImageException when it cannot be opened
     */
    public ImageStore images() {
        ImageStore s = images;
        if (s == null) {
            synchronized (this) {
                s = images;
                if (s == null) {
                    try {
                        s = ImageStore.open(storageRoot);
                    } catch (IOException e) {
                        throw new ImageException("image store " + storageRoot + ": " + e.getMessage(), e);
                    }
                    images = s;
                }
            }
        }
        return s;
    }

    /**
     * The network a launcher gives a container that names none, as podman does: the default bridge
     * when the runtime is root; when rootless, {@link NetworkMode#pasta()} if pasta is installed,
     * else {@link NetworkMode#slirp4netns()}.
     *
     * @throws dev.berth.network.NetworkException rootless with neither tool installed, naming both packages
     */
    public static NetworkMode defaultNetworkMode() {
        if (!dev.berth.network.usermode.UserModeNetwork.rootless()) {
            return NetworkMode.bridge();
        }
        return NetworkMode.parse(dev.berth.network.usermode.UserModeTool.preferred().command());
    }

    /**
     * The CNI networks under the storage root ({@code <storageRoot>/networks}): create, list, inspect,
     * remove; containers join one with {@link ContainerSpec.Builder#network(NetworkMode)}.
     */
    public Networks networks() {
        Networks n = networks;
        if (n == null) {
            synchronized (this) {
                n = networks;
                if (n == null) {
                    try {
                        networks = n = Networks.open(storageRoot);
                    } catch (IOException e) {
                        throw new UncheckedIOException("networks under " + storageRoot + ": " + e.getMessage(), e);
                    }
                }
            }
        }
        return n;
    }

    /** The named volumes under the storage root ({@code <storageRoot>/volumes}). */
    public Volumes volumes() {
        return volumes;
    }

    /** The cgroup driver containers are placed with, when this host gives one. */
    public Optional<CgroupDriver> cgroupDriver() {
        return Optional.ofNullable(cgroups);
    }

    /** Starts a container with a generated id. */
    public Container start(ContainerSpec spec) throws ContainerException {
        while (true) {
            byte[] b = new byte[6];
            RANDOM.nextBytes(b);
            String id = HexFormat.of().formatHex(b);
            boolean claimed;
            try {
                claimed = claim(id);
            } catch (RuntimeException e) {
                throw StartFailure.of(e);
            }
            if (claimed) {
                return startClaimed(id, spec);
            }
        }
    }

    /**
     * Starts a container; returns once its target has been exec'd.
     *
     * @throws ContainerStartException naming the step that failed; nothing of the container remains
     * @throws ContainerException      when {@code id} is taken (by a container of this runtime, or one
     *                                 of another runtime on the same state root)
     */
    public Container start(String id, ContainerSpec spec) throws ContainerException {
        if (id == null || !ID.matcher(id).matches()) {
            throw new IllegalArgumentException("id: \"" + id + "\" must match " + ID.pattern());
        }
        boolean claimed;
        try {
            claimed = claim(id);
        } catch (IllegalStateException e) {
            throw new ContainerException(e.getMessage(), e);
        } catch (RuntimeException e) {
            throw StartFailure.of(e);
        }
        if (!claimed) {
            throw new ContainerException("container " + id + ": already exists");
        }
        return startClaimed(id, spec);
    }

    /**
     * Claims the id in this runtime, then under the state root (its lock, then an atomic mkdir): the
     * first step of a start. An id a dead runtime left is cleaned up first and then claimed.
     */
    private boolean claim(String id) {
        if (open.putIfAbsent(id, Optional.empty()) != null) {
            return false;
        }
        try {
            StateStore.Claim c = state.claim(id);
            if (c.result() == StateStore.ClaimResult.ORPHANED && isDetached(id)) {
                c.lock().close(); // a detached container has the id (running, or ended until removed)
                open.remove(id);
                return false;
            }
            if (c.result() == StateStore.ClaimResult.ORPHANED) {
                try {
                    reconciler.clean(id);
                    state.claimOrphaned(id);
                } catch (RuntimeException e) {
                    c.lock().close();
                    throw new IllegalStateException("container " + id + ": left by a runtime that died, and cleaning"
                            + " it up failed: " + e.getMessage(), e);
                }
            }
            if (c.result() != StateStore.ClaimResult.TAKEN) {
                locks.put(id, c.lock());
                return true;
            }
        } catch (RuntimeException e) {
            open.remove(id);
            throw e;
        }
        open.remove(id);
        return false;
    }

    /**
     * A handle to container {@code id} of this state root: this runtime's own, or one started by
     * another process (detached, or run by another live runtime), which it then follows: signals,
     * stop, kill, wait, stats, pause and resume, exec, files, logs. Closing an adopted handle lets go
     * of it only; the container goes on.
     *
     * @return empty when the state root has no container {@code id}
     * @throws ContainerException when its state cannot be read
     */
    public Optional<Container> container(String id) throws ContainerException {
        Optional<Container> own = open.getOrDefault(id, Optional.empty());
        if (own.isPresent()) {
            return own;
        }
        if (id == null || !ID.matcher(id).matches()) {
            return Optional.empty();
        }
        Optional<StateDocument> doc;
        try {
            doc = state.read(id);
        } catch (UncheckedIOException e) {
            throw new ContainerException("container " + id + ": " + e.getMessage(), e);
        }
        if (doc.isEmpty() || (doc.get().init() == null && doc.get().containerStatus() != ContainerStatus.EXITED)) {
            return Optional.empty(); // none, or still being created
        }
        AdoptedContainer c = AdoptedContainer.adopt(sys, doc.get(), supervision, adoption,
                cgroups == null ? Optional.empty() : cgroups.open(id));
        adopted.add(c);
        return Optional.of(c);
    }

    /**
     * Removes container {@code id} (docker's {@code rm}): its state, writable layer, logs, cgroup and
     * image pin. A running container is refused unless {@code force}, which kills it first.
     *
     * @throws ContainerException      when there is no such container, or another runtime holds it
     * @throws ContainerStateException when it runs and {@code force} is false
     */
    public void remove(String id, boolean force) throws ContainerException {
        Container c = container(id).orElseThrow(() -> new ContainerException("no such container: " + id));
        endedCopies.remove(id);
        if (c.isRunning()) {
            if (!force) {
                throw new ContainerStateException("remove", id, c.status(), "stopped (or use force)");
            }
            c.kill();
            try {
                if (!c.waitFor(Duration.ofSeconds(30))) {
                    throw new ContainerException("remove: container " + id + " still runs 30 s after SIGKILL");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ContainerException("remove: interrupted waiting for container " + id + " to end", e);
            }
        }
        if (open.getOrDefault(id, Optional.empty()).isPresent() && locks.containsKey(id)) {
            c.close(); // an attached container of this runtime: its close removes it
            return;
        }
        c.close();
        removeEnded(id);
        if (!leaders.containsKey(id)) {
            // no handle here follows it (one that does sees its state go, and publishes this itself)
            supervisors.events().publish(ContainerEvent.of(id, ContainerEvent.Type.DESTROYED, Instant.now(), Map.of()));
        }
    }

    /**
     * Removes an ended container that nobody holds (a detached one): under its lock, taken within a
     * few seconds (whoever settles its end holds it for a moment).
     */
    private void removeEnded(String id) throws ContainerException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        IdLock lock;
        while ((lock = state.tryLock(id)) == null) {
            // its exit being settled right now (a moment), or another live runtime's own container
            if (System.nanoTime() > deadline) {
                throw new ContainerException("remove: container " + id + " is held by another live runtime on "
                        + stateRoot);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ContainerException("remove: interrupted waiting for container " + id, e);
            }
        }
        try {
            state.read(id).filter(Reconciler::detached).ifPresent(d -> reconciler.settle(id, d));
            reconciler.clean(id);
            releaseIdRange(id); // under the id's lock: no new container of that id can hold one yet
            lock.release();
        } catch (RuntimeException e) {
            lock.close();
            throw new ContainerException("remove: container " + id + ": " + e.getMessage(), e);
        }
    }

    /** What an adopted container's handle asks of this runtime. */
    private final AdoptedContainer.Runtime adoption = new AdoptedContainer.Runtime() {
        @Override
        public Optional<NetworkInfo> network(String id) {
            try {
                return ContainerNetwork.recordedInfo(state.root().resolve(id));
            } catch (RuntimeException e) {
                LOG.debug("container {}: network record: {}", id, e.getMessage());
                return Optional.empty();
            }
        }

        @Override
        public ExecProcess exec(String id, ExecSpec spec) throws ContainerException {
            return ContainerRuntime.this.exec(id, spec);
        }

        @Override
        public ContainerFiles files(String id) throws ContainerException {
            return ContainerRuntime.this.files(id);
        }

        @Override
        public Optional<StateDocument> read(String id) {
            try {
                return state.read(id);
            } catch (UncheckedIOException e) {
                return Optional.empty();
            }
        }

        @Override
        public Optional<StateDocument> settle(String id) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (true) {
                IdLock lock = state.tryLock(id);
                Optional<StateDocument> d;
                if (lock != null) {
                    try {
                        d = read(id);
                        if (d.isEmpty() || !Reconciler.detached(d.get())) {
                            return d;
                        }
                        Reconciler.Settled s = reconciler.settle(id, d.get());
                        if (s.removed()) {
                            lock.release();
                        }
                        if (!s.deferred()) {
                            return s.state();
                        }
                        d = s.state(); // its supervisor records the end: wait for it
                    } catch (RuntimeException e) {
                        LOG.warn("container {}: recording its end: {}", id, e.getMessage());
                        return read(id);
                    } finally {
                        lock.close();
                    }
                } else {
                    // its owner (a live runtime) records the end: wait for it
                    d = read(id);
                }
                if (d.isEmpty() || d.get().containerStatus() == ContainerStatus.EXITED
                        || d.get().containerStatus() == ContainerStatus.RESTARTING || System.nanoTime() > deadline) {
                    return d;
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return d;
                }
            }
        }

        @Override
        public void recordStatus(String id, ContainerStatus status) {
            read(id).ifPresent(d -> {
                state.write(d.withStatus(status));
                if (d.monitor() != null && (d.containerStatus() == ContainerStatus.RUNNING
                        || d.containerStatus() == ContainerStatus.PAUSED)) {
                    state.journal(id).append(d.monitor(), status == ContainerStatus.PAUSED ? "paused" : "resumed",
                            supervisors.clock().instant(), Map.of());
                }
            });
        }

        @Override
        public dev.berth.core.internal.state.EventJournal journal(String id) {
            return state.journal(id);
        }

        @Override
        public IdLock tryHealthLease(String id) {
            return state.tryHealthLease(id);
        }

        @Override
        public void closed(AdoptedContainer c) {
            adopted.remove(c);
            if (leaders.remove(c.id(), c)) {
                // another open handle of the id takes over (its state poll starts its health checks)
                adopted.stream().filter(o -> o.id().equals(c.id())).findFirst()
                        .ifPresent(o -> leaders.putIfAbsent(o.id(), o));
            }
        }

        @Override
        public SupervisorServices services() {
            return supervisors;
        }

        @Override
        public void adopting(AdoptedContainer c) {
            leaders.putIfAbsent(c.id(), c);
        }

        @Override
        public boolean leads(AdoptedContainer c) {
            return leaders.get(c.id()) == c;
        }

        @Override
        public boolean recordHealth(String id, StateDocument.ProcessDoc run, String status, boolean journal) {
            IdLock lock = state.tryLock(id);
            if (lock == null) {
                return false;
            }
            try {
                read(id).filter(d -> Objects.equals(d.monitor(), run) && (d.containerStatus() == ContainerStatus.RUNNING
                        || d.containerStatus() == ContainerStatus.PAUSED))
                        .ifPresent(d -> {
                            state.write(d.withHealth(status));
                            if (journal) { // under the id lock: before any end of the run is recorded
                                state.journal(id).append(run, "health_status", supervisors.clock().instant(),
                                        Map.of("health_status", status));
                            }
                        });
                return true;
            } finally {
                lock.close();
            }
        }

        @Override
        public Path healthOutput(String id) {
            return state.root().resolve(id).resolve("health.out");
        }

        @Override
        public Optional<Cgroup> cgroup(String id) {
            return cgroups == null ? Optional.empty() : cgroups.open(id);
        }

        @Override
        public Boolean endedUnrestarted(String id, StateDocument.ProcessDoc monitor) {
            IdLock lock = state.tryLock(id);
            if (lock == null) {
                return null;
            }
            try {
                Optional<StateDocument> d = read(id);
                return d.isPresent() && d.get().containerStatus() == ContainerStatus.EXITED
                        && Objects.equals(d.get().monitor(), monitor) && state.readRestart(id).handled(monitor);
            } catch (RuntimeException e) {
                LOG.debug("container {}: its restart record: {}", id, e.getMessage());
                return null;
            } finally {
                lock.close();
            }
        }

        @Override
        public boolean stopRecorded(String id) {
            return state.stopped(id);
        }

        @Override
        public Boolean requestRestart(String id, StateDocument.ProcessDoc run) {
            IdLock lock = state.tryLock(id);
            if (lock == null) {
                return null;
            }
            try {
                Optional<StateDocument> d = read(id);
                if (d.isEmpty() || !Reconciler.detached(d.get()) || !Objects.equals(d.get().monitor(), run)
                        || state.stopped(id) || (d.get().containerStatus() != ContainerStatus.RUNNING
                        && d.get().containerStatus() != ContainerStatus.PAUSED)) {
                    return false; // another run by now, ended, or stopped: nothing to restart
                }
                state.requestRestart(id, run);
                return true;
            } finally {
                lock.close();
            }
        }

        @Override
        public boolean restartRequested(String id, StateDocument.ProcessDoc run) {
            try {
                return state.restartRequested(id, run);
            } catch (UncheckedIOException e) {
                LOG.warn("container {}: {}", id, e.getMessage());
                return false;
            }
        }

        @Override
        public void stopping(String id) {
            if (read(id).map(Reconciler::detached).orElse(false)) {
                state.markStopped(id);
            }
        }
    };

    /** After the id's state directory is gone: its lock file too, and the id is free. */
    private void releaseId(String id, boolean stateRemoved) {
        IdLock lock = locks.remove(id);
        if (lock != null) {
            if (stateRemoved) {
                releaseIdRange(id); // before the id is free again
                lock.release();
            } else {
                lock.close(); // its state stays, and names what is left: a later reconcile finds it
            }
        }
    }

    /** Its {@code --userns=auto} range, if it had one: the container is gone. */
    private void releaseIdRange(String id) {
        try {
            idRanges.release(id);
        } catch (RuntimeException e) {
            LOG.warn("container {}: releasing its userns auto range (the next reconcile drops it): {}", id,
                    e.getMessage());
        }
    }

    /**
     * What this host offers Berth and what is missing (as {@code berth info}): rootful or
     * rootless, kernel, cgroups and delegation, user namespaces, idmapped mounts on the storage
     * root's file system, seccomp, overlayfs, subordinate ids (of the files this runtime was built
     * with), CNI plugins and rootless networking tools. Each check says what to do about a missing
     * piece. Reads the system; changes nothing.
     */
    public Preflight.Report preflight() {
        return Preflight.run(storageRoot, idRanges.subuidFile(), idRanges.subgidFile());
    }

    private Container startClaimed(String id, ContainerSpec spec) throws ContainerException {
        Starting s = new Starting(id, null, 0);
        SupervisedContainer.Incarnation first;
        // a detached container with a restart policy: its supervisor lease, taken before its first run can end
        IdLock lease = null;
        try {
            checkCapabilities(spec.capabilities());
            checkDelegation(spec);
            if (restartsDetached(spec)) {
                lease = state.tryLease(id);
            }
            first = s.start(spec);
        } catch (RuntimeException e) { // ContainerException too (unchecked)
            if (lease != null) {
                lease.close();
            }
            s.release(e);
            throw StartFailure.of(e);
        }
        Container c = supervise(id, spec, s, first, lease);
        if (spec.detached()) {
            // Nobody holds a detached container's lock while it runs: whichever runtime (this one, or a
            // `berth stop` in another process) finds it ended takes the lock to settle or remove it.
            releaseId(id, false);
        }
        first.container().startCompleted();
        return c;
    }

    /**
     * The handle users hold: it outlives each incarnation (restart policy, unhealthy action), runs the
     * health checks and emits the events. A restart is a {@link Starting} that reuses what the first
     * start made (directory, writable layer, image pin); the last close releases them.
     */
    private Container supervise(String id, ContainerSpec spec, Starting first, SupervisedContainer.Incarnation inc,
            IdLock supervisorLease) {
        Kept kept = first.kept;
        Map<String, String> attributes = spec.image().map(i -> Map.of("image", i))
                .orElseGet(() -> Map.of("rootfs", spec.rootfs().map(Path::toString).orElse("")));
        // a detached container with a restart policy: this handle is its supervisor while it holds the
        // lease (its exit commands find it held and leave the exit to it)
        AtomicReference<IdLock> lease = new AtomicReference<>(supervisorLease);
        AtomicReference<IdLock> healthLease = new AtomicReference<>();
        SupervisedContainer c = new SupervisedContainer(id, spec.restart(), first.healthCheck, spec.onUnhealthy(),
                new SupervisedContainer.Launcher() {
                    @Override
                    public void stopping() {
                        if (spec.detached()) {
                            state.markStopped(id);
                        }
                    }

                    @Override
                    public boolean stopRecorded() {
                        return spec.detached() && state.stopped(id);
                    }

                    @Override
                    public void exitHandled(SupervisedContainer.Incarnation ended, int streak) {
                        StateDocument.ProcessDoc monitor = ended.lifecycle().state().monitor();
                        if (lease.get() != null && monitor != null) {
                            state.writeRestart(id, state.readRestart(id).handledRun(monitor, streak));
                        }
                    }

                    @Override
                    public void exitHandedBack(SupervisedContainer.Incarnation ended, int streak) {
                        if (lease.get() != null) {
                            state.writeRestart(id, new StateStore.RestartRecord(0, 0, streak));
                        }
                    }

                    @Override
                    public void letGo() {
                        dropHealthLease(healthLease);
                        dropSupervisorLease(id, lease);
                    }

                    @Override
                    public boolean healthLease() {
                        if (healthLease.get() == null) {
                            healthLease.set(state.tryHealthLease(id));
                        }
                        return healthLease.get() != null;
                    }

                    @Override
                    public void journal(SupervisedContainer.Incarnation inc, ContainerEvent.Type type,
                            Map<String, String> attributes) {
                        StateDocument.ProcessDoc run = inc.lifecycle().state().monitor();
                        try {
                            inc.lifecycle().whileLive(() -> state.journal(id).append(run, type.label(),
                                    supervisors.clock().instant(), attributes));
                        } catch (RuntimeException e) {
                            LOG.warn("container {}: journaling its {} event: {}", id, type.label(), e.getMessage());
                        }
                    }

                    @Override
                    public boolean restartRequested(SupervisedContainer.Incarnation ended) {
                        return state.restartRequested(id, ended.lifecycle().state().monitor());
                    }

                    @Override
                    public void requestRestart(SupervisedContainer.Incarnation inc) {
                        StateDocument.ProcessDoc monitor = inc.lifecycle().state().monitor();
                        if (spec.detached() && monitor != null) {
                            state.requestRestart(id, monitor);
                        }
                    }

                    @Override
                    public SupervisedContainer.Incarnation relaunch(int restartCount) throws ContainerException {
                        Starting again = new Starting(id, kept, restartCount);
                        try {
                            return again.start(spec);
                        } catch (RuntimeException e) { // ContainerException too (unchecked)
                            again.release(e);
                            throw e;
                        }
                    }

                    @Override
                    public void release() {
                        dropHealthLease(healthLease);
                        if (spec.detached()) {
                            dropSupervisorLease(id, lease);
                            open.remove(id); // it goes on, or stays as it ended, until removed
                            return;
                        }
                        closed(id, kept.cgroup().get(), kept.dir(), kept.pinned(), null); // each run released its network
                    }
                }, supervisors, supervision, state.root().resolve(id).resolve("health.out"), attributes);
        open.put(id, Optional.of(c));
        return c.begin(inc);
    }

    private static void dropHealthLease(AtomicReference<IdLock> healthLease) {
        IdLock l = healthLease.getAndSet(null);
        if (l != null) {
            l.close();
        }
    }

    /**
     * Whether a detached container may be restarted: by its restart policy, or by a restart its
     * unhealthy action {@code restart} requests (from any process that follows it). Such a container
     * has an exit command, and its starter holds its supervisor lease.
     */
    static boolean restartsDetached(ContainerSpec spec) {
        return spec.detached() && (spec.restart().kind() != RestartPolicy.Kind.NO
                || spec.onUnhealthy() == UnhealthyAction.RESTART);
    }

    /** The exit command's environment: nothing of this JVM's (docs/security.md). */
    static final List<String> EXIT_COMMAND_ENV = List.of("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG=C.UTF-8");

    /**
     * The argv of a detached container's exit command ({@link ExitCommand}): this JVM's own java
     * binary and class path, and this runtime's roots and the id; nothing the container can write.
     */
    List<String> exitCommandArgv(String id) {
        String java = ProcessHandle.current().info().command().filter(c -> c.startsWith("/"))
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> argv = new ArrayList<>(List.of(java, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k",
                "-cp", exitCommandClassPath, ExitCommand.class.getName(), "--state-root", stateRoot.toString(),
                "--storage-root", storageRoot.toString()));
        if (!cgroupsOn) {
            argv.add("--no-cgroups");
        }
        argv.add(id);
        return argv;
    }

    /**
     * The exit command's work ({@link ExitCommand}): the current run of detached container {@code id}
     * ended; under its supervisor lease (or not at all: its holder handles it), the exit is settled
     * and handled once by the restart policy. Loops while the run it started ended unhandled meanwhile
     * (that run's own exit command found the lease held).
     *
     * @return one line saying what was done
     */
    String handleDetachedExit(String id) throws InterruptedException {
        if (id == null || !ID.matcher(id).matches()) {
            throw new IllegalArgumentException("id: \"" + id + "\" must match " + ID.pattern());
        }
        List<String> done = new ArrayList<>();
        while (true) {
            IdLock lease = state.tryLease(id);
            if (lease == null) {
                done.add(state.hasDirectory(id) ? "container " + id + ": its supervisor lease is held; its holder"
                        + " handles the exit" : "container " + id + ": no such container under " + stateRoot);
                return String.join("; ", done);
            }
            try {
                done.add(handleExitOnce(id));
            } finally {
                lease.close();
            }
            if (!endedUnhandled(id)) {
                return String.join("; ", done);
            }
        }
    }

    /**
     * Whether the current run of detached container {@code id} ended and nobody handled its exit yet
     * (a supervisor that let go of its lease checks this, for the exit command that found it held).
     */
    boolean endedUnhandled(String id) {
        Optional<StateDocument> d;
        try {
            d = state.read(id);
        } catch (UncheckedIOException e) {
            return false;
        }
        if (d.isEmpty() || !Reconciler.detached(d.get()) || d.get().monitor() == null
                || d.get().containerStatus() == ContainerStatus.RESTARTING) {
            return false;
        }
        boolean ended = d.get().containerStatus() == ContainerStatus.EXITED || !Reconciler.isLive(d.get().monitor().id());
        return ended && !state.readRestart(id).handled(d.get().monitor());
    }

    /** Under the lease: one ended run's exit, settled and decided. */
    private String handleExitOnce(String id) throws InterruptedException {
        Optional<StateDocument> read = state.read(id);
        if (read.isEmpty() || !Reconciler.detached(read.get()) || read.get().monitor() == null) {
            return "container " + id + ": no detached container with a run";
        }
        StateDocument d = read.get();
        StateDocument.ProcessDoc run = d.monitor();
        // the monitor wrote the exit record, started this command and exits now: wait for its end
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (d.containerStatus() != ContainerStatus.EXITED && Reconciler.isLive(run.id())) {
            if (System.nanoTime() > deadline) {
                return "container " + id + ": still running (its monitor " + run.pid() + " is live)";
            }
            Thread.sleep(20);
            d = state.read(id).orElse(d);
        }
        StateStore.RestartRecord record = state.readRestart(id);
        if (record.handled(run)) {
            return "container " + id + ": its exit was handled already";
        }
        IdLock lock = lockWithin(id, Duration.ofSeconds(10));
        DetachedRestart.Decision decision;
        ExitStatus status;
        try {
            d = state.read(id).orElse(d);
            boolean markedRestarting = d.containerStatus() == ContainerStatus.RESTARTING;
            if (markedRestarting) {
                // recorded restarting as it ended by its starter, which died (its lease free) before it decided
                d = d.withStatus(ContainerStatus.EXITED);
            }
            DetachedRestart.Decision[] decided = new DetachedRestart.Decision[1];
            // decided as the exit is settled: a restart's status is in the same write (no exited in between)
            Reconciler.Settled settled = reconciler.settle(id, d, s -> {
                decided[0] = decideRestart(id, s, run, record);
                return decided[0].verdict() == DetachedRestart.Verdict.RESTART
                        ? s.withStatus(ContainerStatus.RESTARTING) : s;
            });
            if (settled.removed()) {
                lock.release();
                return "container " + id + ": ended and removed (autoRemove)";
            }
            d = settled.state().orElse(d);
            if (decided[0] == null) { // settled before (by any process): decided here
                decision = decideRestart(id, d, run, record);
                if (decision.verdict() == DetachedRestart.Verdict.RESTART) {
                    d = d.withStatus(ContainerStatus.RESTARTING);
                    state.write(d);
                } else if (markedRestarting) {
                    state.write(d);
                }
            } else {
                decision = decided[0];
            }
            releaseRecordedNetwork(id, d);
            status = d.exit() != null ? d.exit().toExitStatus() : ExitStatus.killed(Syscalls.SIGKILL);
            state.writeRestart(id, record.handledRun(run, decision.streak()));
            if (decision.verdict() != DetachedRestart.Verdict.RESTART) {
                return decision.describe(id, status);
            }
        } finally {
            lock.close();
        }
        Thread.sleep(decision.delay().toMillis());
        return decision.describe(id, status) + "; " + relaunchDetached(id, decision.restartCount());
    }

    /**
     * What follows the settled end {@code d} of the run {@code run}: its restart policy, an explicit
     * stop, a requested restart (an adopted handle's unhealthy action), and the backoff so far.
     */
    private DetachedRestart.Decision decideRestart(String id, StateDocument d, StateDocument.ProcessDoc run,
            StateStore.RestartRecord record) {
        ExitStatus status = d.exit() != null ? d.exit().toExitStatus() : ExitStatus.killed(Syscalls.SIGKILL);
        Duration ran = d.started() == null || d.finished() == null ? Duration.ZERO
                : Duration.between(java.time.Instant.parse(d.started()), java.time.Instant.parse(d.finished()));
        return DetachedRestart.decide(d.spec().toSpec().restart(), status, d.restartCount(), state.stopped(id),
                state.restartRequested(id, run), record.streak(), ran);
    }

    /** CNI DEL of the ended run's network (and its netns pin), before a new run is attached anew. */
    private void releaseRecordedNetwork(String id, StateDocument d) {
        if (d.spec() != null && d.spec().toSpec().network().publishes()) {
            ContainerNetwork.releaseRecorded(networks(), sys, names, state.root().resolve(id), id);
        }
    }

    /**
     * Lets go of a detached container's supervisor lease (once), then hands a run that ended
     * meanwhile unhandled (its exit command found the lease held and left) to an exit command.
     */
    private void dropSupervisorLease(String id, AtomicReference<IdLock> lease) {
        IdLock l = lease.getAndSet(null);
        if (l == null) {
            return;
        }
        l.close();
        if (endedUnhandled(id)) {
            spawnExitCommand(id);
        }
    }

    /**
     * Starts the exit command of {@code id} from this JVM (a child the JDK reaps): for a run that
     * ended while this runtime held its supervisor lease and let go of it before handling the exit.
     */
    private void spawnExitCommand(String id) {
        ProcessBuilder pb = new ProcessBuilder(exitCommandArgv(id)).redirectInput(ProcessBuilder.Redirect.from(
                new java.io.File("/dev/null"))).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(state.root()
                .resolve(id).resolve("exit-command.log").toFile()));
        pb.environment().clear();
        for (String kv : EXIT_COMMAND_ENV) {
            int eq = kv.indexOf('=');
            pb.environment().put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        try {
            pb.start();
        } catch (IOException e) {
            LOG.warn("container {}: starting its exit command {}: {}", id, pb.command().get(0), e.getMessage());
        }
    }

    /** After the backoff: a new run of {@code id}, unless a stop called it off meanwhile. */
    private String relaunchDetached(String id, int restartCount) {
        IdLock lock = lockWithin(id, Duration.ofSeconds(10));
        StateDocument d = state.read(id).orElse(null);
        if (d == null) {
            lock.release();
            return "removed while it waited";
        }
        if (state.stopped(id) || d.containerStatus() != ContainerStatus.RESTARTING) {
            if (d.containerStatus() == ContainerStatus.RESTARTING) {
                state.write(d.withStatus(ContainerStatus.EXITED));
            }
            lock.close();
            return "stopped while it waited: stays exited";
        }
        ContainerSpec spec = d.spec().toSpec();
        if (open.putIfAbsent(id, Optional.empty()) != null) {
            lock.close();
            throw new IllegalStateException("container " + id + ": this runtime already has it");
        }
        locks.put(id, lock);
        Kept kept = new Kept(storageRoot.resolve("containers").resolve(id), d.image() != null, new AtomicReference<>(),
                d.created());
        Starting again = new Starting(id, kept, restartCount);
        SupervisedContainer.Incarnation inc;
        try {
            checkCapabilities(spec.capabilities());
            inc = again.start(spec);
        } catch (RuntimeException e) { // ContainerException too (unchecked)
            again.release(e);
            open.remove(id);
            try {
                state.write(d.withStatus(ContainerStatus.EXITED)); // the ended run's record, as it was
            } finally {
                releaseId(id, false);
            }
            throw new IllegalStateException("container " + id + ": restart " + restartCount
                    + " failed, it stays exited: " + e.getMessage(), e);
        }
        releaseId(id, false); // a detached container's lock: nobody holds it while it runs
        inc.container().startCompleted();
        long pid = inc.container().pid();
        if (state.stopped(id)) {
            inc.container().kill(); // stopped while it was being started: its exit command leaves it exited
        }
        inc.container().close(); // lets go of it: it runs on, and its own exit command follows it
        return "restarted (restart " + restartCount + ", pid " + pid + ")";
    }

    /** The id's lock, taken within {@code wait} (whoever settles or removes it holds it for a moment). */
    private IdLock lockWithin(String id, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            IdLock lock = state.tryLock(id);
            if (lock != null) {
                return lock;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("container " + id + ": its lock (" + state.root().resolve("." + id
                        + ".lock") + ") is held by a live runtime for more than " + wait.toSeconds() + " s");
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("container " + id + ": interrupted waiting for its lock", e);
            }
        }
    }

    /**
     * What a container keeps across its incarnations: its directory (writable layer), its pin on the
     * image, its latest cgroup (removed at each exit, made again with the same limits at each start),
     * and when it was first created (its CREATED, as docker and podman keep it across restarts).
     */
    private record Kept(Path dir, boolean pinned, AtomicReference<Cgroup> cgroup, String created) {}

    /** Events of every container of this runtime, each once, in order per container, on the callback executor. */
    public Subscription events(Consumer<ContainerEvent> listener) {
        return supervisors.events().subscribe(null, listener, null);
    }

    /** {@link #events(Consumer)}, with the listener called on {@code executor}. */
    public Subscription events(Consumer<ContainerEvent> listener, Executor executor) {
        return supervisors.events().subscribe(null, listener, Objects.requireNonNull(executor, "executor"));
    }

    /** What one start has made so far, so that a failure can take all of it back. */
    private final class Starting {
        final String id;
        PreparedImage prepared;
        boolean pinned;
        Path containerDir;
        Cgroup cgroup;
        final List<Integer> fds = new ArrayList<>();
        /** Volumes this start mounts, and those it fills from the image at the plan's sync point. */
        final List<Volumes.Lease> leases = new ArrayList<>();
        final List<Map.Entry<Volumes.Lease, String>> toPopulate = new ArrayList<>();
        /** For a restart: what the first start made, reused (and never taken back by this start's failure). */
        final Kept reuse;
        final int restartCount;
        /** The spec's health check, or the image's. */
        Optional<HealthCheck> healthCheck = Optional.empty();
        /** Once started: what the container keeps across incarnations. */
        Kept kept;
        /** Its network attachment, once made (afterClone): a failed start releases it. */
        volatile ContainerNetwork network;
        /** A user-mode network's published ports, host ports chosen by the precheck. */
        List<dev.berth.network.PortMapping> userModePorts = List.of();
        /** With a user namespace: the JVM's end of the socket the idmapped root and /etc files go to the init on. */
        int treeSocket = -1;
        /** Spec mounts with {@code idmap}: their trees, idmapped once the user namespace exists. */
        final List<UserNamespaces.IdmappedTree> idmapped = new ArrayList<>();

        Starting(String id, Kept reuse, int restartCount) {
            this.id = id;
            this.reuse = reuse;
            this.restartCount = restartCount;
        }

        SupervisedContainer.Incarnation start(ContainerSpec spec) throws ContainerException {
            String hostname = spec.hostname().orElse(defaultHostname(id));
            final UserNamespace userns; // resolved once the root's layers are known (auto sizes its range by them)
            RootlessStart rootless = rootlessStart();
            if (rootless != null) {
                rootless.checkSpec(spec, cgroups != null); // what needs root: before anything is made
            }
            if (spec.network().attaches()) {
                ContainerNetwork.precheck(networks(), spec); // an unknown network, a port in use: before anything
            } else if (spec.network().userMode()) {
                userModePorts = ContainerNetwork.precheckUserMode(spec); // the tool missing, a port in use
            }
            RootSource root;
            ProcessPlan process;
            String userSpec;
            List<String> execEnv;
            int stopSignal = Syscalls.SIGTERM;
            if (spec.image().isPresent()) {
                String ref = spec.image().get();
                try {
                    if (reuse == null) {
                        prepared = images().prepare(ref);
                        images().pin(id, prepared);
                        pinned = true;
                    } else { // a restart runs the image the first start pinned, wherever the name points now
                        prepared = images().preparePinned(id, ref).orElse(null);
                        if (prepared == null) { // a pin written before pins named their image
                            prepared = images().prepare(ref);
                        }
                    }
                } catch (IOException | RuntimeException e) {
                    throw new ContainerStartException("image " + ref + ": " + e.getMessage(), e);
                }
                ProcessDefaults d;
                try {
                    d = ProcessDefaults.resolve(prepared.config(), spec.entrypoint(),
                            spec.command().isEmpty() ? Optional.empty() : Optional.of(spec.command()));
                    stopSignal = Signals.parse(d.stopSignal());
                    healthCheck = spec.healthCheckDisabled() ? Optional.empty()
                            : spec.healthCheck().or(() -> d.healthcheck().flatMap(HealthCheck::fromImage));
                } catch (IllegalArgumentException e) {
                    throw new ContainerStartException("image " + ref + ": " + e.getMessage(), e);
                }
                userSpec = spec.user().orElse(d.user());
                userns = resolveUserNamespace(id, spec, prepared.lowerDirs(), rootless);
                ResolvedUser user = resolveUser(prepared.lowerDirs(), userSpec, "image " + ref);
                checkMapped(userns, user, userSpec);
                process = new ProcessPlan(d.argv(), environment(d.env(), spec, user, hostname),
                        spec.workingDir().orElse(d.workingDir()), user);
                execEnv = execEnvironment(d.env(), spec, hostname);
                root = overlay(prepared, userns);
            } else {
                Path rootfs = spec.rootfs().orElseThrow();
                if (!Files.isDirectory(rootfs)) {
                    throw new ContainerStartException("open(" + rootfs + "): No such directory (rootfs)", "open",
                            rootfs.toString(), 2, null);
                }
                List<String> argv = new ArrayList<>(spec.entrypoint().orElse(List.of()));
                argv.addAll(spec.command());
                userSpec = spec.user().orElse("");
                userns = resolveUserNamespace(id, spec, List.of(rootfs), rootless);
                ResolvedUser user = resolveUser(List.of(rootfs), userSpec, "rootfs " + rootfs);
                checkMapped(userns, user, userSpec);
                process = new ProcessPlan(argv, environment(List.of(ProcessDefaults.DEFAULT_PATH), spec, user, hostname),
                        spec.workingDir().orElse("/"), user);
                execEnv = execEnvironment(List.of(ProcessDefaults.DEFAULT_PATH), spec, hostname);
                root = new RootSource.Directory(rootfs.toString());
                healthCheck = spec.healthCheck();
            }
            Map<String, String> deviceSources = userns == null ? Map.of() : hostDevices(spec);
            checkArgumentList(process, spec);
            process = process.withSeccomp(seccompFilter(spec));
            CgroupPlacement placement = placeInCgroup(spec);
            MountSources mounts = openMounts(spec, rootless != null);
            if (userns == null && !idmapped.isEmpty()) {
                throw new ContainerStartException(idmapped.get(0).name() + ": the idmap option needs a user namespace"
                        + " (ContainerSpec.userNamespace)");
            }
            int joinNetwork = -1;
            if (spec.network().kind() == NetworkMode.Kind.CONTAINER) {
                fds.add(JoinedNetwork.pidfdOf(sys, state, open, spec.network().name().orElseThrow()));
                joinNetwork = Launcher.CONTROL_FD + fds.size();
            }
            UserNsPlan usernsPlan = null;
            RootlessStart.LayerWork layerWork = RootlessStart.LayerWork.NONE;
            int joinUserns = -1; // rootless: where the monitor finds the shared user namespace the init joins
            if (rootless != null) {
                if (prepared != null) {
                    layerWork = RootlessStart.layerWork(prepared.lowerDirs(), userns);
                }
                if (sharesUserNamespace(rootless, userns)) {
                    fds.add(sharedUserns.open(rootless, userns));
                    joinUserns = Launcher.CONTROL_FD + fds.size();
                }
                usernsPlan = new UserNsPlan(-1, userns.hostGid(5).isPresent(), deviceSources,
                        new UserNsPlan.Rootless(!RootlessStart.singleId(userns), layerWork.ops(), joinUserns));
            } else if (userns != null) {
                int[] pair = sys.socketpair();
                treeSocket = pair[0];
                fds.add(pair[1]);
                usernsPlan = new UserNsPlan(Launcher.CONTROL_FD + fds.size(), userns.hostGid(5).isPresent(),
                        deviceSources);
            }
            final boolean mapped = joinUserns >= 0; // the init joins the shared user namespace, mapped already
            ContainerView view = view(spec, root, hostname);
            Plan plan = PlanCompiler.compile(spec, root, hostname, process, placement, mounts, view, joinNetwork,
                    usernsPlan);
            Path logDir = spec.logging().isPresent() ? captureDirectory() : null;
            if (spec.detached() || logDir != null) {
                plan = plan.withMonitor(monitorOp(spec, logDir));
            }
            if (restartsDetached(spec)) {
                plan = plan.withExitCommand(Op.exitCommand(exitCommandArgv(id), EXIT_COMMAND_ENV));
            }
            ExecProfile profile = new ExecProfile(TargetPolicy.of(spec, placement.devicePolicy()), spec.namespaces(),
                    ExecProfile.limits(spec.rlimits()), execEnv, userSpec, process.cwd(),
                    cgroup == null ? null : cgroup.unifiedPath().map(Path::toString).orElse(null),
                    cgroup == null ? List.of() : cgroup.procsFiles().stream().map(Path::toString).toList(),
                    ExecProfile.Filter.of(process.seccomp()), userns != null);
            Cgroup cg = cgroup;
            Path dir = containerDir;
            boolean pin = pinned;
            RootSource heldRoot = root;
            List<Volumes.Lease> used = List.copyOf(leases);
            java.util.concurrent.atomic.AtomicReference<ContainerNetwork> net = new java.util.concurrent.atomic.AtomicReference<>();
            Lifecycle life = new Lifecycle(new StateDocument(StateDocument.SCHEMA, id,
                    ContainerStatus.CREATED.label(), null, null,
                    cg == null ? List.of() : cg.paths().stream().map(Path::toString).toList(), spec.image().orElse(null),
                    spec.rootfs().map(Path::toString).orElse(null), SpecDocument.of(spec),
                    reuse == null ? null : reuse.created(), null, null, null,
                    restartCount, null, null, new StateDocument.ControlDoc(stopSignal,
                            logDir == null ? null : logDir.toString(), process.argv(),
                            healthCheck.map(SpecDocument.HealthCheckDoc::of).orElse(null),
                            StateDocument.UserNsState.of(userns))), doc -> {
                                state.write(doc);
                                ContainerNetwork n = net.get();
                                if (n != null) {
                                    n.health(doc.health()); // a health change moves it in or out of its names' answers
                                }
                            }, Clock.systemUTC(), reuse != null);
            // closing an incarnation releases what only it held; the container's storage, state and id go
            // with the last one (SupervisedContainer.close -> closed())
            LinuxContainer.Resources held = new LinuxContainer.Resources(cg, stopSignal,
                    spec.namespaces().contains(Namespace.PID), () -> {
                        try {
                            ContainerNetwork n = net.get();
                            if (n != null) {
                                n.release(); // idempotent: it ran at exit, unless that failed
                            }
                            if (cg != null) {
                                cg.remove(); // idempotent: a second chance if the removal at exit failed
                            }
                        } catch (RuntimeException e) {
                            LOG.warn("container {}: releasing its network and cgroup: {}", id, e.getMessage());
                        } finally {
                            used.forEach(Volumes.Lease::close); // the volumes are no longer in use
                        }
                    }, TreeAccess.withReaders(() -> holdRoot(id, heldRoot), copyReaders(id)), life, (execSpec, initPid, pidfd) -> enter(id, profile, initPid,
                            pidfd, execSpec), logDir, !spec.detached() ? null : new LinuxContainer.Detached(
                                    spec.autoRemove(), () -> {
                                        open.remove(id); // it goes on, or stays as it ended, until removed
                                        used.forEach(Volumes.Lease::close);
                                    }, () -> {
                                        // first: once its state is gone, container(id) finds no handle of it here
                                        open.remove(id);
                                        try {
                                            removeEnded(id);
                                        } catch (ContainerException e) {
                                            throw new IllegalStateException(e.getMessage(), e);
                                        } finally {
                                            used.forEach(Volumes.Lease::close);
                                        }
                                    }));
            String rootMountpoint = root.mountpoint();
            LinuxContainer c;
            try {
                // with a terminal, the monitor and the init get /dev/null: only the target has the pty
                c = launcher.launch(id, plan, spec.tty() ? Stdio.discard() : spec.stdin(),
                        spec.tty() ? Stdio.discard() : spec.stdout(), spec.tty() ? Stdio.discard() : spec.stderr(), fds,
                        new Launcher.HostSetup() {
                            @Override
                            public void afterClone(long initPid, long monitorPid) throws ContainerStartException {
                                life.created(ProcessId.of(initPid), ProcessId.of(monitorPid));
                                if (spec.network().attaches()) {
                                    network = ContainerNetwork.attach(networks(), sys, names, state.root().resolve(id), id,
                                            spec, hostname, initPid);
                                    net.set(network);
                                } else if (spec.network().kind() == NetworkMode.Kind.CONTAINER) {
                                    try {
                                        ContainerNetwork.shareEtcFiles(state.root().resolve(spec.network().name()
                                                .orElseThrow()), state.root().resolve(id));
                                    } catch (IOException e) {
                                        throw new ContainerStartException("network " + spec.network() + ": /etc files: "
                                                + e.getMessage(), e);
                                    }
                                }
                                if (rootless != null) {
                                    if (!mapped) { // a joined namespace is mapped already
                                        rootless.writeMaps(sys, initPid, userns);
                                    }
                                } else if (userns != null) {
                                    mappedSetup(initPid, userns, heldRoot, PlanCompiler.shownFiles(spec, view));
                                }
                                if (spec.network().userMode()) {
                                    // after the maps: the tool joins the init's user namespace as its owner
                                    network = ContainerNetwork.attachUserMode(networks(), sys, names,
                                            state.root().resolve(id), id, spec, hostname, initPid, userModePorts,
                                            startTimeout);
                                    net.set(network);
                                }
                            }

                            @Override
                            public void seccompListener(LinuxContainer container, int fd) {
                                SeccompListener l = spec.seccomp().listener().orElseThrow();
                                reactor.register(fd, new SeccompNotifier(sys, fd, id, l, callbacks,
                                        libseccomp::syscallName));
                            }

                            @Override
                            public void atSync(long initPid) throws ContainerStartException {
                                populateVolumes(initPid, rootMountpoint);
                            }
                        },
                        new ExitHandler() {
                            @Override
                            public ExitStatus verdict(ExitStatus raw) {
                                return cg == null ? raw : raw.withOomKilled(cg.oomKillCount() > 0);
                            }

                            @Override
                            public void teardown(ExitStatus status, CgroupStats last) {
                                releaseNetworkAfterExit(id, net.get());
                                if (removeCgroupAfterExit(id, cg)) {
                                    try {
                                        life.cgroupRemoved(StateDocument.UsageDoc.of(last));
                                    } catch (RuntimeException e) {
                                        LOG.warn("container {}: recording its cgroup's removal: {}", id, e.getMessage());
                                    }
                                }
                            }
                        }, held);
            } catch (ContainerStartException e) {
                if (cg != null && cg.oomKillCount() > 0) {
                    throw new ContainerStartException(e.getMessage() + " (the OOM killer struck in the container's"
                            + " cgroup: its memory limit is too small for the setup)", e.syscall(), e.operand(),
                            e.errno(), e);
                }
                throw e;
            } finally {
                closeFds();
                if (prepared != null) {
                    prepared.close();
                    prepared = null;
                }
            }
            if (net.get() != null) {
                c.network(net.get().info());
            }
            try {
                layerWork.markApplied(); // the layers' owners are given: later starts skip them
            } catch (IOException | RuntimeException e) {
                LOG.warn("container {}: marking its layers' owners given: {}", id, e.getMessage());
            }
            life.started();
            try {
                // only now: before its target's exec, the container's mount namespace may still show the
                // host's root, so no other runtime may enter it (its state says running since the clone)
                state.writeExecProfile(id, profile);
            } catch (RuntimeException e) {
                leases.clear();
                cgroup = null;
                containerDir = null;
                pinned = false;
                c.kill(); // a detached one's close() would only let go of it
                try {
                    c.waitFor(Duration.ofSeconds(10));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                }
                c.close();
                if (reuse == null) {
                    closed(id, cg, dir, pin, net.get());
                }
                throw new ContainerStartException("exec profile of " + id + ": " + e.getMessage(), e);
            }
            // everything below belongs to the running container now
            network = null;
            leases.clear();
            cgroup = null;
            containerDir = null;
            pinned = false;
            kept = reuse != null ? reuse : new Kept(dir, pin, new AtomicReference<>(), life.state().created());
            kept.cgroup().set(cg);
            return new SupervisedContainer.Incarnation(c, life, stopSignal);
        }

        /**
         * What the container is shown of the host: its own cgroup at /sys/fs/cgroup, and /etc/hosts,
         * /etc/hostname and /etc/resolv.conf generated into its state directory.
         */
        private ContainerView view(ContainerSpec spec, RootSource root, String hostname) throws ContainerStartException {
            ContainerView.CgroupView cg = cgroup == null ? ContainerView.CgroupView.NONE
                    : ContainerView.CgroupView.of(cgroups.mode() == CgroupMode.UNIFIED, cgroup.unifiedPath(),
                            cgroup.v1Directories());
            boolean writable = !(root instanceof RootSource.Directory d) || EtcFiles.writable(Path.of(d.path()));
            try {
                if (reuse != null) { // a restart: the files are made again (the host's may have changed)
                    for (String name : EtcFiles.NAMES) {
                        Files.deleteIfExists(state.root().resolve(id).resolve(name));
                    }
                }
                return new ContainerView(cg, etc.write(state.root().resolve(id), spec, hostname), writable);
            } catch (IOException | RuntimeException e) {
                throw new ContainerStartException("/etc/hosts, /etc/hostname, /etc/resolv.conf of " + id + ": "
                        + e.getMessage(), e);
            }
        }

        private RootSource overlay(PreparedImage p, UserNamespace userns) throws ContainerStartException {
            RootSource.Overlay o = overlay(p);
            if (userns != null && rootlessIds == null) {
                // the writable layer is the mapped root's on the host: the container's root copies up into it
                Path link = Path.of(o.linkDir());
                for (String d : List.of(o.upperdir(), o.workdir())) {
                    Path dir = link.resolve(d).normalize();
                    long uid = userns.hostUid(0).orElseThrow();
                    long gid = userns.hostGid(0).orElseThrow();
                    try {
                        Files.setAttribute(dir, "unix:uid", (int) uid, LinkOption.NOFOLLOW_LINKS);
                        Files.setAttribute(dir, "unix:gid", (int) gid, LinkOption.NOFOLLOW_LINKS);
                    } catch (IOException | RuntimeException e) {
                        throw new ContainerStartException("chown(" + dir + ", " + uid + ":" + gid + "): "
                                + e.getMessage(), e);
                    }
                }
            }
            return o;
        }

        private RootSource.Overlay overlay(PreparedImage p) throws ContainerStartException {
            Path containers = storageRoot.resolve("containers");
            Path dir = containers.resolve(id);
            if (reuse != null) { // a restart: the first start's writable layer, as it was left
                try {
                    if (!dir.equals(reuse.dir())) {
                        throw new java.nio.file.NoSuchFileException(dir.toString());
                    }
                    return writableOverlay(p, dir);
                } catch (IOException e) {
                    throw new ContainerStartException("container directory " + dir + ": gone; cannot restart " + id, e);
                }
            }
            try {
                PrivateDirectories.create(containers, true);
                Files.createDirectory(dir);
                containerDir = dir; // ours from here: a failed start removes it
                Files.createDirectory(dir.resolve("upper"));
                Files.createDirectory(dir.resolve("work"));
                Files.createDirectory(dir.resolve("rootfs"));
            } catch (FileAlreadyExistsException e) {
                throw new ContainerStartException("container directory " + dir + " already exists: another runtime"
                        + " with this storage root (and another state root) uses the id " + id, e);
            } catch (IOException e) {
                throw new ContainerStartException("container directory " + dir + ": " + e.getMessage(), e);
            }
            Path link = p.linkDir();
            return new RootSource.Overlay(link.toString(), p.shortLowerDirOption(),
                    link.relativize(dir.resolve("upper")).toString(),
                    link.relativize(dir.resolve("work")).toString(),
                    dir.resolve("rootfs").toString());
        }

        /**
         * Creates the cgroup and hands its directories to the init: clone3 straight into the
         * v2 directory where the kernel can, and cgroup.procs fds for every other hierarchy.
         * The fds land at 4, 5, ... in the monitor, in this order.
         */
        private CgroupPlacement placeInCgroup(ContainerSpec spec) throws ContainerStartException {
            if (cgroups == null) {
                if (!spec.resources().isEmpty()) {
                    throw new ContainerStartException("resources: cgroups are not available: " + cgroupsUnavailable);
                }
                return CgroupPlacement.NONE;
            }
            boolean devicePolicy = cgroups.devicePolicySupported();
            try {
                Resources limits = cgroupResources(spec, devicePolicy);
                if (delegation != null && !delegation.controllers().contains("pids") && spec.resources().pidsMax().isEmpty()) {
                    limits = limits.toBuilder().clearPidsMax().build(); // the default limit, where the user has no pids
                }
                cgroup = cgroups.create(id, limits);
            } catch (CgroupException | IllegalArgumentException e) {
                throw new ContainerStartException("cgroup " + id + ": " + e.getMessage(), e);
            }
            try {
                return openCgroups(cgroup.procsFiles(), cgroup.unifiedPath(), devicePolicy, fds);
            } catch (SyscallException e) {
                throw new ContainerStartException(e.getMessage(), e.syscall(), e.operand(), e.errno(), e);
            }
        }

        /**
         * Opens the source of every bind mount and volume once, in the host's mount namespace, as a
         * detached tree ({@code open_tree}) with its attributes set ({@code mount_setattr}); the
         * init moves each onto its target by fd, so nothing swapped in after this (a symlink) can
         * redirect it. Sources under Berth's own storage and state roots are refused.
         */
        private MountSources openMounts(ContainerSpec spec, boolean byPath) throws ContainerStartException {
            List<MountSources.Source> sources = new ArrayList<>();
            for (int i = 0; i < spec.mounts().size(); i++) {
                Mount m = spec.mounts().get(i);
                MountOptions o = MountOptions.parse(m.type(), m.options());
                try {
                    switch (m.type()) {
                        case TMPFS -> sources.add(MountSources.Source.NONE);
                        case BIND -> sources.add(byPath ? pathSource(bindSource(i, m.source()))
                                : openTree(bindSource(i, m.source()), m.source(), o));
                        case VOLUME -> {
                            Volumes.Lease lease = volumes.acquire(m.source());
                            leases.add(lease);
                            sources.add(byPath ? pathSource(lease.volume.mountpoint())
                                    : openTree(lease.volume.mountpoint(), m.source(), o));
                            if (o.copyUp() && volumes.isEmpty(lease)) {
                                toPopulate.add(Map.entry(lease, m.destination()));
                            }
                        }
                        default -> throw new IllegalStateException(m.type().name());
                    }
                } catch (IOException | IllegalStateException | SyscallException e) {
                    throw new ContainerStartException("mounts[" + i + "]: " + e.getMessage(), e);
                }
                if (o.idmap()) {
                    idmapped.add(new UserNamespaces.IdmappedTree(fds.get(fds.size() - 1),
                            "mounts[" + i + "] " + m.source(), o.recursive()));
                }
            }
            return new MountSources(sources, !toPopulate.isEmpty());
        }

        /** A rootless container's bind source: its real path, which the init binds itself. */
        private MountSources.Source pathSource(Path real) {
            return MountSources.Source.byPath(real.toString(), !Files.isDirectory(real));
        }

        /** The source's real path, refused when it is Berth's own storage or state (or below them). */
        private Path bindSource(int i, String source) throws ContainerStartException {
            Path real;
            try {
                real = Path.of(source).toRealPath();
            } catch (NoSuchFileException e) {
                throw new ContainerStartException("open_tree(" + source + "): No such file or directory (mounts[" + i
                        + "].source)", "open_tree", source, Syscalls.ENOENT, e);
            } catch (IOException e) {
                throw new ContainerStartException("mounts[" + i + "].source: " + source + ": " + e.getMessage(), e);
            }
            for (Path own : List.of(storageRoot, stateRoot)) {
                Path ownReal = own;
                try {
                    ownReal = own.toRealPath();
                } catch (IOException e) {
                    // not made yet: its path as given
                }
                if (real.startsWith(ownReal) || real.startsWith(own)) {
                    throw new ContainerStartException("mounts[" + i + "].source: " + source + " is inside Berth's own "
                            + (own == storageRoot ? "storage" : "state") + " root " + own
                            + "; a container never gets its content (use a volume)");
                }
            }
            return real;
        }

        /**
         * The detached tree of {@code path}, opened without following any symlink (the path is
         * real), with its attributes and propagation set; its fd goes to the monitor.
         */
        private MountSources.Source openTree(Path path, String operand, MountOptions o) throws ContainerStartException {
            try {
                int at = sys.openat2(Syscalls.AT_FDCWD, path.toString(), Syscalls.O_PATH | Syscalls.O_CLOEXEC,
                        Syscalls.RESOLVE_NO_SYMLINKS | Syscalls.RESOLVE_NO_MAGICLINKS);
                int tree;
                try {
                    tree = sys.openTree(at, "", Syscalls.OPEN_TREE_CLONE | Syscalls.OPEN_TREE_CLOEXEC
                            | Syscalls.AT_EMPTY_PATH | (o.recursive() ? Syscalls.AT_RECURSIVE : 0), operand);
                } finally {
                    sys.close(at);
                }
                fds.add(tree); // from here a failed start closes it, which unmounts the detached copy
                int recursive = o.recursive() ? Syscalls.AT_RECURSIVE : 0;
                if (o.attributes() != 0) {
                    sys.mountSetattr(tree, recursive, o.attributes(), 0, operand);
                }
                sys.mountSetattr(tree, o.propagationRecursive() ? recursive : 0, 0, o.propagation(), operand);
                boolean file = !Files.isDirectory(Path.of("/proc/self/fd/" + tree));
                return new MountSources.Source(Launcher.CONTROL_FD + fds.size(), file);
            } catch (SyscallException e) {
                String hint = e.errno() == Syscalls.ENOSYS ? " (bind mounts and volumes need open_tree, move_mount and"
                        + " mount_setattr: Linux 5.12)" : "";
                throw new ContainerStartException(e.getMessage() + hint, e.syscall(), e.operand(), e.errno(), e);
            }
        }

        /**
         * The directory the monitor writes the container's log to: its container directory under the
         * storage root (beside the writable layer of an image's container; made for a directory's),
         * private to root, and removed with the container.
         */
        private Path captureDirectory() throws ContainerStartException {
            if (containerDir != null) {
                return containerDir;
            }
            Path containers = storageRoot.resolve("containers");
            Path dir = containers.resolve(id);
            if (reuse != null && dir.equals(reuse.dir()) && Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                return dir; // a restart: the first start's (with its log)
            }
            try {
                PrivateDirectories.create(containers, true);
                Files.createDirectory(dir, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
                containerDir = dir; // ours from here: a failed start removes it
                return dir;
            } catch (FileAlreadyExistsException e) {
                throw new ContainerStartException("container directory " + dir + " already exists: another runtime"
                        + " with this storage root (and another state root) uses the id " + id, e);
            } catch (IOException e) {
                throw new ContainerStartException("container directory " + dir + ": " + e.getMessage(), e);
            }
        }

        /**
         * The MONITOR op: detach, and capture output to {@code logDir}; the monitor gets the state
         * directory (for its {@code exit} record) and the log directory as fds.
         */
        private Op monitorOp(ContainerSpec spec, Path logDir) throws ContainerStartException {
            long flags = (spec.detached() ? OpCode.MONITOR_DETACH : 0) | (logDir != null ? OpCode.MONITOR_LOG : 0);
            int stateFd = directoryFd(state.root().resolve(id));
            int logFd = logDir == null ? -1 : directoryFd(logDir);
            LogConfig l = spec.logging().orElse(LogConfig.DEFAULT);
            return Op.of(OpCode.MONITOR, flags, (long) stateFd, (long) logFd, l.maxSize(), (long) l.maxFiles());
        }

        /** An fd of {@code dir} for the monitor: its number there. */
        private int directoryFd(Path dir) throws ContainerStartException {
            try {
                fds.add(sys.open(dir.toString(), Syscalls.O_RDONLY | Syscalls.O_DIRECTORY | Syscalls.O_CLOEXEC, 0));
            } catch (SyscallException e) {
                throw new ContainerStartException(e.getMessage(), e.syscall(), e.operand(), e.errno(), e);
            }
            return Launcher.CONTROL_FD + fds.size();
        }

        /** At the plan's sync point: fills each new volume from the root's content at its destination. */
        private void populateVolumes(long initPid, String rootMountpoint) throws ContainerStartException {
            Path root = Path.of("/proc/" + initPid + "/root" + rootMountpoint);
            for (Map.Entry<Volumes.Lease, String> p : toPopulate) {
                try {
                    volumes.populate(p.getKey(), root, p.getValue());
                } catch (IOException | RuntimeException e) {
                    throw new ContainerStartException("volume " + p.getKey().volume.name() + ": filling it from "
                            + p.getValue() + " of the image: " + e.getMessage(), e);
                }
            }
        }

        private void closeFds() {
            for (int fd : fds) {
                sys.close(fd);
            }
            fds.clear();
            if (treeSocket >= 0) {
                sys.close(treeSocket);
                treeSocket = -1;
            }
        }

        /**
         * The host side of a user-namespaced start, between clone and go: the maps, then the idmapped root
         * and the generated /etc files (owned by the mapped root) sent to the init as detached trees, in the
         * order its RECV_MOUNT ops take them.
         */
        private void mappedSetup(long initPid, UserNamespace userns, RootSource root,
                List<ContainerView.FileMount> files) throws ContainerStartException {
            UserNamespaces.writeMaps(sys, initPid, userns);
            UserNamespaces.idmapTrees(sys, initPid, idmapped);
            List<String> lowers = prepared == null ? List.of()
                    : prepared.lowerDirs().stream().map(Path::toString).toList();
            String[] upperAndWork = root instanceof RootSource.Overlay o ? new String[] {
                    Path.of(o.linkDir()).resolve(o.upperdir()).normalize().toString(),
                    Path.of(o.linkDir()).resolve(o.workdir()).normalize().toString()} : null;
            int tree = UserNamespaces.idmappedRoot(sys, initPid, root, lowers, upperAndWork);
            try {
                sys.sendFd(treeSocket, tree, "the container's root to its init");
            } finally {
                sys.close(tree);
            }
            long uid = userns.hostUid(0).orElseThrow();
            long gid = userns.hostGid(0).orElseThrow();
            for (ContainerView.FileMount f : files) {
                Path source = Path.of(f.source());
                try {
                    Files.setAttribute(source, "unix:uid", (int) uid, LinkOption.NOFOLLOW_LINKS);
                    Files.setAttribute(source, "unix:gid", (int) gid, LinkOption.NOFOLLOW_LINKS);
                } catch (IOException | RuntimeException e) {
                    throw new ContainerStartException("chown(" + source + ", " + uid + ":" + gid + "): "
                            + e.getMessage(), e);
                }
                int file = sys.openTree(Syscalls.AT_FDCWD, f.source(), Syscalls.OPEN_TREE_CLONE
                        | Syscalls.OPEN_TREE_CLOEXEC, f.source());
                try {
                    sys.sendFd(treeSocket, file, f.source() + " to the container's init");
                } finally {
                    sys.close(file);
                }
            }
            sys.close(treeSocket);
            treeSocket = -1;
        }

        /** Takes back whatever this start made, and releases the id; cleanup failures ride along as suppressed. */
        void release(Exception failure) {
            try {
                closeFds();
            } catch (RuntimeException e) {
                failure.addSuppressed(e);
            }
            if (network != null) {
                try {
                    network.release(); // the init is gone, its namespace still pinned: DEL, then unpin
                } catch (RuntimeException e) {
                    failure.addSuppressed(e);
                }
            }
            if (cgroup != null) {
                try {
                    cgroup.remove();
                } catch (RuntimeException e) {
                    failure.addSuppressed(e);
                }
            }
            if (prepared != null) {
                prepared.close();
            }
            for (Volumes.Lease lease : leases) {
                lease.close();
                if (lease.created) {
                    try {
                        volumes.remove(lease.volume.name()); // made for this start: nothing of it stays
                    } catch (IOException | RuntimeException e) {
                        failure.addSuppressed(e);
                    }
                }
            }
            leases.clear();
            if (reuse != null) {
                return; // a failed restart: the container's storage, state and id stay its own until it is closed
            }
            try {
                removeContainerStorage(id, containerDir, pinned);
            } catch (RuntimeException e) {
                failure.addSuppressed(e);
            }
            boolean removed = false;
            try {
                state.remove(id);
                removed = true;
            } catch (RuntimeException e) {
                failure.addSuppressed(e);
            }
            try {
                releaseId(id, removed);
            } catch (RuntimeException e) {
                failure.addSuppressed(e);
            }
            open.remove(id);
        }
    }

    /**
     * Opens a container's cgroups for a process of it to enter: the v2 directory for clone3 straight
     * into it where the kernel can, a cgroup.procs fd for every other hierarchy. The fds are added to
     * {@code fds}, which land at 4, 5, ... in the monitor, in this order.
     */
    private CgroupPlacement openCgroups(List<Path> procsFiles, Optional<Path> unified, boolean devicePolicy,
            List<Integer> fds) {
        int cloneFd = -1;
        List<CgroupPlacement.Join> joins = new ArrayList<>();
        for (Path procs : procsFiles) {
            if (cloneIntoCgroup && unified.isPresent() && procs.getParent().equals(unified.get())) {
                fds.add(sys.open(unified.get().toString(), Syscalls.O_RDONLY | Syscalls.O_DIRECTORY
                        | Syscalls.O_CLOEXEC, 0));
                cloneFd = Launcher.CONTROL_FD + fds.size();
            } else {
                fds.add(sys.open(procs.toString(), Syscalls.O_WRONLY | Syscalls.O_CLOEXEC, 0));
                joins.add(new CgroupPlacement.Join(Launcher.CONTROL_FD + fds.size(), procs.toString()));
            }
        }
        return new CgroupPlacement(cloneFd, joins, devicePolicy);
    }

    /**
     * Runs a process in the running container {@code id}: one this runtime started, or one of another
     * runtime on the same state root (another {@code berth} process), found by its state and
     * identified by its init's pid and start time, so that a reused pid is never entered.
     *
     * @throws ContainerStartException when the process could not be started, naming the step
     * @throws ContainerException      when there is no such container or it is not running
     */
    public ExecProcess exec(String id, ExecSpec spec) throws ContainerException {
        Objects.requireNonNull(spec, "spec");
        Optional<Container> own = open.getOrDefault(id, Optional.empty());
        if (own.isPresent()) {
            return own.get().exec(spec);
        }
        Optional<StateDocument> doc;
        try {
            doc = id == null || !ID.matcher(id).matches() ? Optional.empty() : state.read(id);
        } catch (UncheckedIOException e) {
            throw new ContainerException("container " + id + ": " + e.getMessage(), e);
        }
        if (doc.isEmpty() || doc.get().init() == null) {
            throw new ContainerException("no such container: " + id);
        }
        ContainerStatus status = doc.get().containerStatus();
        if (status == ContainerStatus.PAUSED) {
            throw new ContainerException("exec: container " + id + " is paused; resume it first");
        }
        if (status != ContainerStatus.RUNNING) {
            throw new ContainerException("exec: container " + id + " is not running (status " + status.label() + ")");
        }
        ExecProfile profile = state.readExecProfile(id).orElseThrow(() -> new ContainerException("exec: container "
                + id + " is still starting (no " + stateRoot.resolve(id).resolve("exec.json") + " yet)"));
        ProcessId init = doc.get().init().id();
        String gone = "exec: container " + id + " is not running (its init, pid " + init.pid() + ", is gone)";
        int pidfd;
        try {
            pidfd = sys.pidfdOpen(init.pid());
        } catch (SyscallException e) {
            throw new ContainerException(gone, e);
        }
        // the pidfd names one process: with the recorded start time and berth-init running in it, while it
        // lives, it is the container's init (a start time alone anyone can read, and write into a file)
        if (ProcessId.startTime(init.pid()) != init.startTime() || !ProcessId.runsBerthInit(init.pid())
                || !sys.pidfdSendSignal(pidfd, 0)) {
            sys.close(pidfd);
            throw new ContainerException(gone + (ProcessId.startTime(init.pid()) >= 0
                    ? " (the pid now belongs to another process)" : ""));
        }
        return enter(id, profile, init.pid(), pidfd, spec);
    }

    /**
     * Starts {@code spec} in the container whose init {@code pidfd} names (closed here): the user
     * resolved in the container's own root, the environment of its process with the spec's on top,
     * its cgroups opened, then the plan of {@link PlanCompiler#enter} run by a fresh monitor.
     */
    private ExecProcess enter(String id, ExecProfile profile, long initPid0, int pidfd, ExecSpec spec)
            throws ContainerException {
        long initPid = initPid0;
        List<Integer> fds = new ArrayList<>();
        fds.add(pidfd);
        try {
            if (rootless()) {
                // the init is closed to its own user (non-dumpable, its memory the host user namespace's): the
                // namespaces, root and files are taken through its first child instead (the target, as runc's exec)
                long entry = RootlessStart.entryProcess(initPid);
                if (entry != initPid) {
                    int childFd = sys.pidfdOpen(entry);
                    fds.set(0, childFd);
                    sys.close(pidfd);
                    pidfd = childFd;
                    if (RootlessStart.parentOf(entry) != initPid) {
                        throw new ContainerException("exec: container " + id + " is not running (its init's child, pid "
                                + entry + ", is gone)");
                    }
                    initPid = entry;
                }
            }
            if (frozen(profile)) {
                // a process that joins a frozen cgroup freezes too: it would hang until the start timeout
                throw new ContainerException("exec: container " + id + " is paused; resume it first");
            }
            String userSpec = spec.user().orElse(profile.user());
            ResolvedUser user = resolveUser(List.of(Path.of("/proc/" + initPid + "/root")), userSpec,
                    "container " + id);
            if (profile.userNamespace()) {
                try {
                    String who = userSpec.isEmpty() ? "user " + user.uid() : "user " + userSpec;
                    UserNamespaces.checkMapped(UserNamespaces.readMap(Path.of("/proc/" + initPid + "/uid_map")),
                            UserNamespaces.readMap(Path.of("/proc/" + initPid + "/gid_map")), user.uid(), user.gid(),
                            user.additionalGids(), "exec in container " + id + ": " + who);
                } catch (IOException e) {
                    throw new ContainerException("exec: container " + id + " is not running (its init ended)", e);
                }
            }
            // the root the monitor takes after setns: the init's, whatever the mount namespace's own is
            fds.add(sys.open("/proc/" + initPid + "/root", Syscalls.O_PATH | Syscalls.O_DIRECTORY | Syscalls.O_CLOEXEC, 0));
            if (!sys.pidfdSendSignal(pidfd, 0)) {
                // its root was read after it ended: whatever that was, it is not the container's
                throw new ContainerException("exec: container " + id + " is not running (its init ended)");
            }
            Map<String, String> env = new LinkedHashMap<>();
            for (String kv : profile.env()) {
                int eq = kv.indexOf('=');
                env.put(kv.substring(0, eq), kv.substring(eq + 1));
            }
            env.putIfAbsent("HOME", user.home());
            env.putAll(spec.env());
            List<String> envList = new ArrayList<>();
            env.forEach((k, v) -> envList.add(k + "=" + v));
            ProcessPlan process = new ProcessPlan(spec.command(), envList,
                    spec.workingDir().orElse(profile.workingDir()), user)
                    .withSeccomp(Optional.ofNullable(profile.seccomp()).map(ExecProfile.Filter::filter));
            CgroupPlacement cgroups = openCgroups(profile.cgroupProcs().stream().map(Path::of).toList(),
                    Optional.ofNullable(profile.cgroupUnified()).map(Path::of), true, fds);
            int cgroupNs = -1;
            if (profile.userNamespace() && profile.namespaces().contains(Namespace.CGROUP)) {
                fds.add(sys.open("/proc/" + initPid + "/ns/cgroup", Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0));
                cgroupNs = Launcher.CONTROL_FD + fds.size();
            }
            Plan plan = PlanCompiler.enter(profile, Launcher.CONTROL_FD + 1, Launcher.CONTROL_FD + 2,
                    "container " + id + "'s init (pid " + initPid + ")", cgroups,
                    spec.tty() ? spec.consoleSize() : null, process, cgroupNs);
            if (profile.userNamespace() && setgroupsDenied(initPid)) {
                plan = PlanCompiler.withoutSetgroups(plan); // a rootless single-id map: the kernel refuses it
            }
            String name = "exec " + spec.command().get(0) + " in container " + id;
            LinuxExecProcess p = launcher.enter(name, plan, spec.tty() ? Stdio.discard() : spec.stdin(),
                    spec.tty() ? Stdio.discard() : spec.stdout(), spec.tty() ? Stdio.discard() : spec.stderr(), fds);
            execs.add(p);
            p.whenEnded(() -> execs.remove(p));
            if (!p.isRunning()) {
                execs.remove(p);
            }
            return p;
        } catch (SyscallException e) {
            throw new ContainerStartException("exec in container " + id + ": " + e.getMessage(), e.syscall(),
                    e.operand(), e.errno(), e);
        } finally {
            for (int fd : fds) {
                sys.close(fd);
            }
        }
    }

    private static boolean setgroupsDenied(long pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/setgroups")).strip().equals("deny");
        } catch (IOException e) {
            return false;
        }
    }

    /** Whether the container's cgroup is frozen (paused): its v2 {@code cgroup.events}, or its v1 freezer. */
    private static boolean frozen(ExecProfile profile) {
        for (String procs : profile.cgroupProcs()) {
            Path dir = Path.of(procs).getParent();
            try {
                Path events = dir.resolve("cgroup.events");
                if (Files.isRegularFile(events) && Files.readAllLines(events).contains("frozen 1")) {
                    return true;
                }
                Path freezer = dir.resolve("freezer.state");
                if (Files.isRegularFile(freezer) && !Files.readString(freezer).trim().equals("THAWED")) {
                    return true;
                }
            } catch (IOException e) {
                LOG.debug("reading the freezer state in {}: {}", dir, e.getMessage()); // the cgroup went with the container
            }
        }
        return false;
    }

    /**
     * The cgroup's limits: the spec's, with the default pids limit where it sets none, and the
     * device policy where the cgroup can hold it.
     */
    static Resources cgroupResources(ContainerSpec spec, boolean devicePolicy) {
        Resources.Builder r = spec.resources().toBuilder();
        if (spec.resources().pidsMax().isEmpty()) {
            r.pidsMax(DEFAULT_PIDS_LIMIT);
        }
        r.clearDeviceRules();
        if (devicePolicy) {
            r.deviceRules(PlanCompiler.deviceRules(spec));
        } else if (!spec.resources().devices().isEmpty()) {
            throw new IllegalArgumentException("resources.devices: this host's cgroups cannot hold a device policy");
        }
        return r.build();
    }

    /**
     * execve refuses (E2BIG) an argument list and environment beyond ARG_MAX or a single string
     * beyond MAX_ARG_STRLEN: refused here with the numbers, rather than as an exec error.
     */
    /**
     * Compiles the default profile for the default capabilities off the caller's thread: the first
     * compile loads libseccomp and takes up to a second on a cold JVM, which the first start would
     * otherwise pay. A start that needs it meanwhile waits for this compile rather than repeating it.
     */
    private void warmUpSeccomp() {
        Thread t = new Thread(() -> {
            try {
                seccompPrograms.program(Seccomp.defaultProfile().parsed(), Capability.dockerDefaults());
            } catch (RuntimeException e) {
                LOG.debug("seccomp: compiling the default profile ahead of the first start failed", e);
            }
        }, "berth-seccomp-warmup");
        t.setDaemon(true);
        t.start();
    }

    /** The spec's filter compiled for its capabilities, or none when unconfined. */
    private Optional<ProcessPlan.SeccompFilter> seccompFilter(ContainerSpec spec) throws ContainerStartException {
        Seccomp sc = spec.seccomp();
        if (!sc.isConfined()) {
            return Optional.empty();
        }
        try {
            return Optional.of(new ProcessPlan.SeccompFilter(sc.name(),
                    seccompPrograms.program(sc.parsed(), spec.capabilities(), sc.notifiedSyscalls())));
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new ContainerStartException(e.getMessage(), e);
        }
    }

    private void checkArgumentList(ProcessPlan p, ContainerSpec spec) throws ContainerStartException {
        long stackLimit = spec.rlimits().stream().filter(r -> r.type() == Rlimit.Type.STACK).findFirst()
                .map(r -> r.soft() < 0 ? Long.MAX_VALUE : r.soft() / 4).orElse(sys.argMax());
        long limit = Math.min(KERNEL_ARG_CEILING, Math.max(stackLimit, 32 * 4096));
        long total = 8L * (p.argv().size() + p.env().size()); // the pointers count too
        for (List<String> strings : List.of(p.argv(), p.env())) {
            for (int i = 0; i < strings.size(); i++) {
                long n = strings.get(i).getBytes(StandardCharsets.UTF_8).length + 1L;
                if (n > MAX_ARG_STRLEN) {
                    throw new ContainerStartException((strings == p.argv() ? "process.args[" + i + "]" : "process.env[" + i
                            + "]") + ": " + n + " bytes, more than the kernel's MAX_ARG_STRLEN of " + MAX_ARG_STRLEN
                            + " for one string (execve would fail with E2BIG)");
                }
                total += n;
            }
        }
        if (total > limit) {
            throw new ContainerStartException("process.args: the argument list and environment take " + total
                    + " bytes, more than the " + limit + " bytes execve accepts (ARG_MAX: a quarter of the stack"
                    + " limit, at most " + KERNEL_ARG_CEILING + "); execve would fail with E2BIG");
        }
    }

    /** An ended container's root, mounted again by a holder for as long as a copy needs it. */
    private TreeAccess.Opened holdRoot(String id, RootSource root) throws IOException {
        RootHold hold;
        try {
            if (rootlessIds != null) {
                // the root's layers mount only in a user namespace of the user's: the holder gets the rootless mapping
                hold = inUsersNamespace((setgroups, planFd, passFd, maps) -> launcher.holdRootRootless(id, root,
                        PlanCompiler.holdRootRootless(root, setgroups, planFd), passFd, maps));
            } else {
                hold = launcher.holdRoot(id, root);
            }
        } catch (ContainerStartException e) {
            throw new IOException("container " + id + ": mounting its root for a copy: " + e.getMessage(), e);
        }
        try {
            return new TreeAccess.Opened(FsRoot.open(sys, hold.root(), "container " + id), hold);
        } catch (RuntimeException e) {
            hold.close();
            throw new IOException("container " + id + ": " + e.getMessage(), e);
        }
    }

    /**
     * The root of an ended container of another runtime, for a copy (docker's {@code cp} of an exited
     * container): mounted again by a holder as for one this runtime started ({@link #holdRoot}), from
     * what its state and the store record: its writable layer over the image it was made from (the
     * pinned one), or its root directory. The id's lock is held while the tree is open, so that the
     * container is neither restarted nor removed under the copy; a runtime that holds it (its starter,
     * a restart, a removal) makes the copy fail at once, saying so.
     */
    private TreeAccess.Opened endedTree(String id) throws IOException {
        java.util.concurrent.Semaphore gate = endedCopies.computeIfAbsent(id, k -> new java.util.concurrent.Semaphore(1));
        try {
            if (!gate.tryAcquire(30, TimeUnit.SECONDS)) {
                throw new IOException("container " + id + ": another copy of it in this process has not ended"
                        + " within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("container " + id + ": interrupted waiting for another copy");
        }
        IdLock lock = state.tryLock(id);
        if (lock == null) {
            gate.release();
            throw new IOException("container " + id + ": held by another runtime (the one that started it, or one"
                    + " restarting or removing it); try again, or copy through that runtime");
        }
        PreparedImage prepared = null;
        try {
            StateDocument st = state.read(id).orElse(null);
            if (st == null) {
                lock.release(); // removed meanwhile: the lock file made here goes too
                throw new IOException("no such container: " + id);
            }
            if (st.containerStatus() != ContainerStatus.EXITED) {
                throw new IOException("container " + id + ": " + st.containerStatus().label() + " meanwhile; try again");
            }
            RootSource root;
            if (st.image() != null) {
                prepared = images().preparePinned(id, st.image()).orElse(null);
                if (prepared == null) { // a pin written before pins named their image
                    prepared = images().prepare(st.image());
                }
                root = writableOverlay(prepared, storageRoot.resolve("containers").resolve(id));
            } else {
                root = new RootSource.Directory(st.rootfs());
            }
            TreeAccess.Opened held = holdRoot(id, root);
            PreparedImage image = prepared;
            return new TreeAccess.Opened(held.root(), () -> {
                try {
                    held.hold().close();
                } finally {
                    if (image != null) {
                        image.close();
                    }
                    lock.close();
                    gate.release();
                }
            });
        } catch (IOException | RuntimeException e) {
            if (prepared != null) {
                prepared.close();
            }
            lock.close();
            gate.release();
            throw e;
        }
    }

    /** The overlay of a container's existing writable layer ({@code dir}: upper, work, rootfs) over {@code p}. */
    private static RootSource.Overlay writableOverlay(PreparedImage p, Path dir) throws IOException {
        if (!Files.isDirectory(dir.resolve("upper"), LinkOption.NOFOLLOW_LINKS)) {
            throw new java.nio.file.NoSuchFileException(dir.resolve("upper").toString(), null,
                    "the container's writable layer is gone");
        }
        Path link = p.linkDir();
        return new RootSource.Overlay(link.toString(), p.shortLowerDirOption(),
                link.relativize(dir.resolve("upper")).toString(), link.relativize(dir.resolve("work")).toString(),
                dir.resolve("rootfs").toString());
    }

    /**
     * Files of the container {@code id}: one this runtime started (running or ended, until it is
     * closed), or one of another runtime on the same state root: a running one found by its state
     * and identified by its init's pid and start time (a reused pid is never taken for it), an
     * ended one through its writable layer, mounted again for each copy.
     *
     * @throws ContainerException when there is no such container, or it is another runtime's and
     *                            not running
     */
    public ContainerFiles files(String id) throws ContainerException {
        Optional<Container> own = open.getOrDefault(id, Optional.empty());
        if (own.isPresent()) {
            return own.get().files();
        }
        Optional<StateDocument> doc;
        try {
            doc = id == null || !ID.matcher(id).matches() ? Optional.empty() : state.read(id);
        } catch (UncheckedIOException e) {
            throw new ContainerException("container " + id + ": " + e.getMessage(), e);
        }
        if (doc.isEmpty() || doc.get().init() == null) {
            throw new ContainerException("no such container: " + id);
        }
        StateDocument st = doc.get();
        ContainerStatus status = st.containerStatus();
        if (status == ContainerStatus.EXITED) {
            return new ContainerFilesImpl(sys, id, TreeAccess.withReaders(() -> endedTree(id), copyReaders(id)));
        }
        if (status != ContainerStatus.RUNNING && status != ContainerStatus.PAUSED) {
            throw new ContainerException("container " + id + ": not running (status " + status
                    + "); its files are reachable once it runs or has ended");
        }
        ProcessId init = st.init().id();
        return new ContainerFilesImpl(sys, id, TreeAccess.withReaders(() -> {
            String gone = "container " + id + ": its init (pid " + init.pid() + ") is gone";
            int pidfd;
            try {
                pidfd = sys.pidfdOpen(init.pid());
            } catch (SyscallException e) {
                throw new IOException(gone, e);
            }
            try {
                // the pidfd names one process: if it has the recorded start time and runs berth-init, it
                // is the container's init (a start time alone anyone can read, and write into a file)
                if (ProcessId.startTime(init.pid()) != init.startTime() || !ProcessId.runsBerthInit(init.pid())) {
                    throw new IOException(gone + " (the pid now belongs to another process)");
                }
                FsRoot root = FsRoot.open(sys, Path.of("/proc/" + RootlessStart.inspectable(init.pid()) + "/root"),
                        "container " + id);
                if (!sys.pidfdSendSignal(pidfd, 0)) {
                    root.close();
                    throw new IOException(gone);
                }
                return new TreeAccess.Opened(root, () -> sys.close(pidfd));
            } catch (IOException | RuntimeException e) {
                sys.close(pidfd);
                throw e;
            }
        }, copyReaders(id)));
    }

    /**
     * Rootless with subordinate ids: a copy out of container {@code id} reads through a reader in the user's
     * namespace ({@link PlanCompiler#openFiles}), whose root may open the files of the container's other users (they
     * are the user's subordinate ids on the host); null as root (this process reads everything) and with a single-id
     * mapping (the container has no other users: every file is the user's).
     */
    private FileOpener.Source copyReaders(String id) {
        if (rootlessIds == null) {
            return null;
        }
        return () -> {
            RootlessStart rl;
            try {
                rl = rootlessStart();
            } catch (ContainerStartException e) {
                throw new IOException("container " + id + ": " + e.getMessage(), e);
            }
            if (RootlessStart.singleId(rl.defaultMapping())) {
                return null;
            }
            int[] pair = sys.socketpair();
            try {
                Launcher.FileReader reader = inUsersNamespace((setgroups, planFd, passFd, maps) -> launcher.openFiles(
                        "the copy's reader for container " + id, PlanCompiler.openFiles(setgroups, planFd,
                                Launcher.CONTROL_FD + (passFd < 0 ? 1 : 2)), passFd, pair[1], maps));
                return new NamespaceOpener(sys, pair[0], reader.end(), "container " + id);
            } catch (RuntimeException e) { // ContainerStartException too (unchecked)
                sys.close(pair[0]);
                throw new IOException("container " + id + ": starting the copy's reader in the user's namespace: "
                        + e.getMessage(), e);
            } finally {
                sys.close(pair[1]); // the monitor has its copy
            }
        };
    }

    /**
     * Cleanup thread, once {@code onExit()} has its status; close() waits for it, and retries what failed.
     *
     * @return whether there was a cgroup and it is gone
     */
    private static boolean removeCgroupAfterExit(String id, Cgroup cg) {
        if (cg != null) {
            try {
                cg.remove();
                return true;
            } catch (RuntimeException e) {
                LOG.warn("container {}: cgroup removal after exit incomplete, retried on close: {}", id, e.getMessage());
            }
        }
        return false;
    }

    /** {@link Container#close()}, after the container ended: every step runs, whatever fails before it. */
    private void closed(String id, Cgroup cg, Path dir, boolean pinned, ContainerNetwork network) {
        List<String> left = new ArrayList<>();
        if (network != null) {
            try {
                network.release(); // idempotent: it ran at exit, unless that failed
            } catch (RuntimeException e) {
                left.add(e.getMessage());
            }
        }
        if (cg != null) {
            try {
                cg.remove(); // idempotent: a second chance if the removal at exit failed
            } catch (RuntimeException e) {
                left.add(e.getMessage());
            }
        }
        try {
            removeContainerStorage(id, dir, pinned);
        } catch (RuntimeException e) {
            left.add(e.getMessage());
        }
        if (left.isEmpty()) {
            try {
                state.remove(id);
                releaseId(id, true);
                open.remove(id);
            } catch (RuntimeException e) {
                left.add(e.getMessage());
            }
        }
        if (!left.isEmpty()) {
            // The id stays claimed (state kept) so that nothing reuses what is left.
            throw new IllegalStateException("container " + id + ": left behind after close: " + String.join("; ", left));
        }
    }

    /**
     * Cleanup thread, once the container ended: its network goes now (its names drop out of its
     * network's answers); a failure is retried on close.
     */
    private static void releaseNetworkAfterExit(String id, ContainerNetwork network) {
        if (network != null) {
            try {
                network.release();
            } catch (RuntimeException e) {
                LOG.warn("container {}: network release after exit incomplete, retried on close: {}", id, e.getMessage());
            }
        }
    }

    /** Removes a container's writable layer and drops its pin on the image's layers. */
    /**
     * Removes a writable layer (or a container directory): as this process can ({@link Reconciler#deleteTree} opens
     * up what a rootless container closed to its owner, such as overlay's {@code work/work}); rootless, what is left
     * (files of the user's subordinate ids, made by the container's other users) as the root of a user namespace
     * with the rootless mapping ({@link PlanCompiler#removeTree}).
     */
    private void removeWritableLayer(Path dir) {
        try {
            Reconciler.deleteTree(dir);
        } catch (UncheckedIOException e) {
            if (rootlessIds == null) {
                throw e;
            }
            try {
                inUsersNamespace((setgroups, planFd, passFd, maps) -> {
                    launcher.runToEnd("removal of " + dir, PlanCompiler.removeTree(dir.toString(), setgroups, planFd),
                            passFd, maps);
                    return null;
                });
            } catch (RuntimeException also) {
                e.addSuppressed(also);
                throw e;
            }
        }
    }

    private void removeContainerStorage(String id, Path dir, boolean pinned) {
        if (dir != null) {
            removeWritableLayer(dir);
        }
        if (pinned) {
            try {
                images().unpin(id);
            } catch (IOException e) {
                throw new UncheckedIOException("unpinning image layers of " + id + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * Rootless: a limit the user's delegation cannot hold is refused before anything is made, in one
     * line naming the option, the uid and what was found (docs/rootless.md).
     */
    private void checkDelegation(ContainerSpec spec) throws ContainerStartException {
        if (delegation != null) {
            Optional<String> refused = delegation.refusal(spec.resources());
            if (refused.isPresent()) {
                throw new ContainerStartException(refused.get());
            }
        }
    }

    private void checkCapabilities(Set<Capability> caps) throws ContainerStartException {
        List<String> missing = new ArrayList<>();
        for (Capability c : caps) {
            if ((hostBoundingSet & (1L << c.bit())) == 0) {
                missing.add(c.capName());
            }
        }
        if (!missing.isEmpty()) {
            throw new ContainerStartException("capabilities: " + String.join(", ", missing)
                    + " not in this process's capability bounding set (CapBnd=" + Long.toHexString(hostBoundingSet)
                    + "); the host cannot grant them");
        }
    }

    /** Resolves user[:group] in the root's own /etc/passwd and /etc/group, read root-scoped and bounded. */
    private static ResolvedUser resolveUser(List<Path> layersTopFirst, String user, String where)
            throws ContainerStartException {
        if (user.isEmpty() || user.equals("0") || user.equals("0:0")) {
            try {
                return toResolved(ImageUsers.resolve(layersTopFirst, "0"));
            } catch (RuntimeException e) { // ImageException too (unchecked)
                return new ResolvedUser(0, 0, List.of(), "/root");
            }
        }
        try {
            return toResolved(ImageUsers.resolve(layersTopFirst, user));
        } catch (RuntimeException e) { // ImageException too (unchecked)
            throw new ContainerStartException("user \"" + user + "\" (" + where + "): " + e.getMessage(), "getpwnam",
                    user, 0, e);
        }
    }

    /**
     * The user namespace a start creates: null for the host's; a {@link UserNamespace.Mode#MAPPED} one as
     * given; an {@code auto} one gets a range of its own from the allocator (the same range again on a
     * restart; released with the id), sized by the root's layers ({@code layersTopFirst}).
     */
    private UserNamespace resolveUserNamespace(String id, ContainerSpec spec, List<Path> layersTopFirst,
            RootlessStart rootless) throws ContainerStartException {
        UserNamespace ns = spec.userNamespace();
        if (rootless != null) {
            return rootless.resolve(ns); // every rootless container has one: its root is the user
        }
        switch (ns.mode()) {
            case HOST:
                return null;
            case MAPPED:
                return ns;
            default:
                try {
                    return idRanges.allocate(id, ns, layersTopFirst);
                } catch (RuntimeException e) { // no free range, an unreadable subuid file or record
                    String m = String.valueOf(e.getMessage());
                    throw new ContainerStartException(m.startsWith("userns auto") ? m : "userns " + ns + ": " + m, e);
                }
        }
    }

    /** A helper plan run in the user's mapping ({@link #inUsersNamespace}). */
    private interface UsersNamespaceStep<T> {
        /**
         * @param setgroups whether the namespace allows setgroups (not with a single-id map)
         * @param planFd    the user namespace fd for the plan's CLONE ({@code CONTROL_FD + 1}), or -1 for a new one
         * @param passFd    the fd to hand the monitor there, or -1
         * @param maps      the host setup that writes a new namespace's maps (nothing for the shared one)
         */
        T run(boolean setgroups, int planFd, int passFd, Launcher.HostSetup maps) throws ContainerStartException;
    }

    /**
     * Runs a rootless helper plan (a writable layer's removal, an ended root's hold) in the user's mapping: in the
     * runtime's shared user namespace when the mapping has subordinate ids, else in a new one whose maps are
     * written between its clone and its go.
     */
    private <T> T inUsersNamespace(UsersNamespaceStep<T> step) throws ContainerStartException {
        RootlessStart rl = rootlessStart();
        UserNamespace ns = rl.defaultMapping();
        int join = sharesUserNamespace(rl, ns) ? sharedUserns.open(rl, ns) : -1;
        try {
            return step.run(!RootlessStart.singleId(ns), join < 0 ? -1 : Launcher.CONTROL_FD + 1, join,
                    (initPid, monitorPid) -> {
                        if (join < 0) {
                            rl.writeMaps(sys, initPid, ns);
                        }
                    });
        } finally {
            if (join >= 0) {
                sys.close(join);
            }
        }
    }

    /**
     * Whether a rootless container with this mapping joins the runtime's shared user namespace: the user's own
     * mapping with a subordinate range (whose maps take newuidmap and newgidmap); a single id is written by the JVM
     * itself at no such cost, and an explicit mapping gets a namespace of its own.
     */
    private static boolean sharesUserNamespace(RootlessStart rootless, UserNamespace ns) {
        return !RootlessStart.singleId(ns) && ns.equals(rootless.defaultMapping());
    }

    /** Rootless: the user's ids and subordinate ranges as the files say now (a stat each when unchanged); null for root. */
    private RootlessStart rootlessStart() throws ContainerStartException {
        if (rootlessIds == null) {
            return null;
        }
        try {
            return new RootlessStart(rootlessIds[0], rootlessIds[1], rootlessUser, subordinateIdFiles.read(subuid),
                    subordinateIdFiles.read(subgid));
        } catch (RuntimeException e) {
            throw new ContainerStartException("rootless: subordinate ids: " + e.getMessage(), e);
        }
    }

    /** Whether this runtime runs rootless (its JVM's effective uid is not 0). */
    public boolean rootless() {
        return rootlessIds != null;
    }

    /** The container's root and its target user must be mapped ({@link UserNamespaces#checkMapped}). */
    private static void checkMapped(UserNamespace ns, ResolvedUser user, String userSpec)
            throws ContainerStartException {
        if (ns != null) {
            String who = userSpec.isEmpty() || userSpec.equals(Long.toString(user.uid())) ? "user " + user.uid()
                    : "user " + userSpec + " (uid " + user.uid() + ")";
            UserNamespaces.checkMapped(ns.uidMap(), ns.gidMap(), user.uid(), user.gid(), user.additionalGids(), who);
        }
    }

    /**
     * In a user namespace a device is the host's node bound in (mknod is refused there): each node the
     * container gets must exist on the host, of the same type and numbers (at the same path, else found
     * below /dev), and keep the host's owner. Returns the host node of each one that is elsewhere.
     */
    private static Map<String, String> hostDevices(ContainerSpec spec) throws ContainerStartException {
        Map<String, String> elsewhere = new LinkedHashMap<>();
        for (dev.berth.core.Device d : PlanCompiler.deviceNodes(spec)) {
            String what = "devices[" + d.path() + "]: ";
            if (d.uid() != 0 || d.gid() != 0) {
                throw new ContainerStartException(what + "uid/gid " + d.uid() + ":" + d.gid() + " cannot be set in a"
                        + " user namespace (the node is the host's, bound in)");
            }
            if (isNode(Path.of(d.path()), d)) {
                continue;
            }
            Optional<Path> found;
            try (java.util.stream.Stream<Path> s = Files.walk(Path.of("/dev"), 3)) {
                found = s.filter(p -> isNode(p, d)).findFirst();
            } catch (IOException | java.io.UncheckedIOException e) {
                found = Optional.empty();
            }
            if (found.isEmpty()) {
                throw new ContainerStartException(what + "the host has no " + (d.type() == DeviceRule.Type.BLOCK
                        ? "block" : "character") + " device " + d.major() + ":" + d.minor() + " below /dev (in a user"
                        + " namespace a device is the host's node, bound in)");
            }
            elsewhere.put(d.path(), found.get().toString());
        }
        return elsewhere;
    }

    private static boolean isNode(Path p, dev.berth.core.Device d) {
        try {
            Map<String, Object> a = Files.readAttributes(p, "unix:mode,rdev", LinkOption.NOFOLLOW_LINKS);
            long rdev = (Long) a.get("rdev");
            long major = ((rdev >>> 32) & 0xfffff000L) | ((rdev >>> 8) & 0xfffL);
            long minor = ((rdev >>> 12) & 0xffffff00L) | (rdev & 0xffL);
            int type = (Integer) a.get("mode") & Syscalls.S_IFMT;
            return type == (d.type() == DeviceRule.Type.BLOCK ? Syscalls.S_IFBLK : Syscalls.S_IFCHR)
                    && major == d.major() && minor == d.minor();
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static ResolvedUser toResolved(ImageUsers.User u) {
        List<Long> gids = new ArrayList<>();
        u.additionalGids().forEach(g -> gids.add(Integer.toUnsignedLong(g)));
        return new ResolvedUser(Integer.toUnsignedLong(u.uid()), Integer.toUnsignedLong(u.gid()), gids, u.home());
    }

    static String defaultHostname(String id) {
        String h = id.replace('_', '-');
        return h.length() > 63 ? h.substring(0, 63) : h;
    }

    /** Image (or default) environment, then HOSTNAME and HOME unless set, then the spec's own variables. */
    private static List<String> environment(List<String> base, ContainerSpec spec, ResolvedUser user, String hostname) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String kv : base) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                env.put(kv.substring(0, eq), kv.substring(eq + 1));
            }
        }
        env.putIfAbsent("HOSTNAME", hostname);
        env.putIfAbsent("HOME", user.home());
        env.putAll(spec.env());
        List<String> out = new ArrayList<>(env.size());
        env.forEach((k, v) -> out.add(k + "=" + v));
        return out;
    }

    /**
     * The environment an exec'd process starts from: the container's, without the {@code HOME} of
     * the container's user unless the image or the spec set it (each exec gets its own user's).
     */
    private static List<String> execEnvironment(List<String> base, ContainerSpec spec, String hostname) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String kv : base) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                env.put(kv.substring(0, eq), kv.substring(eq + 1));
            }
        }
        env.putIfAbsent("HOSTNAME", hostname);
        env.putAll(spec.env());
        List<String> out = new ArrayList<>(env.size());
        env.forEach((k, v) -> out.add(k + "=" + v));
        return out;
    }

    static boolean kernelAtLeast(String version, int major, int minor) {
        try {
            String[] p = version.split("[.-]");
            int ma = Integer.parseInt(p[0]);
            int mi = Integer.parseInt(p[1]);
            return ma > major || (ma == major && mi >= minor);
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static long readBoundingSet() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("CapBnd:")) {
                    return Long.parseUnsignedLong(line.substring(7).trim(), 16);
                }
            }
        } catch (IOException e) {
            LOG.debug("reading /proc/self/status", e);
        }
        return -1L;
    }

    /** The containers started by this runtime and not closed yet (running or ended). */
    public List<Container> containers() {
        return open.values().stream().flatMap(Optional::stream).toList();
    }

    private boolean isDetached(String id) {
        try {
            return state.read(id).map(Reconciler::detached).orElse(false);
        } catch (UncheckedIOException e) {
            return false;
        }
    }

    /**
     * Kills every container this runtime started, releases them, and stops its threads. Detached
     * containers go on (their handles are let go of), as do those other handles follow.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return; // idempotent, as AutoCloseable recommends
        }
        for (ExecProcess p : List.copyOf(execs)) {
            p.close();
        }
        for (AdoptedContainer a : List.copyOf(adopted)) {
            a.close();
        }
        closeAll(containers());
        supervisors.close();
        // ids whose close() left something behind: their locks go with this runtime, so that the
        // next reconcile (in this JVM or another) can finish the job
        locks.values().forEach(IdLock::close);
        locks.clear();
        reactor.close();
        cleanup.shutdown();
        try {
            if (!cleanup.awaitTermination(30, TimeUnit.SECONDS)) {
                LOG.warn("container teardown still running after 30 s; leaving it to the cleanup threads");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sharedUserns.close(); // after the teardown: a writable layer's removal may still join it
        init.close();
        if (ownsCgroupDriver) {
            cgroups.close();
        }
        if (images != null) {
            images.close();
        }
    }

    /**
     * Closes the containers from {@link #CLEANUP_THREADS} threads made for it (and gone after), so
     * that a thousand containers are signalled and waited for side by side, not one after another.
     */
    private static void closeAll(List<Container> all) {
        if (all.size() <= 1) {
            all.forEach(Container::close);
            return;
        }
        int n = Math.min(CLEANUP_THREADS, all.size());
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        Runnable worker = () -> {
            for (int i; (i = next.getAndIncrement()) < all.size();) {
                try {
                    all.get(i).close();
                } catch (RuntimeException e) {
                    LOG.warn("closing container {}: {}", all.get(i).id(), e.getMessage(), e);
                }
            }
        };
        List<Thread> threads = new ArrayList<>();
        for (int i = 1; i < n; i++) {
            Thread t = new Thread(worker, "berth-close-" + i);
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
        worker.run(); // the closing thread takes its share
        boolean interrupted = false;
        for (Thread t : threads) {
            while (true) {
                try {
                    t.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true; // close() finishes its job first, as Container.close() does
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Builds a {@link ContainerRuntime}. */
    public static final class Builder {
        /** Null: {@link DefaultRoots} (the user's own when rootless). */
        private Path stateRoot;
        private Path storageRoot;
        private boolean cgroups = true;
        private CgroupDriver cgroupDriver;
        private Duration startTimeout = Duration.ofSeconds(60);
        private Executor callbackExecutor;
        private boolean reconcile = true;
        private String exitCommandClassPath;
        private Path hostResolvConf;
        private boolean keepOrphanedLayers;
        private Path subuid = SubordinateIds.SUBUID;
        private Path subgid = SubordinateIds.SUBGID;

        private Builder() {}

        /**
         * The subordinate id files {@code --userns=auto} takes ranges from (the lines of
         * {@value UserNamespace#AUTO_OWNER}) and {@link ContainerRuntime#preflight()} reports on;
         * {@code /etc/subuid} and {@code /etc/subgid} by default.
         */
        public Builder subordinateIds(Path subuid, Path subgid) {
            this.subuid = Objects.requireNonNull(subuid, "subuid");
            this.subgid = Objects.requireNonNull(subgid, "subgid");
            return this;
        }

        /**
         * For tests: the host resolv.conf a container's own is made from ({@code /etc/resolv.conf} by
         * default). A user-mode network's tool still relays DNS to the name server of the host's
         * {@code /etc/resolv.conf}, which it reads itself.
         */
        Builder hostResolvConf(Path file) {
            this.hostResolvConf = Objects.requireNonNull(file, "hostResolvConf");
            return this;
        }

        /**
         * Whether {@link #build()} reconciles the state root ({@link ContainerRuntime#reconcile()}):
         * true by default.
         */
        /** For tests: the class path the exit command's JVM is given (this JVM's by default). */
        Builder exitCommandClassPath(String classPath) {
            this.exitCommandClassPath = classPath;
            return this;
        }

        public Builder reconcile(boolean on) {
            this.reconcile = on;
            return this;
        }

        /**
         * What reconciling does with the writable layer of a container a dead runtime left: removed
         * (false, the default), or kept at {@code <storageRoot>/orphaned/<id>} for inspection (true).
         */
        public Builder keepOrphanedLayers(boolean keep) {
            this.keepOrphanedLayers = keep;
            return this;
        }

        /**
         * How long {@code start()} waits for the init to report each step (clone, then exec) before
         * it kills the container and fails; 60 s by default (a mount on a hung network file
         * system, or an init stuck in the kernel, would otherwise hang the caller).
         */
        public Builder startTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "startTimeout");
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("startTimeout: must be > 0, got " + timeout);
            }
            this.startTimeout = timeout;
            return this;
        }

        /**
         * Where {@link Container#onExit()} futures complete, and so where their dependants run; by
         * default the JDK's asynchronous pool, as for {@link Process#onExit()}.
         */
        public Builder callbackExecutor(Executor executor) {
            this.callbackExecutor = Objects.requireNonNull(executor, "callbackExecutor");
            return this;
        }

        /**
         * Where container state lives: {@code /run/berth} by default for root; rootless,
         * {@code $XDG_RUNTIME_DIR/berth} or {@code /tmp/berth-run-<uid>} ({@link DefaultRoots}).
         */
        public Builder stateRoot(Path dir) {
            this.stateRoot = dir;
            return this;
        }

        /**
         * Where images, layers and container upper directories live: {@code /var/lib/berth} by default for root;
         * rootless, {@code $XDG_DATA_HOME/berth} or {@code ~/.local/share/berth} ({@link DefaultRoots}).
         */
        public Builder storageRoot(Path dir) {
            this.storageRoot = dir;
            return this;
        }

        /**
         * Whether every container gets a cgroup of its own (true by default, when the host
         * allows it: stats, pause, OOM detection and limits need one).
         */
        public Builder cgroups(boolean on) {
            this.cgroups = on;
            return this;
        }

        /** Uses this driver (its parent, delegation options) instead of detecting one; the caller closes it. */
        public Builder cgroupDriver(CgroupDriver driver) {
            this.cgroupDriver = driver;
            return this;
        }

        public ContainerRuntime build() {
            if (stateRoot == null || storageRoot == null) {
                DefaultRoots d = DefaultRoots.current();
                try {
                    if (stateRoot == null) {
                        stateRoot = d.stateRoot();
                    }
                    if (storageRoot == null) {
                        storageRoot = d.storageRoot();
                    }
                } catch (RuntimeException e) {
                    throw new IllegalStateException(e.getMessage(), e);
                }
            }
            return new ContainerRuntime(this);
        }
    }
}
