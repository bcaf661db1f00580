package dev.berth.core;

import dev.berth.cgroups.Resources;
import dev.berth.core.internal.plan.MountOptions;
import dev.berth.core.internal.etc.IpLiteral;
import dev.berth.network.PortMapping;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What to run and how to isolate it: an immutable, validated value. Build one with
 * {@link #builder()}; invalid input fails in {@link Builder#build()} with an
 * {@link IllegalArgumentException} that names the field.
 *
 * <p>The names follow the OCI runtime-spec {@code config.json} where they fit
 * ({@code process.args}, {@code process.cwd}, {@code hostname}, {@code process.rlimits},
 * {@code linux.maskedPaths}, ...).
 */
public final class ContainerSpec {

    /** Docker's and runc's default masked paths. */
    public static final List<String> DEFAULT_MASKED_PATHS = List.of(
            "/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
            "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
            "/sys/devices/virtual/powercap");

    /** Docker's and runc's default read-only paths. */
    public static final List<String> DEFAULT_READONLY_PATHS = List.of(
            "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger");

    private static final Pattern HOSTNAME = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9.-]{0,62})?");

    /** A name in /etc/hosts or a search domain: labels of letters, digits, '-' and '_', joined by '.'. */
    private static final Pattern DOMAIN = Pattern.compile("[A-Za-z0-9_]([A-Za-z0-9_-]*)(\\.[A-Za-z0-9_]([A-Za-z0-9_-]*))*");
    private static final Pattern MAC = Pattern.compile("[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}");
    private static final Pattern DNS_OPTION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:+-]{0,63}");

    private final Path rootfs;
    private final String image;
    private final Optional<List<String>> entrypoint;
    private final List<String> command;
    private final Map<String, String> env;
    private final Optional<String> workingDir;
    private final Optional<String> user;
    private final Optional<String> hostname;
    private final List<Rlimit> rlimits;
    private final Set<Capability> capabilities;
    private final boolean noNewPrivileges;
    private final Seccomp seccomp;
    private final boolean readonlyRootfs;
    private final Set<Namespace> namespaces;
    private final List<String> maskedPaths;
    private final List<String> readonlyPaths;
    private final Stdio stdin;
    private final Stdio stdout;
    private final Stdio stderr;
    private final Resources resources;
    private final List<Device> devices;
    private final List<Mount> mounts;
    private final boolean tty;
    private final TerminalSize consoleSize;
    private final List<ExtraHost> extraHosts;
    private final List<String> dns;
    private final List<String> dnsSearch;
    private final List<String> dnsOptions;
    // networking (docs/api.md, "Networking")
    private final NetworkMode network;
    private final List<PortMapping> ports;
    private final List<String> networkAliases;
    private final Optional<String> ipAddress;
    private final Optional<String> macAddress;
    private final boolean detached;
    private final boolean autoRemove;
    private final LogConfig logging;
    private final RestartPolicy restart;
    private final Optional<HealthCheck> healthCheck;
    private final boolean healthCheckDisabled;
    private final UnhealthyAction onUnhealthy;
    private final UserNamespace userNamespace;

    private ContainerSpec(Builder b) {
        this.rootfs = b.rootfs;
        this.image = b.image;
        this.entrypoint = Optional.ofNullable(b.entrypoint).map(List::copyOf);
        this.command = List.copyOf(b.command);
        this.env = Collections.unmodifiableMap(new LinkedHashMap<>(b.env));
        this.workingDir = Optional.ofNullable(b.workingDir);
        this.user = Optional.ofNullable(b.user);
        this.hostname = Optional.ofNullable(b.hostname);
        this.rlimits = List.copyOf(b.rlimits.values());
        this.capabilities = Collections.unmodifiableSet(EnumSet.copyOf(b.capabilities.isEmpty()
                ? EnumSet.noneOf(Capability.class) : b.capabilities));
        this.noNewPrivileges = b.noNewPrivileges;
        this.seccomp = b.seccomp;
        this.readonlyRootfs = b.readonlyRootfs;
        this.namespaces = Collections.unmodifiableSet(EnumSet.copyOf(b.namespaces));
        this.maskedPaths = List.copyOf(b.maskedPaths);
        this.readonlyPaths = List.copyOf(b.readonlyPaths);
        this.stdin = b.stdin;   // null where not set: the defaults below
        this.stdout = b.stdout;
        this.stderr = b.stderr;
        this.resources = b.resources;
        this.devices = List.copyOf(b.devices.values());
        this.mounts = List.copyOf(b.mounts);
        this.tty = b.tty;
        this.consoleSize = b.consoleSize;
        this.extraHosts = List.copyOf(b.extraHosts);
        this.dns = List.copyOf(b.dns);
        this.dnsSearch = List.copyOf(b.dnsSearch);
        this.dnsOptions = List.copyOf(b.dnsOptions);
        this.network = b.network;
        this.ports = List.copyOf(b.ports);
        this.networkAliases = List.copyOf(b.networkAliases);
        this.ipAddress = Optional.ofNullable(b.ipAddress);
        this.macAddress = Optional.ofNullable(b.macAddress);
        this.detached = b.detached;
        this.autoRemove = b.autoRemove;
        this.logging = b.logging;
        this.restart = b.restart;
        this.healthCheck = Optional.ofNullable(b.healthCheck);
        this.healthCheckDisabled = b.healthCheckDisabled;
        this.onUnhealthy = b.onUnhealthy;
        this.userNamespace = b.userNamespace;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.rootfs = rootfs;
        b.image = image;
        b.entrypoint = entrypoint.map(ArrayList::new).orElse(null);
        b.command = new ArrayList<>(command);
        b.env = new LinkedHashMap<>(env);
        b.workingDir = workingDir.orElse(null);
        b.user = user.orElse(null);
        b.hostname = hostname.orElse(null);
        rlimits.forEach(r -> b.rlimits.put(r.type(), r));
        b.capabilities = capabilities.isEmpty() ? EnumSet.noneOf(Capability.class) : EnumSet.copyOf(capabilities);
        b.noNewPrivileges = noNewPrivileges;
        b.seccomp = seccomp;
        b.readonlyRootfs = readonlyRootfs;
        b.namespaces = EnumSet.copyOf(namespaces);
        b.maskedPaths = new ArrayList<>(maskedPaths);
        b.readonlyPaths = new ArrayList<>(readonlyPaths);
        b.stdin = stdin;
        b.stdout = stdout;
        b.stderr = stderr;
        b.resources = resources;
        devices.forEach(d -> b.devices.put(d.path(), d));
        b.mounts.addAll(mounts);
        b.tty = tty;
        b.consoleSize = consoleSize;
        b.extraHosts = new ArrayList<>(extraHosts);
        b.dns = new ArrayList<>(dns);
        b.dnsSearch = new ArrayList<>(dnsSearch);
        b.dnsOptions = new ArrayList<>(dnsOptions);
        b.network = network;
        b.ports = new ArrayList<>(ports);
        b.networkAliases = new ArrayList<>(networkAliases);
        b.ipAddress = ipAddress.orElse(null);
        b.macAddress = macAddress.orElse(null);
        b.detached = detached;
        b.autoRemove = autoRemove;
        b.logging = logging;
        b.loggingSet = logging != null && !(detached && logging == LogConfig.DEFAULT);
        b.restart = restart;
        b.healthCheck = healthCheck.orElse(null);
        b.healthCheckDisabled = healthCheckDisabled;
        b.onUnhealthy = onUnhealthy;
        b.userNamespace = userNamespace;
        return b;
    }

    /**
     * Whether the container outlives the JVM that started it (docker's {@code run -d}): its monitor keeps
     * it, captures its output ({@link #logging()}) and records how it ended, with or without a JVM
     * attached; {@link Container#close()} then only lets go of the handle, and a later runtime on the
     * same state root finds it ({@link ContainerRuntime#container(String)}).
     */
    public boolean detached() {
        return detached;
    }

    /**
     * docker's {@code --rm} for a detached container: once it ended, whoever sees it first removes it
     * (its state, writable layer and logs). An attached container is removed by its {@code close()}.
     */
    public boolean autoRemove() {
        return autoRemove;
    }

    /**
     * How its stdout and stderr are captured to log files ({@link Container#logs}): set by
     * {@link Builder#logging}, and {@link LogConfig#DEFAULT} for a detached container whose stdout and
     * stderr are left unset.
     */
    public Optional<LogConfig> logging() {
        return Optional.ofNullable(logging);
    }

    /** The container's root directory on the host, when it runs on a directory rather than an image. */
    public Optional<Path> rootfs() {
        return Optional.ofNullable(rootfs);
    }

    /** The image reference ({@code name[:tag]}) whose layers make the root, when it runs an image. */
    public Optional<String> image() {
        return Optional.ofNullable(image);
    }

    /** Replaces the image's Entrypoint (Docker semantics: the image's Cmd is then dropped too). */
    public Optional<List<String>> entrypoint() {
        return entrypoint;
    }

    /**
     * {@code process.args}: the target's argv after the entrypoint; argv[0] is looked up in the
     * container's PATH. With an image, empty means the image's Cmd.
     */
    public List<String> command() {
        return command;
    }

    /** {@code process.env}, in insertion order. */
    public Map<String, String> env() {
        return env;
    }

    /** {@code process.cwd}: an absolute path inside the container; the image's WorkingDir or "/" when empty. */
    public Optional<String> workingDir() {
        return workingDir;
    }

    /**
     * {@code user[:group]}, by number or by name from the root's /etc/passwd and /etc/group; the
     * image's User or root when empty.
     */
    public Optional<String> user() {
        return user;
    }

    /** The UTS hostname; the container id when empty. */
    public Optional<String> hostname() {
        return hostname;
    }

    public List<Rlimit> rlimits() {
        return rlimits;
    }

    /** The capability set of the target (bounding; also effective and permitted when it runs as uid 0). */
    public Set<Capability> capabilities() {
        return capabilities;
    }

    public boolean noNewPrivileges() {
        return noNewPrivileges;
    }

    /** The seccomp filter: {@link Seccomp#defaultProfile()} unless set. */
    public Seccomp seccomp() {
        return seccomp;
    }

    public boolean readonlyRootfs() {
        return readonlyRootfs;
    }

    public Set<Namespace> namespaces() {
        return namespaces;
    }

    public List<String> maskedPaths() {
        return maskedPaths;
    }

    public List<String> readonlyPaths() {
        return readonlyPaths;
    }

    /** Where the target's stdin comes from; not used with {@link #tty()}, where it is the terminal. */
    public Stdio stdin() {
        return stdin != null ? stdin : Stdio.discard();
    }

    /**
     * Where the target's stdout goes; not used with {@link #tty()}, where it is the terminal, nor with
     * {@link #logging()}, where it is captured. Unset: the JVM's, or nowhere for a detached container.
     */
    public Stdio stdout() {
        return stdout != null ? stdout : detached || logging != null ? Stdio.discard() : Stdio.inherit();
    }

    /** Where the target's stderr goes; as {@link #stdout()}. */
    public Stdio stderr() {
        return stderr != null ? stderr : detached || logging != null ? Stdio.discard() : Stdio.inherit();
    }

    /**
     * {@code process.terminal}: the container gets a pseudo-terminal of its own devpts instance
     * ({@code /dev/pts/0}, also bound on {@code /dev/console}) as the target's stdin, stdout, stderr
     * and controlling terminal; {@link Container#stdin()} and {@link Container#stdout()} are its
     * master's two directions.
     */
    public boolean tty() {
        return tty;
    }

    /** {@code process.consoleSize}: the size the terminal starts with ({@link TerminalSize#DEFAULT} unless set). */
    public TerminalSize consoleSize() {
        return consoleSize;
    }

    /**
     * cgroup limits ({@code linux.resources}). None by default, except that the runtime applies a
     * pids limit of {@link ContainerRuntime#DEFAULT_PIDS_LIMIT} unless this sets one ({@code -1}:
     * none), and a device policy (see {@link #devices()}) that {@link Resources#devices()} rules amend.
     */
    public Resources resources() {
        return resources;
    }

    /**
     * Device nodes granted beyond the defaults ({@code /dev/null}, {@code zero}, {@code full},
     * {@code random}, {@code urandom}, {@code tty}, and the container's own pseudo-terminals): OCI
     * {@code linux.devices}. Every other device stays closed, whether the container makes its node
     * or the image ships it.
     */
    public List<Device> devices() {
        return devices;
    }

    /**
     * OCI {@code mounts}: bind mounts, named volumes and tmpfs mounts, mounted after the container's
     * own {@code /proc}, {@code /sys} and {@code /dev}, parents before children.
     */
    public List<Mount> mounts() {
        return mounts;
    }

    /**
     * Lines added to the container's generated {@code /etc/hosts} (docker {@code --add-host}), after
     * {@code localhost} and before the container's own host name.
     */
    public List<ExtraHost> extraHosts() {
        return extraHosts;
    }

    /**
     * The name servers of the container's {@code /etc/resolv.conf} (docker {@code --dns}); empty: the
     * host's, without loopback ones when the container has its own network namespace.
     */
    public List<String> dns() {
        return dns;
    }

    /**
     * The search domains of the container's {@code /etc/resolv.conf} (docker {@code --dns-search});
     * empty: the host's; {@code "."} alone: none.
     */
    public List<String> dnsSearch() {
        return dnsSearch;
    }

    /** The {@code options} of the container's {@code /etc/resolv.conf} (docker {@code --dns-option}); empty: the host's. */
    public List<String> dnsOptions() {
        return dnsOptions;
    }

    /** When the container is started again after it ended ({@link RestartPolicy#no()} unless set). */
    public RestartPolicy restart() {
        return restart;
    }

    /**
     * How its health is checked; when empty, the image's {@code Healthcheck} applies (for a container
     * of an image that has one).
     */
    public Optional<HealthCheck> healthCheck() {
        return healthCheck;
    }

    /**
     * docker's {@code --no-healthcheck}: no health check at all, not even the image's {@code Healthcheck}
     * ({@link #healthCheck()} is then empty).
     */
    public boolean healthCheckDisabled() {
        return healthCheckDisabled;
    }

    /** What happens when it becomes unhealthy ({@link UnhealthyAction#NONE}, report only, unless set). */
    public UnhealthyAction onUnhealthy() {
        return onUnhealthy;
    }

    /**
     * The container's user namespace: {@link UserNamespace#host()} (the default) shares the host's
     * ids; a mapped one makes the container's root an unprivileged id on the host.
     */
    public UserNamespace userNamespace() {
        return userNamespace;
    }

    /**
     * The network the container is on: {@link NetworkMode#none()} (loopback only) unless set;
     * {@link NetworkMode#host()} when the network namespace is shared with {@code shareNamespace}.
     */
    public NetworkMode network() {
        return network;
    }

    /** Published ports (docker {@code -p}); a host port of 0 is chosen when the container starts. */
    public List<PortMapping> ports() {
        return ports;
    }

    /** Further names the container answers to on its user network (docker {@code --network-alias}). */
    public List<String> networkAliases() {
        return networkAliases;
    }

    /** The address asked of the network's address management (docker {@code --ip}); any free one when empty. */
    public Optional<String> ipAddress() {
        return ipAddress;
    }

    /** The MAC address of the container's interface (docker {@code --mac-address}); a random one when empty. */
    public Optional<String> macAddress() {
        return macAddress;
    }

    @Override
    public String toString() {
        return "ContainerSpec{" + (image != null ? "image=" + image : "rootfs=" + rootfs) + ", command=" + command
                + ", user=" + user.orElse("") + ", cwd=" + workingDir.orElse("") + "}";
    }

    /** Builds a {@link ContainerSpec}. Not thread-safe. */
    public static final class Builder {
        private Path rootfs;
        private String image;
        private List<String> entrypoint;
        private List<String> command = new ArrayList<>();
        private Map<String, String> env = new LinkedHashMap<>();
        private String workingDir;
        private String user;
        private String hostname;
        private final Map<Rlimit.Type, Rlimit> rlimits = new LinkedHashMap<>();
        private Set<Capability> capabilities = Capability.dockerDefaults();
        private boolean noNewPrivileges = true;
        private Seccomp seccomp = Seccomp.defaultProfile();
        private boolean readonlyRootfs;
        private Set<Namespace> namespaces = EnumSet.allOf(Namespace.class);
        private List<String> maskedPaths = new ArrayList<>(DEFAULT_MASKED_PATHS);
        private List<String> readonlyPaths = new ArrayList<>(DEFAULT_READONLY_PATHS);
        private Stdio stdin;   // null: not set (discard; stdout and stderr: inherit)
        private Stdio stdout;
        private Stdio stderr;
        private Resources resources = Resources.none();
        private final Map<String, Device> devices = new LinkedHashMap<>();
        private final List<Mount> mounts = new ArrayList<>();
        private boolean tty;
        private TerminalSize consoleSize = TerminalSize.DEFAULT;
        private boolean detached;
        private boolean autoRemove;
        private LogConfig logging;
        private boolean loggingSet;
        private RestartPolicy restart = RestartPolicy.no();
        private HealthCheck healthCheck;
        private boolean healthCheckDisabled;
        private UnhealthyAction onUnhealthy = UnhealthyAction.NONE;
        private UserNamespace userNamespace = UserNamespace.host();

        private Builder() {}

        /** See {@link ContainerSpec#detached()}. */
        public Builder detached(boolean on) {
            this.detached = on;
            return this;
        }

        /** See {@link ContainerSpec#autoRemove()}; needs {@link #detached(boolean)}. */
        public Builder autoRemove(boolean on) {
            this.autoRemove = on;
            return this;
        }

        /**
         * Captures stdout and stderr to rotated log files ({@link Container#logs}) instead of
         * {@link #stdout}/{@link #stderr}, which must then be left unset.
         */
        public Builder logging(LogConfig config) {
            this.logging = Objects.requireNonNull(config, "logging");
            this.loggingSet = true;
            return this;
        }

        /** docker's {@code --restart}; see {@link RestartPolicy}. */
        public Builder restart(RestartPolicy policy) {
            this.restart = Objects.requireNonNull(policy, "restart");
            return this;
        }

        /** docker's {@code --health-*}; null: none of its own (the image's applies, if any). */
        public Builder healthCheck(HealthCheck check) {
            this.healthCheck = check;
            if (check != null) {
                this.healthCheckDisabled = false;
            }
            return this;
        }

        /** docker's {@code --no-healthcheck}: no check, not even the image's (clears {@link #healthCheck}). */
        public Builder noHealthCheck() {
            this.healthCheck = null;
            this.healthCheckDisabled = true;
            return this;
        }

        /** podman's {@code --health-on-failure}. */
        /** See {@link ContainerSpec#userNamespace()}. */
        public Builder userNamespace(UserNamespace ns) {
            this.userNamespace = Objects.requireNonNull(ns, "userNamespace");
            return this;
        }

        public Builder onUnhealthy(UnhealthyAction action) {
            this.onUnhealthy = Objects.requireNonNull(action, "onUnhealthy");
            return this;
        }

        /** Adds a mount (see {@link Mount}). */
        public Builder mount(Mount mount) {
            mounts.add(Objects.requireNonNull(mount, "mounts"));
            return this;
        }

        /** Replaces every mount. */
        public Builder mounts(List<Mount> list) {
            mounts.clear();
            list.forEach(this::mount);
            return this;
        }

        private List<ExtraHost> extraHosts = new ArrayList<>();
        private List<String> dns = new ArrayList<>();
        private List<String> dnsSearch = new ArrayList<>();
        private List<String> dnsOptions = new ArrayList<>();
        private NetworkMode network = NetworkMode.none();
        private List<PortMapping> ports = new ArrayList<>();
        private List<String> networkAliases = new ArrayList<>();
        private String ipAddress;
        private String macAddress;

        /** The network the container is on (see {@link NetworkMode}). */
        public Builder network(NetworkMode mode) {
            this.network = Objects.requireNonNull(mode, "network");
            return this;
        }

        /** Docker's spelling: {@code none}, {@code host}, {@code bridge}, {@code container:ID} or a network's name. */
        public Builder network(String mode) {
            return network(NetworkMode.parse(mode));
        }

        /** Publishes a port (docker {@code -p}); see {@link PortMapping#parse}. */
        public Builder publish(PortMapping port) {
            ports.add(Objects.requireNonNull(port, "ports"));
            return this;
        }

        /** Publishes a port in docker's spelling, {@code [hostIP:][hostPort:]containerPort[/proto]}. */
        public Builder publish(String port) {
            try {
                return publish(PortMapping.parse(port));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("ports[" + ports.size() + "]: " + e.getMessage(), e);
            }
        }

        /** Replaces every published port. */
        public Builder ports(List<PortMapping> list) {
            this.ports = new ArrayList<>(list);
            return this;
        }

        /** Adds names the container answers to on its user network (docker {@code --network-alias}). */
        public Builder networkAlias(String... aliases) {
            networkAliases.addAll(Arrays.asList(aliases));
            return this;
        }

        /** Replaces every network alias. */
        public Builder networkAliases(List<String> aliases) {
            this.networkAliases = new ArrayList<>(aliases);
            return this;
        }

        /** Asks for this address on the network (docker {@code --ip}); null for any free one. */
        public Builder ipAddress(String address) {
            this.ipAddress = address;
            return this;
        }

        /** The interface's MAC address (docker {@code --mac-address}); null for a random one. */
        public Builder macAddress(String mac) {
            this.macAddress = mac;
            return this;
        }

        /** Adds a line {@code address name} to the container's {@code /etc/hosts} (docker {@code --add-host name:address}). */
        public Builder addHost(String name, String address) {
            extraHosts.add(new ExtraHost(name, address));
            return this;
        }

        /** Replaces every extra host. */
        public Builder extraHosts(List<ExtraHost> hosts) {
            this.extraHosts = new ArrayList<>(hosts);
            return this;
        }

        /** The name servers of the container's {@code /etc/resolv.conf}, replacing the host's (docker {@code --dns}). */
        public Builder dns(List<String> servers) {
            this.dns = new ArrayList<>(servers);
            return this;
        }

        public Builder dns(String... servers) {
            return dns(Arrays.asList(servers));
        }

        /** The search domains, replacing the host's; {@code "."} alone for none (docker {@code --dns-search}). */
        public Builder dnsSearch(List<String> domains) {
            this.dnsSearch = new ArrayList<>(domains);
            return this;
        }

        public Builder dnsSearch(String... domains) {
            return dnsSearch(Arrays.asList(domains));
        }

        /** Resolver options such as {@code ndots:2}, replacing the host's (docker {@code --dns-option}). */
        public Builder dnsOptions(List<String> options) {
            this.dnsOptions = new ArrayList<>(options);
            return this;
        }

        public Builder dnsOptions(String... options) {
            return dnsOptions(Arrays.asList(options));
        }

        /** Runs on a root directory of the host (exclusive with {@link #image(String)}). */
        public Builder rootfs(Path rootfs) {
            this.rootfs = rootfs;
            return this;
        }

        /** Runs an image from the runtime's image store on an overlay root (exclusive with {@link #rootfs(Path)}). */
        public Builder image(String reference) {
            this.image = reference;
            return this;
        }

        public Builder entrypoint(List<String> entrypoint) {
            this.entrypoint = entrypoint == null ? null : new ArrayList<>(entrypoint);
            return this;
        }

        public Builder entrypoint(String... entrypoint) {
            return entrypoint(List.of(entrypoint));
        }

        public Builder resources(Resources resources) {
            this.resources = Objects.requireNonNull(resources, "resources");
            return this;
        }

        /** Grants a device; a later one at the same path replaces the earlier. */
        public Builder device(Device device) {
            devices.put(Objects.requireNonNull(device, "devices").path(), device);
            return this;
        }

        /** Replaces every granted device. */
        public Builder devices(List<Device> list) {
            devices.clear();
            list.forEach(this::device);
            return this;
        }

        public Builder command(List<String> command) {
            this.command = new ArrayList<>(Objects.requireNonNull(command, "command"));
            return this;
        }

        public Builder command(String... command) {
            return command(List.of(command));
        }

        public Builder env(String key, String value) {
            env.put(key, value);
            return this;
        }

        public Builder env(Map<String, String> variables) {
            env.putAll(variables);
            return this;
        }

        public Builder workingDir(String dir) {
            this.workingDir = dir;
            return this;
        }

        public Builder user(String user) {
            this.user = user;
            return this;
        }

        public Builder user(long uid, long gid) {
            return user(uid + ":" + gid);
        }

        public Builder hostname(String hostname) {
            this.hostname = hostname;
            return this;
        }

        /** Sets a resource limit; a later call for the same type replaces the earlier. */
        public Builder rlimit(Rlimit.Type type, long soft, long hard) {
            rlimits.put(type, Rlimit.of(type, soft, hard));
            return this;
        }

        public Builder addCapabilities(Capability... caps) {
            capabilities.addAll(List.of(caps));
            return this;
        }

        public Builder dropCapabilities(Capability... caps) {
            capabilities.removeAll(List.of(caps));
            return this;
        }

        /** Replaces the whole set (the Docker default set otherwise). */
        public Builder capabilities(Collection<Capability> caps) {
            capabilities = caps.isEmpty() ? EnumSet.noneOf(Capability.class) : EnumSet.copyOf(caps);
            return this;
        }

        /** The seccomp filter: the default profile, {@link Seccomp#unconfined()}, or a profile of one's own. */
        public Builder seccomp(Seccomp seccomp) {
            this.seccomp = Objects.requireNonNull(seccomp, "seccomp");
            return this;
        }

        public Builder noNewPrivileges(boolean on) {
            this.noNewPrivileges = on;
            return this;
        }

        public Builder readonlyRootfs(boolean on) {
            this.readonlyRootfs = on;
            return this;
        }

        /** Shares the given namespace with the host instead of creating a new one. */
        public Builder shareNamespace(Namespace ns) {
            namespaces.remove(ns);
            return this;
        }

        public Builder maskedPaths(List<String> paths) {
            this.maskedPaths = new ArrayList<>(paths);
            return this;
        }

        public Builder readonlyPaths(List<String> paths) {
            this.readonlyPaths = new ArrayList<>(paths);
            return this;
        }

        public Builder stdin(Stdio stdio) {
            this.stdin = Objects.requireNonNull(stdio, "stdin");
            return this;
        }

        public Builder stdout(Stdio stdio) {
            this.stdout = Objects.requireNonNull(stdio, "stdout");
            return this;
        }

        public Builder stderr(Stdio stdio) {
            this.stderr = Objects.requireNonNull(stdio, "stderr");
            return this;
        }

        /**
         * Gives the container a pseudo-terminal (docker's {@code -t}) as its stdio and controlling
         * terminal; stdin, stdout and stderr must then be left unset.
         */
        public Builder tty(boolean on) {
            this.tty = on;
            return this;
        }

        /** The size the terminal starts with (with {@link #tty(boolean)}); resize it with {@link Container#resizeTerminal}. */
        public Builder consoleSize(int columns, int rows) {
            this.consoleSize = new TerminalSize(columns, rows);
            return this;
        }

        public ContainerSpec build() {
            if (seccomp.listener().isPresent() && !noNewPrivileges) {
                // without no_new_privs the filter loads before the capability drop, and every step after it
                // (setuid, capset, ...) would have to pass a listener that has no fd yet
                throw new IllegalArgumentException("seccomp: a listener needs noNewPrivileges (the default)");
            }
            if ((rootfs == null) == (image == null)) {
                throw new IllegalArgumentException("rootfs: exactly one of rootfs and image must be set");
            }
            if (rootfs != null && !rootfs.isAbsolute()) {
                rootfs = rootfs.toAbsolutePath();
            }
            if (image != null && (image.isBlank() || image.indexOf('\0') >= 0)) {
                throw new IllegalArgumentException("image: \"" + image + "\" is not an image reference");
            }
            if (rootfs != null && command.isEmpty() && (entrypoint == null || entrypoint.isEmpty())) {
                throw new IllegalArgumentException("command: must not be empty");
            }
            checkArgv("command", command);
            if (entrypoint != null) {
                checkArgv("entrypoint", entrypoint);
            }
            SpecChecks.checkEnv(env);
            if (workingDir != null) {
                requireAbsolute("workingDir", workingDir);
            }
            if (user != null && !SpecChecks.USER.matcher(user).matches()) {
                throw new IllegalArgumentException("user: expected user[:group] by name or number, got \"" + user + "\"");
            }
            if (hostname != null && !HOSTNAME.matcher(hostname).matches()) {
                throw new IllegalArgumentException("hostname: \"" + hostname
                        + "\" is not a valid host name (letters, digits, '-' and '.', at most 64)");
            }
            if (hostname != null && !namespaces.contains(Namespace.UTS)) {
                throw new IllegalArgumentException("hostname: needs the container's own UTS namespace");
            }
            if (!namespaces.contains(Namespace.MOUNT)) {
                throw new IllegalArgumentException("namespaces: the mount namespace cannot be shared");
            }
            maskedPaths.forEach(p -> requireAbsolute("maskedPaths", p));
            readonlyPaths.forEach(p -> requireAbsolute("readonlyPaths", p));
            String stdioSet = stdin != null ? "stdin" : stdout != null ? "stdout" : stderr != null ? "stderr" : null;
            if (tty && stdioSet != null) {
                throw new IllegalArgumentException(stdioSet + ": a container with a terminal (tty) has it as stdin,"
                        + " stdout and stderr; Container.stdin() and stdout() are its two directions");
            }
            if (stdin != null && stdin.kind() == Stdio.Kind.APPEND) {
                throw new IllegalArgumentException("stdin: cannot append to standard input");
            }
            checkOutputCapture();
            checkMounts(mounts);
            checkResolverSettings();
            checkNetwork();
            return new ContainerSpec(this);
        }

        /**
         * Captured output and stdout/stderr exclude each other; a detached container has nothing that
         * ends with the JVM (its pipes, its own stdio, a terminal whose master the JVM holds).
         */
        private void checkOutputCapture() {
            if (!loggingSet) {
                logging = detached && stdout == null && stderr == null && !tty ? LogConfig.DEFAULT : null;
            }
            if (logging != null) {
                String set = stdout != null ? "stdout" : stderr != null ? "stderr" : tty ? "tty" : null;
                if (set != null) {
                    throw new IllegalArgumentException(set + ": the container's output is captured to its log"
                            + " (logging); leave stdout and stderr unset");
                }
            }
            if (detached) {
                if (tty) {
                    throw new IllegalArgumentException("tty: a detached container outlives the JVM that would hold"
                            + " its terminal's master; run it without a terminal (its output goes to its log)");
                }
                for (Map.Entry<String, Stdio> e : new java.util.TreeMap<>(Map.of("stdin",
                        stdin == null ? Stdio.discard() : stdin, "stdout", stdout == null ? Stdio.discard() : stdout,
                        "stderr", stderr == null ? Stdio.discard() : stderr)).entrySet()) {
                    Stdio.Kind k = e.getValue().kind();
                    if (k == Stdio.Kind.PIPE || k == Stdio.Kind.INHERIT) {
                        throw new IllegalArgumentException(e.getKey() + ": a detached container outlives the JVM,"
                                + " so it cannot have the JVM's " + (k == Stdio.Kind.PIPE ? "pipe" : "own stream")
                                + "; leave it unset (output: captured to its log) or use a file");
                    }
                }
                if (autoRemove && !restart.equals(RestartPolicy.no())) {
                    throw new IllegalArgumentException("autoRemove: a container that restarts is never removed at"
                            + " its exit (docker: conflicting options --restart and --rm)");
                }
            } else if (autoRemove) {
                throw new IllegalArgumentException("autoRemove: only for a detached container (an attached one is"
                        + " removed by its close())");
            }
        }

        /** Destinations absolute and normalised, none twice, none the root or its own mounts; sources and options valid. */
        private static void checkMounts(List<Mount> mounts) {
            Map<String, Integer> seen = new HashMap<>();
            for (int i = 0; i < mounts.size(); i++) {
                Mount m = mounts.get(i);
                String f = "mounts[" + i + "]";
                String d = m.destination();
                if (!d.startsWith("/") || d.indexOf('\0') >= 0 || (d.length() > 1 && d.endsWith("/")) || d.contains("//")
                        || d.contains("/./") || d.endsWith("/.") || d.contains("/../") || d.endsWith("/..")) {
                    throw new IllegalArgumentException(f + ".destination: \"" + d
                            + "\" must be an absolute, normalised path (no \".\", \"..\", \"//\" or trailing \"/\")");
                }
                if (List.of("/", "/proc", "/sys", "/dev").contains(d)) {
                    throw new IllegalArgumentException(f + ".destination: cannot mount over " + d
                            + " itself (the container's own root and system mounts)");
                }
                if (d.startsWith("/proc/") && !Mount.PROCFS_DESTINATIONS.contains(d)) {
                    throw new IllegalArgumentException(f + ".destination: " + d + " is inside the container's /proc;"
                            + " only " + String.join(", ", new java.util.TreeSet<>(Mount.PROCFS_DESTINATIONS))
                            + " may be mounted over there");
                }
                Integer earlier = seen.putIfAbsent(d, i);
                if (earlier != null) {
                    throw new IllegalArgumentException(f + ".destination: " + d + " is mounts[" + earlier + "]'s too");
                }
                String src = m.source();
                switch (m.type()) {
                    case BIND -> {
                        if (!src.startsWith("/") || src.indexOf('\0') >= 0) {
                            throw new IllegalArgumentException(f + ".source: \"" + src + "\" must be an absolute host path");
                        }
                    }
                    case VOLUME -> {
                        if (!Volumes.NAME.matcher(src).matches()) {
                            throw new IllegalArgumentException(f + ".source: \"" + src + "\" is not a volume name ("
                                    + Volumes.NAME.pattern() + ")");
                        }
                    }
                    case TMPFS -> {
                        if (!src.isEmpty() && !src.equals("tmpfs")) {
                            throw new IllegalArgumentException(f + ".source: a tmpfs has no source, got \"" + src + "\"");
                        }
                    }
                    default -> throw new IllegalArgumentException(f + ".type: " + m.type());
                }
                try {
                    MountOptions.parse(m.type(), m.options());
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(f + ".options: " + e.getMessage(), e);
                }
            }
        }

        /**
         * The network mode agrees with the namespaces (sharing the host's network namespace is host
         * mode), and ports, aliases, address and MAC are asked only where a network gives them.
         */
        private void checkNetwork() {
            if (network.kind() == NetworkMode.Kind.HOST) {
                namespaces.remove(Namespace.NETWORK);
            } else if (!namespaces.contains(Namespace.NETWORK)) {
                if (network.kind() != NetworkMode.Kind.NONE) {
                    throw new IllegalArgumentException("network: " + network + " needs the container's own network"
                            + " namespace; shareNamespace(NETWORK) is the host's network (network \"host\")");
                }
                network = NetworkMode.host();
            }
            String needsNetwork = "needs the bridge or a user network (network is " + network + ")";
            String needsPublishing = "needs the bridge, a user network, pasta or slirp4netns (network is " + network + ")";
            Map<String, Integer> published = new HashMap<>();
            for (int i = 0; i < ports.size(); i++) {
                PortMapping p = ports.get(i);
                if (p == null) {
                    throw new IllegalArgumentException("ports[" + i + "]: must not be null");
                }
                if (!network.publishes()) {
                    throw new IllegalArgumentException("ports[" + i + "]: publishing " + p + " " + needsPublishing);
                }
                if (p.hostPort() != 0) {
                    Integer earlier = published.putIfAbsent(p.hostIp().getHostAddress() + " " + p.hostPort() + "/"
                            + p.protocol(), i);
                    if (earlier != null) {
                        throw new IllegalArgumentException("ports[" + i + "]: host port " + p.hostPort() + "/"
                                + p.protocol() + " is ports[" + earlier + "]'s too");
                    }
                }
            }
            for (int i = 0; i < networkAliases.size(); i++) {
                String a = networkAliases.get(i);
                if (a == null || a.length() > 63 || !HOSTNAME.matcher(a).matches() || a.endsWith(".")) {
                    throw new IllegalArgumentException("networkAliases[" + i + "]: \"" + a
                            + "\" is not a host name (letters, digits, '-' and '.', at most 63)");
                }
                if (network.kind() != NetworkMode.Kind.NETWORK) {
                    throw new IllegalArgumentException("networkAliases[" + i + "]: aliases need a user network"
                            + " (network is " + network + "; the default bridge has no name service)");
                }
            }
            if (ipAddress != null) {
                if (!IpLiteral.isValid(ipAddress)) {
                    throw new IllegalArgumentException("ipAddress: \"" + ipAddress + "\" is not an IPv4 or IPv6 address");
                }
                if (!network.attaches()) {
                    throw new IllegalArgumentException("ipAddress: " + needsNetwork);
                }
            }
            if (macAddress != null) {
                if (!MAC.matcher(macAddress).matches()) {
                    throw new IllegalArgumentException("macAddress: \"" + macAddress
                            + "\" is not a MAC address (six hex pairs separated by ':')");
                }
                if ((Integer.parseInt(macAddress.substring(0, 2), 16) & 1) != 0) {
                    throw new IllegalArgumentException("macAddress: " + macAddress + " is a multicast address");
                }
                if (!network.attaches()) {
                    throw new IllegalArgumentException("macAddress: " + needsNetwork);
                }
            }
        }

        /** Nothing that reaches /etc/hosts or /etc/resolv.conf can break a line or start a comment there. */
        private void checkResolverSettings() {
            for (int i = 0; i < extraHosts.size(); i++) {
                ExtraHost h = extraHosts.get(i);
                if (h == null) {
                    throw new IllegalArgumentException("extraHosts[" + i + "]: must not be null");
                }
                if (!isDomain(h.name())) {
                    throw new IllegalArgumentException("extraHosts[" + i + "].name: \"" + h.name()
                            + "\" is not a host name (letters, digits, '-', '_' and '.', at most 253)");
                }
                if (!IpLiteral.isValid(h.address())) {
                    throw new IllegalArgumentException("extraHosts[" + i + "].address: \"" + h.address()
                            + "\" is not an IPv4 or IPv6 address");
                }
            }
            for (int i = 0; i < dns.size(); i++) {
                if (!IpLiteral.isValid(dns.get(i))) {
                    throw new IllegalArgumentException("dns[" + i + "]: \"" + dns.get(i) + "\" is not an IPv4 or IPv6 address");
                }
            }
            for (int i = 0; i < dnsSearch.size(); i++) {
                String d = dnsSearch.get(i);
                boolean none = ".".equals(d);
                if (none ? dnsSearch.size() > 1 : !isDomain(d == null || !d.endsWith(".") ? d : d.substring(0, d.length() - 1))) {
                    throw new IllegalArgumentException("dnsSearch[" + i + "]: \"" + d + "\" is not a domain name"
                            + (none ? " (\".\" means no search domains and stands alone)" : ""));
                }
            }
            for (int i = 0; i < dnsOptions.size(); i++) {
                String o = dnsOptions.get(i);
                if (o == null || !DNS_OPTION.matcher(o).matches()) {
                    throw new IllegalArgumentException("dnsOptions[" + i + "]: \"" + o
                            + "\" is not a resolver option (e.g. ndots:2, edns0, timeout:1)");
                }
            }
        }

        private static boolean isDomain(String name) {
            return name != null && name.length() <= 253 && DOMAIN.matcher(name).matches();
        }

        private static void checkArgv(String field, List<String> argv) {
            SpecChecks.checkArgv(field, argv);
            if (!argv.isEmpty() && argv.get(0).isEmpty()) {
                throw new IllegalArgumentException(field + "[0]: must not be empty");
            }
        }

        private static void requireAbsolute(String field, String path) {
            if (path == null || !path.startsWith("/") || path.indexOf('\0') >= 0) {
                throw new IllegalArgumentException(field + ": \"" + path + "\" must be an absolute path");
            }
            for (String part : path.split("/")) {
                if (part.equals("..")) {
                    throw new IllegalArgumentException(field + ": \"" + path + "\" must not contain \"..\"");
                }
            }
        }
    }
}
