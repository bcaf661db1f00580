package dev.berth.core;

import dev.berth.cgroups.Cgroup;
import dev.berth.cgroups.CgroupDriver;
import dev.berth.cgroups.CgroupException;
import dev.berth.core.internal.Launcher;
import dev.berth.core.internal.LinuxContainer;
import dev.berth.core.internal.NativeInit;
import dev.berth.core.internal.Reactor;
import dev.berth.core.internal.Signals;
import dev.berth.core.internal.StateStore;
import dev.berth.core.internal.linux.LinuxSyscalls;
import dev.berth.core.internal.plan.CgroupPlacement;
import dev.berth.core.internal.plan.Plan;
import dev.berth.core.internal.plan.PlanCompiler;
import dev.berth.core.internal.plan.ProcessPlan;
import dev.berth.core.internal.plan.RootSource;
import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import dev.berth.core.internal.user.ResolvedUser;
import dev.berth.image.ImageException;
import dev.berth.image.ImageStore;
import dev.berth.image.ImageUsers;
import dev.berth.image.PreparedImage;
import dev.berth.image.ProcessDefaults;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The entry point: starts and tracks containers. One instance per state root; it owns
 * a single reactor thread however many containers run. Closing it kills the
 * containers it started.
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
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path stateRoot;
    private final Path storageRoot;
    private final Syscalls sys;
    private final NativeInit init;
    private final Reactor reactor;
    private final Launcher launcher;
    private final StateStore state;
    private final long hostBoundingSet;
    private final CgroupDriver cgroups;
    private final String cgroupsUnavailable;
    private final boolean ownsCgroupDriver;
    private final boolean cloneIntoCgroup;
    private volatile ImageStore images;
    private final Map<String, Container> open = new ConcurrentHashMap<>();

    private ContainerRuntime(Builder b) {
        this.stateRoot = b.stateRoot.toAbsolutePath();
        this.storageRoot = b.storageRoot.toAbsolutePath();
        this.sys = new LinuxSyscalls();
        this.init = NativeInit.load(sys);
        this.reactor = new Reactor(sys);
        this.launcher = new Launcher(sys, init, reactor);
        this.state = new StateStore(stateRoot);
        this.hostBoundingSet = readBoundingSet();
        CgroupDriver driver = b.cgroupDriver;
        String unavailable = null;
        boolean owns = false;
        if (driver == null && b.cgroups) {
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
        this.ownsCgroupDriver = owns;
        this.cloneIntoCgroup = kernelAtLeast(System.getProperty("os.version"), 5, 7);
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

    /** The image store under the storage root, opened on first use. */
    public ImageStore images() {
        ImageStore s = images;
        if (s == null) {
            synchronized (this) {
                s = images;
                if (s == null) {
                    try {
                        s = ImageStore.open(storageRoot);
                    } catch (IOException e) {
                        throw new UncheckedIOException("image store " + storageRoot + ": " + e.getMessage(), e);
                    }
                    images = s;
                }
            }
        }
        return s;
    }

    /** The cgroup driver containers are placed with, when this host gives one. */
    public Optional<CgroupDriver> cgroupDriver() {
        return Optional.ofNullable(cgroups);
    }

    /** Starts a container with a generated id. */
    public Container start(ContainerSpec spec) throws ContainerException {
        String id;
        do {
            byte[] b = new byte[6];
            RANDOM.nextBytes(b);
            id = HexFormat.of().formatHex(b);
        } while (open.containsKey(id) || state.exists(id));
        return start(id, spec);
    }

    /**
     * Starts a container; returns once its target has been exec'd.
     *
     * @throws ContainerStartException naming the step that failed; nothing of the container remains
     */
    public Container start(String id, ContainerSpec spec) throws ContainerException {
        if (id == null || !ID.matcher(id).matches()) {
            throw new IllegalArgumentException("id: \"" + id + "\" must match " + ID.pattern());
        }
        if (open.containsKey(id) || state.exists(id)) {
            throw new ContainerException("container " + id + ": already exists");
        }
        checkCapabilities(spec.capabilities());
        Starting s = new Starting(id);
        try {
            return s.start(spec);
        } catch (ContainerException | RuntimeException e) {
            s.release(e);
            throw e;
        }
    }

    /** What one start has made so far, so that a failure can take all of it back. */
    private final class Starting {
        final String id;
        PreparedImage prepared;
        boolean pinned;
        Path containerDir;
        Cgroup cgroup;
        final List<Integer> fds = new ArrayList<>();
        boolean stateCreated;

        Starting(String id) {
            this.id = id;
        }

        Container start(ContainerSpec spec) throws ContainerException {
            String hostname = spec.hostname().orElse(defaultHostname(id));
            RootSource root;
            ProcessPlan process;
            int stopSignal = Syscalls.SIGTERM;
            if (spec.image().isPresent()) {
                String ref = spec.image().get();
                try {
                    prepared = images().prepare(ref);
                    images().pin(id, prepared);
                    pinned = true;
                } catch (IOException | RuntimeException e) {
                    throw new ContainerStartException("image " + ref + ": " + e.getMessage(), e);
                }
                ProcessDefaults d;
                try {
                    d = ProcessDefaults.resolve(prepared.config(), spec.entrypoint(),
                            spec.command().isEmpty() ? Optional.empty() : Optional.of(spec.command()));
                    stopSignal = Signals.parse(d.stopSignal());
                } catch (IllegalArgumentException e) {
                    throw new ContainerStartException("image " + ref + ": " + e.getMessage(), e);
                }
                ResolvedUser user = resolveUser(prepared.lowerDirs(), spec.user().orElse(d.user()), "image " + ref);
                process = new ProcessPlan(d.argv(), environment(d.env(), spec, user, hostname),
                        spec.workingDir().orElse(d.workingDir()), user);
                root = overlay(prepared);
            } else {
                Path rootfs = spec.rootfs().orElseThrow();
                if (!Files.isDirectory(rootfs)) {
                    throw new ContainerStartException("open(" + rootfs + "): No such directory (rootfs)", "open",
                            rootfs.toString(), 2, null);
                }
                List<String> argv = new ArrayList<>(spec.entrypoint().orElse(List.of()));
                argv.addAll(spec.command());
                ResolvedUser user = resolveUser(List.of(rootfs), spec.user().orElse(""), "rootfs " + rootfs);
                process = new ProcessPlan(argv, environment(List.of(ProcessDefaults.DEFAULT_PATH), spec, user, hostname),
                        spec.workingDir().orElse("/"), user);
                root = new RootSource.Directory(rootfs.toString());
            }
            CgroupPlacement placement = placeInCgroup(spec);
            Plan plan = PlanCompiler.compile(spec, root, hostname, process, placement);
            state.create(id);
            stateCreated = true;
            // The exit handler may run on the reactor as soon as launch returns: it waits
            // until this thread has recorded the container.
            CompletableFuture<Void> recorded = new CompletableFuture<>();
            Cgroup cg = cgroup;
            Path dir = containerDir;
            boolean pin = pinned;
            LinuxContainer.Resources held = new LinuxContainer.Resources(cg, stopSignal, () -> {
                open.remove(id);
                if (cg != null) {
                    cg.remove(); // idempotent: a second chance if the removal at exit failed
                }
                removeContainerStorage(id, dir, pin);
            });
            String rootDescription = spec.rootfs().map(Path::toString).orElse(spec.image().orElse(""));
            try {
                LinuxContainer c = launcher.launch(id, plan, spec.stdin(), spec.stdout(), spec.stderr(), fds,
                        initPid -> state.write(id, initPid, rootDescription), status -> {
                            recorded.join();
                            ExitStatus st = status;
                            if (cg != null) {
                                st = st.withOomKilled(cg.oomKillCount() > 0);
                                cg.remove();
                            }
                            state.remove(id);
                            return st;
                        }, held);
                open.put(id, c);
                // everything below belongs to the running container now
                cgroup = null;
                containerDir = null;
                pinned = false;
                stateCreated = false;
                return c;
            } finally {
                recorded.complete(null);
                closeFds();
                if (prepared != null) {
                    prepared.close();
                    prepared = null;
                }
            }
        }

        private RootSource overlay(PreparedImage p) throws ContainerStartException {
            containerDir = storageRoot.resolve("containers").resolve(id);
            try {
                Files.createDirectories(containerDir.resolve("upper"));
                Files.createDirectories(containerDir.resolve("work"));
                Files.createDirectories(containerDir.resolve("rootfs"));
            } catch (IOException e) {
                throw new ContainerStartException("container directory " + containerDir + ": " + e.getMessage(), e);
            }
            Path link = p.linkDir();
            return new RootSource.Overlay(link.toString(), p.shortLowerDirOption(),
                    link.relativize(containerDir.resolve("upper")).toString(),
                    link.relativize(containerDir.resolve("work")).toString(),
                    containerDir.resolve("rootfs").toString());
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
            try {
                cgroup = cgroups.create(id, spec.resources());
            } catch (CgroupException | IllegalArgumentException e) {
                throw new ContainerStartException("cgroup " + id + ": " + e.getMessage(), e);
            }
            int cloneFd = -1;
            List<CgroupPlacement.Join> joins = new ArrayList<>();
            Optional<Path> unified = cgroup.unifiedPath();
            try {
                for (Path procs : cgroup.procsFiles()) {
                    if (cloneIntoCgroup && unified.isPresent() && procs.getParent().equals(unified.get())) {
                        fds.add(sys.open(unified.get().toString(), Syscalls.O_RDONLY | Syscalls.O_DIRECTORY
                                | Syscalls.O_CLOEXEC, 0));
                        cloneFd = Launcher.CONTROL_FD + fds.size();
                    } else {
                        fds.add(sys.open(procs.toString(), Syscalls.O_WRONLY | Syscalls.O_CLOEXEC, 0));
                        joins.add(new CgroupPlacement.Join(Launcher.CONTROL_FD + fds.size(), procs.toString()));
                    }
                }
            } catch (SyscallException e) {
                throw new ContainerStartException(e.getMessage(), e.syscall(), e.operand(), e.errno(), e);
            }
            return new CgroupPlacement(cloneFd, joins);
        }

        private void closeFds() {
            for (int fd : fds) {
                sys.close(fd);
            }
            fds.clear();
        }

        /** Takes back whatever this start made; cleanup failures ride along as suppressed. */
        void release(Exception failure) {
            try {
                closeFds();
            } catch (RuntimeException e) {
                failure.addSuppressed(e);
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
            try {
                removeContainerStorage(id, containerDir, pinned);
            } catch (RuntimeException e) {
                failure.addSuppressed(e);
            }
            if (stateCreated) {
                try {
                    state.remove(id);
                } catch (RuntimeException e) {
                    failure.addSuppressed(e);
                }
            }
        }
    }

    /** Removes a container's writable layer and drops its pin on the image's layers. */
    private void removeContainerStorage(String id, Path dir, boolean pinned) {
        if (dir != null && Files.exists(dir)) {
            try (Stream<Path> walk = Files.walk(dir)) {
                for (Path p : walk.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                    Files.deleteIfExists(p);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("removing " + dir + ": " + e.getMessage(), e);
            }
        }
        if (pinned) {
            try {
                images().unpin(id);
            } catch (IOException e) {
                throw new UncheckedIOException("unpinning image layers of " + id + ": " + e.getMessage(), e);
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
            } catch (ImageException | RuntimeException e) {
                return new ResolvedUser(0, 0, List.of(), "/root");
            }
        }
        try {
            return toResolved(ImageUsers.resolve(layersTopFirst, user));
        } catch (ImageException | RuntimeException e) {
            throw new ContainerStartException("user \"" + user + "\" (" + where + "): " + e.getMessage(), "getpwnam",
                    user, 0, e);
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
        return List.copyOf(open.values());
    }

    /** Kills every container this runtime started, releases them, and stops the reactor. */
    @Override
    public void close() {
        for (Container c : List.copyOf(open.values())) {
            c.close();
        }
        reactor.close();
        init.close();
        if (ownsCgroupDriver) {
            cgroups.close();
        }
        if (images != null) {
            images.close();
        }
    }

    /** Builds a {@link ContainerRuntime}. */
    public static final class Builder {
        private Path stateRoot = Path.of("/run/berth");
        private Path storageRoot = Path.of("/var/lib/berth");
        private boolean cgroups = true;
        private CgroupDriver cgroupDriver;

        private Builder() {}

        /** Where container state lives ({@code /run/berth} by default). */
        public Builder stateRoot(Path dir) {
            this.stateRoot = dir;
            return this;
        }

        /** Where images, layers and container upper directories live ({@code /var/lib/berth} by default). */
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
            if (stateRoot == null) {
                throw new IllegalArgumentException("stateRoot: must be set");
            }
            if (storageRoot == null) {
                throw new IllegalArgumentException("storageRoot: must be set");
            }
            return new ContainerRuntime(this);
        }
    }
}
