package dev.berth.core.internal.net;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.core.ContainerSpec;
import dev.berth.core.ContainerStartException;
import dev.berth.core.NetworkInfo;
import dev.berth.core.internal.etc.EtcFiles;
import dev.berth.core.internal.etc.HostsFile;
import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import dev.berth.network.Attachment;
import dev.berth.network.Network;
import dev.berth.network.NetworkException;
import dev.berth.network.Networks;
import dev.berth.network.PortMapping;
import dev.berth.network.Subnet;
import dev.berth.network.usermode.UserModeNetwork;
import dev.berth.network.usermode.UserModeTool;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One container's attachment to a CNI network, from its start to its removal.
 *
 * <p>At the start, between the init's clone and its go ({@code Launcher.HostSetup.afterClone}):
 * the init's network namespace is pinned by a bind mount of {@code /proc/<init>/ns/net} onto
 * {@code <state>/<id>/netns}, so that it outlives the init until DEL has run (the bridge plugin
 * leaks its masquerading rules when the namespace is gone first); {@code network.json} beside it
 * records what a cleanup needs before anything is made; CNI ADD runs against the pin; the result,
 * the container's names on the network's name service and its own address in its
 * {@code /etc/hosts} follow. Only then does the init go on.
 *
 * <p>{@link #release} undoes it in reverse: names, CNI DEL, the pin, the record. It runs when the
 * container ends, on close, on a failed start, and in crash reconciliation
 * ({@link #releaseRecorded}); each step is idempotent, and a failed DEL keeps pin and record so
 * that the next attempt can still run it.
 */
public final class ContainerNetwork {
    /** The pin and the record, in the container's state directory. */
    public static final String PIN = "netns";
    public static final String RECORD = "network.json";
    static final String SCHEMA = "berth.container-network/v1";
    static final String IF_NAME = "eth0";
    private static final Logger LOG = LoggerFactory.getLogger(ContainerNetwork.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Networks networks;
    private final Syscalls sys;
    private final NameService names;
    private final Path stateDir;
    private final String id;
    private volatile NetworkInfo info;
    private boolean released;
    /** The network whose name service lists the container (a user network), null otherwise. */
    private volatile String named;
    private String lastHealth;

    private ContainerNetwork(Networks networks, Syscalls sys, NameService names, Path stateDir, String id,
            NetworkInfo info) {
        this.networks = networks;
        this.sys = sys;
        this.names = names;
        this.stateDir = stateDir;
        this.id = id;
        this.info = info;
    }

    /**
     * Refuses, before anything of the container is made, what the attach would fail on: an unknown
     * network, a host port in use.
     */
    public static void precheck(Networks networks, ContainerSpec spec) throws ContainerStartException {
        String name = spec.network().networkName().orElseThrow();
        try {
            if (!name.equals(Networks.DEFAULT) && networks.inspect(name).isEmpty()) {
                throw new ContainerStartException("network: no such network: " + name
                        + " (create it with ContainerRuntime.networks().create or berth network create)");
            }
            networks.checkPorts(spec.ports());
        } catch (IOException | dev.berth.network.NetworkException e) {
            throw new ContainerStartException(e.getMessage(), e);
        }
    }

    /**
     * Pins the init's network namespace and attaches it. On failure whatever was made is undone
     * and the exception carries the plugin's error.
     *
     * @param hostname the container's host name: its name on the network, and in its /etc/hosts
     */
    public static ContainerNetwork attach(Networks networks, Syscalls sys, NameService names, Path stateDir, String id,
            ContainerSpec spec, String hostname, long initPid) throws ContainerStartException {
        String network = spec.network().networkName().orElseThrow();
        Path pin = stateDir.resolve(PIN);
        ContainerNetwork cn = new ContainerNetwork(networks, sys, names, stateDir, id, null);
        try {
            // recorded first: a JVM that dies from here on leaves what reconciliation needs to undo it
            Record r = new Record(SCHEMA, id, network, IF_NAME, pin.toString(), hostname, spec.networkAliases(), null,
                    null);
            write(stateDir, r);
            Files.createFile(pin, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            sys.bindMount("/proc/" + initPid + "/ns/net", pin.toString());
            Optional<InetAddress> ip = spec.ipAddress().map(a -> Subnet.address(a, "ipAddress"));
            Attachment a = networks.attach(network, id, pin.toString(), IF_NAME, spec.ports(), ip,
                    spec.macAddress().map(m -> m.toLowerCase(java.util.Locale.ROOT)));
            NetworkInfo info = new NetworkInfo(a.network(), a.addresses(), a.gateways(), a.mac(), a.ports(),
                    spec.networkAliases());
            cn.info = info;
            write(stateDir, r.withInfo(info));
            if (spec.network().kind() == dev.berth.core.NetworkMode.Kind.NETWORK) {
                Network n = networks.inspect(network).orElseThrow(() -> new NetworkException("no such network: "
                        + network));
                // with a health check, in the answers only once healthy (health(..) puts it there)
                names.add(n, id, addresses(info), names(hostname, id, spec.networkAliases()),
                        spec.healthCheck().isEmpty());
                cn.named = n.name();
                Optional<String> server = names.server(n);
                if (server.isPresent()) {
                    replace(stateDir, "resolv.conf", new EtcFiles(Path.of("/")).resolvConfWith(spec, server.get()));
                }
            }
            rewriteHosts(stateDir, spec, hostname, addresses(info));
            LOG.debug("container {}: on network {} as {}, ports {}", id, network, info.addresses(), info.ports());
            return cn;
        } catch (IOException | RuntimeException e) {
            String msg = e instanceof SyscallException se ? se.getMessage() : e.getMessage();
            ContainerStartException failure = new ContainerStartException("network " + network + ": " + msg, e);
            try {
                cn.release();
            } catch (RuntimeException r) {
                failure.addSuppressed(r);
            }
            throw failure;
        }
    }

    /**
     * Refuses, before anything of the container is made, what a user-mode network would fail on: the
     * tool not installed, a host port in use.
     *
     * @return the ports with their host ports chosen
     */
    public static List<PortMapping> precheckUserMode(ContainerSpec spec) throws ContainerStartException {
        UserModeTool tool = tool(spec);
        try {
            tool.require();
            return UserModeNetwork.choosePorts(spec.ports());
        } catch (NetworkException e) {
            throw new ContainerStartException(e.getMessage().startsWith("network ") ? e.getMessage()
                    : "network " + tool.command() + ": " + e.getMessage(), e);
        }
    }

    private static UserModeTool tool(ContainerSpec spec) {
        return UserModeTool.of(spec.network().toString()).orElseThrow(() -> new IllegalArgumentException(
                "network: " + spec.network() + " is not a user-mode network"));
    }

    /**
     * Connects the init's network namespace through pasta or slirp4netns and publishes the ports;
     * returns once the tool is ready. The tool's pid and start time are recorded in
     * {@code network.json}, so that {@link #release} (of this runtime or of the next one) ends it.
     * As root the namespace is pinned first and the tool joins the pin. On failure nothing is left.
     *
     * @param ports the published ports, host ports chosen ({@link #precheckUserMode})
     */
    public static ContainerNetwork attachUserMode(Networks networks, Syscalls sys, NameService names, Path stateDir,
            String id, ContainerSpec spec, String hostname, long initPid, List<PortMapping> ports, Duration timeout)
            throws ContainerStartException {
        UserModeTool tool = tool(spec);
        Path pin = stateDir.resolve(PIN);
        ContainerNetwork cn = new ContainerNetwork(networks, sys, names, stateDir, id, null);
        try {
            boolean pinned = UserModeNetwork.needsPin();
            Record r = new Record(SCHEMA, id, tool.command(), tool == UserModeTool.PASTA ? null : "tap0",
                    pinned ? pin.toString() : null, hostname, List.of(), null, new ToolFile(tool.command(), null,
                            null, null));
            write(stateDir, r);
            if (pinned) {
                Files.createFile(pin, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                sys.bindMount("/proc/" + initPid + "/ns/net", pin.toString());
            }
            UserModeNetwork.Running run = UserModeNetwork.start(tool, tool.require(), stateDir,
                    new UserModeNetwork.Target(initPid, pinned ? Optional.of(pin) : Optional.empty()), ports, timeout);
            r = new Record(r.schema(), r.containerId(), r.network(), r.ifName(), r.netns(), r.hostname(), r.aliases(),
                    null, new ToolFile(run.tool(), run.pid(), run.startTime(), run.apiSocket()));
            write(stateDir, r); // recorded before anything else can fail: a release ends the tool
            NetworkInfo info = new NetworkInfo(tool.command(), run.address() == null ? List.of()
                    : List.of(run.address()), run.hostLoopback() == null ? List.of() : List.of(run.hostLoopback()),
                    null, run.ports(), List.of());
            cn.info = info;
            write(stateDir, r.withInfo(info));
            rewriteHosts(stateDir, spec, hostname, addresses(info));
            LOG.debug("container {}: on {} (pid {}), ports {}", id, tool.command(), run.pid(), run.ports());
            return cn;
        } catch (IOException | RuntimeException e) {
            String msg = e instanceof SyscallException se ? se.getMessage() : e.getMessage();
            ContainerStartException failure = new ContainerStartException(msg.startsWith("network ") ? msg
                    : "network " + tool.command() + ": " + msg, e);
            try {
                cn.release();
            } catch (RuntimeException x) {
                failure.addSuppressed(x);
            }
            throw failure;
        }
    }

    /**
     * A {@code container:<id>} container sees the network as the container whose namespace it
     * joins: that one's generated {@code /etc/hosts} and {@code /etc/resolv.conf} (its address, its
     * network's name server), as docker shares them. Before the go: the init mounts them after it.
     */
    public static void shareEtcFiles(Path targetStateDir, Path stateDir) throws IOException {
        for (String name : List.of("hosts", "resolv.conf")) {
            Path from = targetStateDir.resolve(name);
            if (Files.isRegularFile(from, LinkOption.NOFOLLOW_LINKS)) {
                replace(stateDir, name, Files.readString(from, StandardCharsets.ISO_8859_1));
            }
        }
    }

    /** The container's own name, its id when that differs, and its aliases: what the name service answers for. */
    static List<String> names(String hostname, String id, List<String> aliases) {
        List<String> out = new ArrayList<>();
        out.add(hostname);
        if (!id.equals(hostname)) {
            out.add(id);
        }
        for (String a : aliases) {
            if (!out.contains(a)) {
                out.add(a);
            }
        }
        return out;
    }

    static List<String> addresses(NetworkInfo info) {
        return info.addresses().stream().map(a -> a.replaceFirst("/.*$", "")).toList();
    }

    /** The /etc/hosts the plan mounts (not yet: the init waits for its go) names the container's address. */
    private static void rewriteHosts(Path stateDir, ContainerSpec spec, String hostname, List<String> addresses)
            throws IOException {
        replace(stateDir, "hosts", HostsFile.attached(hostname, spec.extraHosts(), addresses));
    }

    /** Replaces a generated /etc file of the state directory (one it wrote: never made here if missing). */
    private static void replace(Path stateDir, String name, String content) throws IOException {
        Path f = stateDir.resolve(name);
        if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Path tmp = stateDir.resolve("." + name + ".tmp");
        Files.deleteIfExists(tmp);
        Files.writeString(tmp, content, StandardCharsets.ISO_8859_1);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
        Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * The container's health check status changed (any state write passes it here: only a change
     * acts): {@code healthy} puts its addresses in its names' answers, {@code starting} and
     * {@code unhealthy} take them out. After the release, nothing.
     */
    public synchronized void health(String status) {
        if (released || named == null || status == null || status.equals(lastHealth)) {
            return;
        }
        lastHealth = status;
        try {
            names.serve(named, id, status.equals(dev.berth.core.HealthStatus.HEALTHY.label()));
        } catch (IOException | RuntimeException e) {
            LOG.warn("container {}: its names on network {} as {}: {}", id, named, status, e.getMessage());
        }
    }

    /** What ADD gave, or null before it completed. */
    public NetworkInfo info() {
        return info;
    }

    /**
     * Names, DEL, pin, record, in that order; idempotent.
     *
     * @throws IllegalStateException naming what is left (pin and record stay for a later attempt)
     */
    public synchronized void release() {
        if (!released) {
            release(networks, sys, names, stateDir, id);
            released = true;
        }
    }

    /**
     * What a dead runtime's container left, by its record: the reconciler's step before the state
     * directory goes. Nothing recorded: nothing to do.
     */
    public static void releaseRecorded(Networks networks, Syscalls sys, NameService names, Path stateDir, String id) {
        release(networks, sys, names, stateDir, id);
    }

    private static void release(Networks networks, Syscalls sys, NameService names, Path stateDir, String id) {
        Optional<Record> r = read(stateDir);
        Path pin = stateDir.resolve(PIN);
        if (r.isPresent() && r.get().tool() != null) {
            ToolFile t = r.get().tool();
            if (t.pid() != null) {
                // ended before the pin goes: it holds the namespace, and outlives the container otherwise
                UserModeNetwork.stop(new UserModeNetwork.Running(t.name(), t.pid(), t.startTime(), t.apiSocket(),
                        List.of(), null, null));
            }
        } else if (r.isPresent()) {
            try {
                names.remove(r.get().network(), id);
            } catch (IOException | RuntimeException e) {
                LOG.warn("container {}: removing its names from network {}: {}", id, r.get().network(), e.getMessage());
            }
            try {
                networks.detach(r.get().network(), id);
            } catch (IOException | RuntimeException e) {
                // the pin stays: DEL must run while the namespace exists, next time too
                throw new IllegalStateException("network " + r.get().network() + ": CNI DEL of container " + id
                        + ": " + e.getMessage() + " (netns pin " + pin + " kept for a later attempt)", e);
            }
        }
        if (Files.exists(pin, LinkOption.NOFOLLOW_LINKS)) {
            try {
                sys.umount(pin.toString(), Syscalls.MNT_DETACH | Syscalls.UMOUNT_NOFOLLOW);
            } catch (SyscallException e) {
                if (e.errno() != Syscalls.EINVAL && e.errno() != Syscalls.ENOENT) { // EINVAL: not (or no more) mounted
                    throw new IllegalStateException("netns pin of container " + id + ": " + e.getMessage(), e);
                }
            }
            try {
                Files.deleteIfExists(pin);
            } catch (IOException e) {
                throw new UncheckedIOException("netns pin of container " + id + ": " + pin + ": " + e.getMessage(), e);
            }
        }
        try {
            Files.deleteIfExists(stateDir.resolve(RECORD));
        } catch (IOException e) {
            throw new UncheckedIOException("container " + id + ": " + e.getMessage(), e);
        }
    }

    /** The network info of a container's state directory, as recorded by its runtime; empty before ADD completed. */
    public static Optional<NetworkInfo> recordedInfo(Path stateDir) {
        return read(stateDir).map(Record::info).map(InfoFile::toInfo);
    }

    private static Optional<Record> read(Path stateDir) {
        Path f = stateDir.resolve(RECORD);
        try {
            Record r = JSON.readValue(Files.readAllBytes(f), Record.class);
            if (!SCHEMA.equals(r.schema())) {
                throw new IllegalStateException(f + ": schema \"" + r.schema() + "\" is not " + SCHEMA);
            }
            return Optional.of(r);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException(f + ": " + e.getMessage(), e);
        }
    }

    private static void write(Path stateDir, Record r) throws IOException {
        Path f = stateDir.resolve(RECORD);
        Path tmp = stateDir.resolve("." + RECORD + ".tmp");
        Files.write(tmp, JSON.writeValueAsBytes(r));
        try {
            Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** {@code network.json}: what a cleanup needs (network, interface, pin), and once ADD completed, its outcome. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Record(String schema, String containerId, String network, String ifName, String netns, String hostname,
            List<String> aliases, InfoFile info, ToolFile tool) {
        Record withInfo(NetworkInfo i) {
            return new Record(schema, containerId, network, ifName, netns, hostname, aliases, InfoFile.of(i), tool);
        }
    }

    /**
     * A user-mode network's tool: its name from the start, its process (pid and start time, the
     * identity a release checks before it kills) and slirp4netns's API socket once it is ready.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record ToolFile(String name, Long pid, Long startTime, String apiSocket) {}

    record PortFile(String hostIp, int hostPort, int containerPort, String protocol) {}

    record InfoFile(String network, List<String> addresses, List<String> gateways, String mac, List<PortFile> ports,
            List<String> aliases) {
        static InfoFile of(NetworkInfo i) {
            return new InfoFile(i.network(), i.addresses(), i.gateways(), i.macAddress(), i.ports().stream()
                    .map(p -> new PortFile(p.hostIp().getHostAddress(), p.hostPort(), p.containerPort(), p.protocol()))
                    .toList(), i.aliases());
        }

        NetworkInfo toInfo() {
            return new NetworkInfo(network, list(addresses), list(gateways), mac, list(ports).stream()
                    .map(p -> new PortMapping(Subnet.address(p.hostIp(), "hostIp"), p.hostPort(), p.containerPort(),
                            p.protocol())).toList(), list(aliases));
        }

        private static <T> List<T> list(List<T> l) {
            return l == null ? List.of() : l;
        }
    }
}
