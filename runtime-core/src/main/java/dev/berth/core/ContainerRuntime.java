package dev.berth.core;

import dev.berth.core.internal.Launcher;
import dev.berth.core.internal.LinuxContainer;
import dev.berth.core.internal.NativeInit;
import dev.berth.core.internal.Reactor;
import dev.berth.core.internal.RootFiles;
import dev.berth.core.internal.StateStore;
import dev.berth.core.internal.linux.LinuxSyscalls;
import dev.berth.core.internal.plan.CgroupPlacement;
import dev.berth.core.internal.plan.Plan;
import dev.berth.core.internal.plan.PlanCompiler;
import dev.berth.core.internal.sys.Syscalls;
import dev.berth.core.internal.user.ResolvedUser;
import dev.berth.core.internal.user.UserDatabase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
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
    private static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    private static final int MAX_USER_DB_BYTES = 4 << 20;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path stateRoot;
    private final Path storageRoot;
    private final Syscalls sys;
    private final NativeInit init;
    private final Reactor reactor;
    private final Launcher launcher;
    private final StateStore state;
    private final long hostBoundingSet;
    private final Map<String, Container> live = new ConcurrentHashMap<>();

    private ContainerRuntime(Builder b) {
        this.stateRoot = b.stateRoot.toAbsolutePath();
        this.storageRoot = b.storageRoot.toAbsolutePath();
        this.sys = new LinuxSyscalls();
        this.init = NativeInit.load(sys);
        this.reactor = new Reactor(sys);
        this.launcher = new Launcher(sys, init, reactor);
        this.state = new StateStore(stateRoot);
        this.hostBoundingSet = readBoundingSet();
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

    /** Starts a container with a generated id. */
    public Container start(ContainerSpec spec) throws ContainerException {
        String id;
        do {
            id = HexFormat.of().formatHex(randomBytes());
        } while (live.containsKey(id) || state.exists(id));
        return start(id, spec);
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[6];
        RANDOM.nextBytes(b);
        return b;
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
        if (live.containsKey(id) || state.exists(id)) {
            throw new ContainerException("container " + id + ": already exists");
        }
        Path rootfs = spec.rootfs();
        if (!Files.isDirectory(rootfs)) {
            throw new ContainerStartException("open(" + rootfs + "): No such directory (rootfs)", "open",
                    rootfs.toString(), 2, null);
        }
        checkCapabilities(spec.capabilities());
        ResolvedUser user = resolveUser(rootfs, spec.user());
        String hostname = spec.hostname().orElse(defaultHostname(id));
        List<String> env = environment(spec, user, hostname);
        Plan plan = PlanCompiler.compile(spec, rootfs.toString(), hostname, user, env, CgroupPlacement.NONE);
        state.create(id);
        // The exit handler may run on the reactor as soon as launch returns: it waits
        // until this thread has recorded the container.
        CompletableFuture<Void> recorded = new CompletableFuture<>();
        try {
            LinuxContainer c = launcher.launch(id, plan, spec.stdin(), spec.stdout(), spec.stderr(), List.of(),
                    initPid -> state.write(id, initPid, rootfs), status -> {
                        recorded.join();
                        live.remove(id);
                        state.remove(id);
                        return status;
                    });
            live.put(id, c);
            return c;
        } catch (ContainerException | RuntimeException e) {
            state.remove(id);
            throw e;
        } finally {
            recorded.complete(null);
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

    private ResolvedUser resolveUser(Path rootfs, String user) throws ContainerStartException {
        if (user.equals("0:0") || user.equals("0")) {
            return new ResolvedUser(0, 0, List.of(), "/root");
        }
        try {
            RootFiles files = new RootFiles(sys);
            String passwd = files.read(rootfs, "/etc/passwd", MAX_USER_DB_BYTES).orElse("");
            String group = files.read(rootfs, "/etc/group", MAX_USER_DB_BYTES).orElse("");
            return UserDatabase.parse(passwd, group).resolve(user);
        } catch (IllegalArgumentException e) {
            throw new ContainerStartException(e.getMessage() + " (rootfs " + rootfs + ")", "getpwnam", user, 0, e);
        } catch (RuntimeException e) {
            throw new ContainerStartException("resolving user \"" + user + "\" in " + rootfs + ": " + e.getMessage(), e);
        }
    }

    static String defaultHostname(String id) {
        String h = id.replace('_', '-');
        return h.length() > 63 ? h.substring(0, 63) : h;
    }

    private static List<String> environment(ContainerSpec spec, ResolvedUser user, String hostname) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", DEFAULT_PATH);
        env.put("HOSTNAME", hostname);
        env.put("HOME", user.home());
        env.putAll(spec.env());
        List<String> out = new ArrayList<>(env.size());
        env.forEach((k, v) -> out.add(k + "=" + v));
        return out;
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

    /** The containers started by this runtime that have not ended yet. */
    public List<Container> containers() {
        return List.copyOf(live.values());
    }

    /** Kills every container this runtime started, waits for them, and stops the reactor. */
    @Override
    public void close() {
        for (Container c : List.copyOf(live.values())) {
            c.close();
        }
        reactor.close();
        init.close();
    }

    /** Builds a {@link ContainerRuntime}. */
    public static final class Builder {
        private Path stateRoot = Path.of("/run/berth");
        private Path storageRoot = Path.of("/var/lib/berth");

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
