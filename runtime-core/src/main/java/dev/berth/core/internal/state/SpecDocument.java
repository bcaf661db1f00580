package dev.berth.core.internal.state;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.berth.cgroups.DeviceRule;
import dev.berth.cgroups.DeviceThrottle;
import dev.berth.cgroups.Resources;
import dev.berth.core.Capability;
import dev.berth.core.ContainerSpec;
import dev.berth.core.Device;
import dev.berth.core.HealthCheck;
import dev.berth.core.RestartPolicy;
import dev.berth.core.UnhealthyAction;
import dev.berth.core.ExtraHost;
import dev.berth.core.Mount;
import dev.berth.core.Namespace;
import dev.berth.core.NetworkMode;
import dev.berth.core.Rlimit;
import dev.berth.core.Seccomp;
import dev.berth.core.Stdio;
import dev.berth.network.PortMapping;
import dev.berth.core.IdMapping;
import dev.berth.core.UserNamespace;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The wire form of a {@link ContainerSpec} in the state file, kept apart from the API value (Jib's
 * template rule): renaming a field of the API never changes what earlier state files mean. Every
 * value is written, defaults included, so a spec read back is the spec that ran even after a
 * default changes. Reading goes through {@link ContainerSpec.Builder}, so a file edited into an
 * invalid spec fails as a caller's spec would, naming the field.
 *
 * <pre>{@code
 * {"version":1,"image":"busybox:1.36","command":["sh","-c","echo hi"],"env":{"A":"1"},
 *  "capabilities":["CHOWN",...],"noNewPrivileges":true,"readonlyRootfs":false,
 *  "namespaces":["MOUNT","PID","UTS","IPC","NETWORK","CGROUP"],"maskedPaths":[...],
 *  "readonlyPaths":[...],"stdin":{"kind":"NULL"},"stdout":{"kind":"INHERIT"},
 *  "stderr":{"kind":"INHERIT"},"resources":{"memoryMax":67108864,...},"devices":[],"mounts":[],
 *  "tty":false,"consoleSize":{"columns":80,"rows":24},"extraHosts":[],"dns":[],"dnsSearch":[],
 *  "dnsOptions":[],"seccomp":{"kind":"default"}}
 * }</pre>
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SpecDocument(int version, String rootfs, String image, List<String> entrypoint, List<String> command,
        Map<String, String> env, String workingDir, String user, String hostname, List<RlimitDoc> rlimits,
        List<String> capabilities, boolean noNewPrivileges, boolean readonlyRootfs, List<String> namespaces,
        List<String> maskedPaths, List<String> readonlyPaths, StdioDoc stdin, StdioDoc stdout, StdioDoc stderr,
        ResourcesDoc resources, List<DeviceDoc> devices, List<MountDoc> mounts, boolean tty, SizeDoc consoleSize,
        List<HostDoc> extraHosts, List<String> dns, List<String> dnsSearch, List<String> dnsOptions,
        SeccompDoc seccomp, SupervisionDoc supervision, Boolean detached, Boolean autoRemove, LogDoc logging,
        NetworkDoc network, UserNsDoc userNamespace) {

    /** A document without a user namespace (written before them): the host's. */
    public SpecDocument(int version, String rootfs, String image, List<String> entrypoint, List<String> command,
            Map<String, String> env, String workingDir, String user, String hostname, List<RlimitDoc> rlimits,
            List<String> capabilities, boolean noNewPrivileges, boolean readonlyRootfs, List<String> namespaces,
            List<String> maskedPaths, List<String> readonlyPaths, StdioDoc stdin, StdioDoc stdout, StdioDoc stderr,
            ResourcesDoc resources, List<DeviceDoc> devices, List<MountDoc> mounts, boolean tty, SizeDoc consoleSize,
            List<HostDoc> extraHosts, List<String> dns, List<String> dnsSearch, List<String> dnsOptions,
            SeccompDoc seccomp, SupervisionDoc supervision, Boolean detached, Boolean autoRemove, LogDoc logging,
            NetworkDoc network) {
        this(version, rootfs, image, entrypoint, command, env, workingDir, user, hostname, rlimits, capabilities,
                noNewPrivileges, readonlyRootfs, namespaces, maskedPaths, readonlyPaths, stdin, stdout, stderr,
                resources, devices, mounts, tty, consoleSize, extraHosts, dns, dnsSearch, dnsOptions, seccomp,
                supervision, detached, autoRemove, logging, network, null);
    }

    /**
     * The container's user namespace; absent for the host's (and in a state written before them).
     *
     * @param mode     {@code mapped} or {@code auto}
     * @param uidMap   {@code CONTAINER:HOST:SIZE} per line (mapped)
     * @param gidMap   likewise
     * @param autoSize the fixed size of an automatic range, or null
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record UserNsDoc(String mode, List<String> uidMap, List<String> gidMap, Long autoSize) {
        static UserNsDoc of(UserNamespace ns) {
            return switch (ns.mode()) {
                case HOST -> null;
                case MAPPED -> new UserNsDoc("mapped", ns.uidMap().stream().map(IdMapping::toString).toList(),
                        ns.gidMap().stream().map(IdMapping::toString).toList(), null);
                case AUTO -> new UserNsDoc("auto", null, null,
                        ns.autoSize().isPresent() ? ns.autoSize().getAsLong() : null);
            };
        }

        UserNamespace toUserNamespace() {
            return switch (mode) {
                case "mapped" -> UserNamespace.of(list(uidMap).stream().map(IdMapping::parse).toList(),
                        list(gidMap).stream().map(IdMapping::parse).toList());
                case "auto" -> autoSize == null ? UserNamespace.auto() : UserNamespace.auto(autoSize);
                default -> throw new IllegalArgumentException("spec.userNamespace.mode: \"" + mode
                        + "\" is not mapped or auto");
            };
        }
    }

    /** A document without networking (written before it): {@code none}, or {@code host} by the namespaces. */
    public SpecDocument(int version, String rootfs, String image, List<String> entrypoint, List<String> command,
            Map<String, String> env, String workingDir, String user, String hostname, List<RlimitDoc> rlimits,
            List<String> capabilities, boolean noNewPrivileges, boolean readonlyRootfs, List<String> namespaces,
            List<String> maskedPaths, List<String> readonlyPaths, StdioDoc stdin, StdioDoc stdout, StdioDoc stderr,
            ResourcesDoc resources, List<DeviceDoc> devices, List<MountDoc> mounts, boolean tty, SizeDoc consoleSize,
            List<HostDoc> extraHosts, List<String> dns, List<String> dnsSearch, List<String> dnsOptions,
            SeccompDoc seccomp, SupervisionDoc supervision, Boolean detached, Boolean autoRemove, LogDoc logging) {
        this(version, rootfs, image, entrypoint, command, env, workingDir, user, hostname, rlimits, capabilities,
                noNewPrivileges, readonlyRootfs, namespaces, maskedPaths, readonlyPaths, stdin, stdout, stderr,
                resources, devices, mounts, tty, consoleSize, extraHosts, dns, dnsSearch, dnsOptions, seccomp,
                supervision, detached, autoRemove, logging, null);
    }

    /** The format this class writes; a reader refuses a newer one rather than misread it. */
    public static final int VERSION = 1;

    /** A document without supervision settings (as written before restart policies and health checks). */
    public SpecDocument(int version, String rootfs, String image, List<String> entrypoint, List<String> command,
            Map<String, String> env, String workingDir, String user, String hostname, List<RlimitDoc> rlimits,
            List<String> capabilities, boolean noNewPrivileges, boolean readonlyRootfs, List<String> namespaces,
            List<String> maskedPaths, List<String> readonlyPaths, StdioDoc stdin, StdioDoc stdout, StdioDoc stderr,
            ResourcesDoc resources, List<DeviceDoc> devices, List<MountDoc> mounts, boolean tty, SizeDoc consoleSize,
            List<HostDoc> extraHosts, List<String> dns, List<String> dnsSearch, List<String> dnsOptions,
            SeccompDoc seccomp) {
        this(version, rootfs, image, entrypoint, command, env, workingDir, user, hostname, rlimits, capabilities,
                noNewPrivileges, readonlyRootfs, namespaces, maskedPaths, readonlyPaths, stdin, stdout, stderr, resources,
                devices, mounts, tty, consoleSize, extraHosts, dns, dnsSearch, dnsOptions, seccomp, null, null, null, null, null);
    }

    /**
     * Restart policy (docker's spelling), health check and unhealthy action; absent when all are the
     * defaults (and in a state written before them).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record SupervisionDoc(String restart, HealthCheckDoc healthCheck, String onUnhealthy,
            Boolean noHealthCheck) {
        public SupervisionDoc(String restart, HealthCheckDoc healthCheck, String onUnhealthy) {
            this(restart, healthCheck, onUnhealthy, null);
        }
    }

    /**
     * {@code kind}: EXEC, SHELL, TCP or HTTP; {@code command} for the first two (SHELL:
     * {@code ["/bin/sh", "-c", text]}), {@code port} for the others, {@code path} and the status range
     * for HTTP; durations in milliseconds.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record HealthCheckDoc(String kind, List<String> command, Integer port, String path, Integer statusFrom,
            Integer statusTo, long intervalMillis, long timeoutMillis, int retries, long startPeriodMillis) {
        public static HealthCheckDoc of(HealthCheck h) {
            return new HealthCheckDoc(h.kind().name(), h.command().isEmpty() ? null : h.command(),
                    h.port() == 0 ? null : h.port(), h.path().isEmpty() ? null : h.path(),
                    h.kind() == HealthCheck.Kind.HTTP ? h.expectedStatus().from() : null,
                    h.kind() == HealthCheck.Kind.HTTP ? h.expectedStatus().to() : null, h.interval().toMillis(),
                    h.timeout().toMillis(), h.retries(), h.startPeriod().toMillis());
        }

        /**
         * The check again.
         *
         * @throws IllegalArgumentException naming the field that is not valid
         */
        public HealthCheck toCheck() {
            HealthCheck.Builder c = HealthCheck.builder();
            switch (kind == null ? "" : kind) {
                case "EXEC" -> c.command(list(command).toArray(String[]::new));
                case "SHELL" -> {
                    List<String> argv = list(command);
                    if (argv.size() != 3) {
                        throw new IllegalArgumentException("healthCheck.command: a SHELL check is [/bin/sh, -c, text]");
                    }
                    c.shell(argv.get(2));
                }
                case "TCP" -> c.tcp(port == null ? 0 : port);
                case "HTTP" -> {
                    c.http(port == null ? 0 : port, path);
                    if (statusFrom != null && statusTo != null) {
                        c.expectedStatus(statusFrom, statusTo);
                    }
                }
                default -> throw new IllegalArgumentException("healthCheck.kind: \"" + kind
                        + "\" is not EXEC, SHELL, TCP or HTTP");
            }
            return c.interval(Duration.ofMillis(intervalMillis)).timeout(Duration.ofMillis(timeoutMillis))
                    .retries(retries).startPeriod(Duration.ofMillis(startPeriodMillis)).build();
        }
    }

    public record RlimitDoc(String type, long soft, long hard) {}

    /** {@code kind}: INHERIT, PIPE, NULL, FILE or APPEND; {@code path} for the last two. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record StdioDoc(String kind, String path) {}

    public record DeviceDoc(String path, String type, long major, long minor, int fileMode, long uid, long gid,
            String access) {}

    public record MountDoc(String destination, String type, String source, List<String> options) {}

    public record HostDoc(String name, String address) {}

    public record SizeDoc(int columns, int rows) {}

    /**
     * {@code kind}: {@code default}, {@code unconfined} or {@code profile} (with its {@code name} and
     * JSON text); absent in a state written before seccomp: the default. A listener is not kept.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record SeccompDoc(String kind, String name, String json) {}

    /**
     * {@code mode} as {@link dev.berth.core.NetworkMode#parse} reads it; {@code ports} in docker's
     * spelling; absent in a state written before networks: {@code none}, or {@code host} where the
     * namespaces say so.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record NetworkDoc(String mode, List<String> ports, List<String> aliases, String ipAddress,
            String macAddress) {
        static NetworkDoc of(ContainerSpec s) {
            return new NetworkDoc(s.network().toString(), s.ports().stream().map(NetworkDoc::port).toList(),
                    s.networkAliases(), s.ipAddress().orElse(null), s.macAddress().orElse(null));
        }

        /** {@code [hostIP:]hostPort:containerPort/proto}, as PortMapping.parse reads it back. */
        static String port(PortMapping p) {
            String ip = p.hostIp().getHostAddress().replaceFirst("%.*$", "");
            String host = p.hostIp().isAnyLocalAddress() && p.hostIp().getAddress().length == 4 ? ""
                    : (ip.contains(":") ? "[" + ip + "]" : ip) + ":";
            return host + p.hostPort() + ":" + p.containerPort() + "/" + p.protocol();
        }

        void apply(ContainerSpec.Builder b) {
            if (mode != null) {
                b.network(NetworkMode.parse(mode));
            }
            for (String p : list(ports)) {
                b.publish(PortMapping.parse(p));
            }
            b.networkAliases(list(aliases)).ipAddress(ipAddress).macAddress(macAddress);
        }
    }

    /** Captured output: {@link dev.berth.core.LogConfig}. */
    public record LogDoc(long maxSize, int maxFiles) {}

    public record RuleDoc(boolean allow, String type, long major, long minor, String access) {}

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ThrottleDoc(int major, int minor, Long readBps, Long writeBps, Long readIops, Long writeIops) {}

    /** Only what was set; {@code cpuPeriodUs} always. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ResourcesDoc(Double cpus, long cpuPeriodUs, Long cpuShares, Integer cpuWeight, String cpusetCpus,
            String cpusetMems, Long memoryMax, Long memoryHigh, Long memoryReservation, Long memorySwap,
            Integer ioWeight, List<ThrottleDoc> deviceThrottles, Long pidsMax, List<RuleDoc> devices,
            Map<String, String> unified) {}

    public static SpecDocument of(ContainerSpec s) {
        List<RlimitDoc> rlimits = s.rlimits().stream().map(r -> new RlimitDoc(r.type().name(), r.soft(), r.hard())).toList();
        List<DeviceDoc> devices = s.devices().stream().map(d -> new DeviceDoc(d.path(), d.type().name(), d.major(),
                d.minor(), d.fileMode(), d.uid(), d.gid(), d.access())).toList();
        List<MountDoc> mounts = s.mounts().stream().map(m -> new MountDoc(m.destination(), m.type().name(), m.source(),
                m.options())).toList();
        List<HostDoc> hosts = s.extraHosts().stream().map(h -> new HostDoc(h.name(), h.address())).toList();
        boolean captured = s.logging().isPresent();
        return new SpecDocument(VERSION, s.rootfs().map(Path::toString).orElse(null), s.image().orElse(null),
                s.entrypoint().orElse(null), s.command(), new LinkedHashMap<>(s.env()), s.workingDir().orElse(null),
                s.user().orElse(null), s.hostname().orElse(null), rlimits, names(s.capabilities()),
                s.noNewPrivileges(), s.readonlyRootfs(), names(s.namespaces()), s.maskedPaths(), s.readonlyPaths(),
                s.tty() ? null : stdio(s.stdin()), s.tty() || captured ? null : stdio(s.stdout()),
                s.tty() || captured ? null : stdio(s.stderr()), resources(s.resources()), devices, mounts, s.tty(),
                new SizeDoc(s.consoleSize().columns(), s.consoleSize().rows()), hosts, s.dns(), s.dnsSearch(),
                s.dnsOptions(), seccomp(s.seccomp()), supervision(s), s.detached() ? true : null,
                s.autoRemove() ? true : null, s.logging().map(l -> new LogDoc(l.maxSize(), l.maxFiles())).orElse(null),
                NetworkDoc.of(s), UserNsDoc.of(s.userNamespace()));
    }

    private static SupervisionDoc supervision(ContainerSpec s) {
        if (s.restart().equals(RestartPolicy.no()) && s.healthCheck().isEmpty() && !s.healthCheckDisabled()
                && s.onUnhealthy() == UnhealthyAction.NONE) {
            return null;
        }
        HealthCheckDoc hc = s.healthCheck().map(HealthCheckDoc::of).orElse(null);
        return new SupervisionDoc(s.restart().toString(), hc, s.onUnhealthy().label(),
                s.healthCheckDisabled() ? true : null);
    }

    private static void supervision(SupervisionDoc d, ContainerSpec.Builder b) {
        if (d.restart() != null) {
            b.restart(RestartPolicy.parse(d.restart()));
        }
        if (d.onUnhealthy() != null) {
            b.onUnhealthy(UnhealthyAction.parse(d.onUnhealthy()));
        }
        if (Boolean.TRUE.equals(d.noHealthCheck())) {
            b.noHealthCheck();
        }
        if (d.healthCheck() != null) {
            b.healthCheck(d.healthCheck().toCheck());
        }
    }

    private static SeccompDoc seccomp(Seccomp sc) {
        if (!sc.isConfined()) {
            return new SeccompDoc("unconfined", null, null);
        }
        return sc.profileJson().map(json -> new SeccompDoc("profile", sc.name(), json))
                .orElse(new SeccompDoc("default", null, null));
    }

    /**
     * The spec again.
     *
     * @throws IllegalArgumentException for a newer version, or a value the spec refuses (naming the field)
     */
    public ContainerSpec toSpec() {
        if (version != VERSION) {
            throw new IllegalArgumentException("spec.version: " + version + " is not a version this Berth reads ("
                    + VERSION + ")");
        }
        ContainerSpec.Builder b = ContainerSpec.builder();
        if (rootfs != null) {
            b.rootfs(Path.of(rootfs));
        }
        if (image != null) {
            b.image(image);
        }
        if (entrypoint != null) {
            b.entrypoint(entrypoint);
        }
        b.command(list(command)).env(env == null ? Map.of() : env);
        if (workingDir != null) {
            b.workingDir(workingDir);
        }
        if (user != null) {
            b.user(user);
        }
        if (hostname != null) {
            b.hostname(hostname);
        }
        for (RlimitDoc r : list(rlimits)) {
            b.rlimit(Rlimit.Type.valueOf(r.type()), r.soft(), r.hard());
        }
        Set<Capability> caps = EnumSet.noneOf(Capability.class);
        list(capabilities).forEach(c -> caps.add(Capability.valueOf(c)));
        b.capabilities(caps).noNewPrivileges(noNewPrivileges).readonlyRootfs(readonlyRootfs);
        Set<Namespace> own = EnumSet.noneOf(Namespace.class);
        list(namespaces).forEach(n -> own.add(Namespace.valueOf(n)));
        for (Namespace n : Namespace.values()) {
            if (!own.contains(n)) {
                b.shareNamespace(n);
            }
        }
        b.maskedPaths(list(maskedPaths)).readonlyPaths(list(readonlyPaths));
        if (stdin != null) {
            b.stdin(stdio(stdin));
        }
        if (stdout != null) {
            b.stdout(stdio(stdout));
        }
        if (stderr != null) {
            b.stderr(stdio(stderr));
        }
        if (resources != null) {
            b.resources(resources(resources));
        }
        for (DeviceDoc d : list(devices)) {
            b.device(new Device(d.path(), DeviceRule.Type.valueOf(d.type()), d.major(), d.minor(), d.fileMode(),
                    d.uid(), d.gid(), d.access()));
        }
        List<Mount> ms = new ArrayList<>();
        for (MountDoc m : list(mounts)) {
            ms.add(new Mount(m.destination(), Mount.Type.valueOf(m.type()), m.source(), list(m.options())));
        }
        b.mounts(ms).tty(tty);
        if (consoleSize != null) {
            b.consoleSize(consoleSize.columns(), consoleSize.rows());
        }
        b.extraHosts(list(extraHosts).stream().map(h -> new ExtraHost(h.name(), h.address())).toList());
        b.dns(list(dns)).dnsSearch(list(dnsSearch)).dnsOptions(list(dnsOptions));
        if (userNamespace != null) {
            b.userNamespace(userNamespace.toUserNamespace());
        }
        if (seccomp != null) {
            b.seccomp(switch (seccomp.kind()) {
                case "default" -> Seccomp.defaultProfile();
                case "unconfined" -> Seccomp.unconfined();
                case "profile" -> Seccomp.profile(seccomp.name(), seccomp.json());
                default -> throw new IllegalArgumentException("seccomp.kind: \"" + seccomp.kind()
                        + "\" is not default, unconfined or profile");
            });
        }
        if (supervision != null) {
            supervision(supervision, b);
        }
        b.detached(Boolean.TRUE.equals(detached)).autoRemove(Boolean.TRUE.equals(autoRemove));
        if (logging != null) {
            b.logging(dev.berth.core.LogConfig.of(logging.maxSize(), logging.maxFiles()));
        }
        if (network != null) {
            network.apply(b);
        }
        return b.build();
    }

    private static <T> List<T> list(List<T> l) {
        return l == null ? List.of() : l;
    }

    private static List<String> names(Set<? extends Enum<?>> set) {
        return set.stream().map(Enum::name).sorted().toList();
    }

    private static StdioDoc stdio(Stdio s) {
        return new StdioDoc(s.kind().name(), s.path().map(Path::toString).orElse(null));
    }

    private static Stdio stdio(StdioDoc d) {
        return switch (Stdio.Kind.valueOf(d.kind())) {
            case INHERIT -> Stdio.inherit();
            case PIPE -> Stdio.pipe();
            case NULL -> Stdio.discard();
            case FILE -> Stdio.file(Path.of(d.path()));
            case APPEND -> Stdio.append(Path.of(d.path()));
        };
    }

    private static ResourcesDoc resources(Resources r) {
        List<ThrottleDoc> throttles = r.deviceThrottles().stream().map(t -> new ThrottleDoc(t.major(), t.minor(),
                boxed(t.readBps()), boxed(t.writeBps()), boxed(t.readIops()), boxed(t.writeIops()))).toList();
        List<RuleDoc> rules = r.devices().stream().map(d -> new RuleDoc(d.allow(), d.type().name(), d.major(), d.minor(),
                d.access())).toList();
        return new ResourcesDoc(r.cpus().isPresent() ? r.cpus().getAsDouble() : null, r.cpuPeriodUs(),
                boxed(r.cpuShares()), r.cpuWeight().isPresent() ? r.cpuWeight().getAsInt() : null,
                r.cpusetCpus().orElse(null), r.cpusetMems().orElse(null), boxed(r.memoryMax()), boxed(r.memoryHigh()),
                boxed(r.memoryReservation()), boxed(r.memorySwap()),
                r.ioWeight().isPresent() ? r.ioWeight().getAsInt() : null, throttles, boxed(r.pidsMax()), rules,
                new LinkedHashMap<>(r.unified()));
    }

    private static Resources resources(ResourcesDoc d) {
        Resources.Builder b = Resources.builder().cpuPeriodUs(d.cpuPeriodUs());
        if (d.cpus() != null) {
            b.cpus(d.cpus());
        }
        if (d.cpuShares() != null) {
            b.cpuShares(d.cpuShares());
        }
        if (d.cpuWeight() != null) {
            b.cpuWeight(d.cpuWeight());
        }
        if (d.cpusetCpus() != null) {
            b.cpusetCpus(d.cpusetCpus());
        }
        if (d.cpusetMems() != null) {
            b.cpusetMems(d.cpusetMems());
        }
        if (d.memoryMax() != null) {
            b.memoryMax(d.memoryMax());
        }
        if (d.memoryHigh() != null) {
            b.memoryHigh(d.memoryHigh());
        }
        if (d.memoryReservation() != null) {
            b.memoryReservation(d.memoryReservation());
        }
        if (d.memorySwap() != null) {
            b.memorySwap(d.memorySwap());
        }
        if (d.ioWeight() != null) {
            b.ioWeight(d.ioWeight());
        }
        for (ThrottleDoc t : list(d.deviceThrottles())) {
            b.deviceThrottle(new DeviceThrottle(t.major(), t.minor(), optional(t.readBps()), optional(t.writeBps()),
                    optional(t.readIops()), optional(t.writeIops())));
        }
        if (d.pidsMax() != null) {
            b.pidsMax(d.pidsMax());
        }
        for (RuleDoc r : list(d.devices())) {
            b.deviceRule(new DeviceRule(r.allow(), DeviceRule.Type.valueOf(r.type()), r.major(), r.minor(), r.access()));
        }
        if (d.unified() != null) {
            b.unified(d.unified());
        }
        return b.build();
    }

    private static Long boxed(OptionalLong v) {
        return v.isPresent() ? v.getAsLong() : null;
    }

    private static OptionalLong optional(Long v) {
        return v == null ? OptionalLong.empty() : OptionalLong.of(v);
    }
}
