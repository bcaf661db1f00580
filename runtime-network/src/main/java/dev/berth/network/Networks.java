package dev.berth.network;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.berth.network.internal.BridgeClaims;
import dev.berth.network.internal.CniChain;
import dev.berth.network.internal.CniPlugins;
import dev.berth.network.internal.DirectoryLock;
import dev.berth.network.internal.HostRoutes;
import dev.berth.network.internal.LoopbackGuard;
import java.io.IOException;
import java.net.BindException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The networks of a storage root, and their containers' attachments, through CNI plugins.
 *
 * <p>Stored under {@code <storageRoot>/networks/}: one directory per network holding
 * {@code network.json} and {@code attachments/<container>.json} (the CNI result each ADD gave,
 * which DEL is handed back), and {@code _ipam/}, host-local's leases. Every change holds an
 * exclusive lock ({@code flock} of {@code networks/.lock}, and a lock of this JVM), so two
 * runtimes on one storage root, or two threads, never allocate one subnet, bridge or host port twice.
 * Bridges and subnets are the host's: a new network claims its bridge and subnets host-wide
 * ({@link BridgeClaims}, under {@code /run/berth/.bridges} for root), so that runtimes on different
 * storage roots never choose alike either.
 *
 * <p>An attachment is recorded before its ADD runs, so that whoever finds it (a DEL, or a
 * reconciliation after the JVM died mid-ADD) can undo a half-made one; a network with attachments
 * is in use and cannot be removed.
 */
public final class Networks {
    /** The network containers join in bridge mode, made on first use (docker's {@code bridge}). */
    public static final String DEFAULT = "bridge";
    static final Subnet DEFAULT_SUBNET = Subnet.parse("10.88.0.0/16");
    static final Subnet USER_POOL = Subnet.parse("10.89.0.0/16");
    private static final Pattern CONTAINER_ID = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}");
    private static final String SCHEMA = "berth.network/v1";
    private static final Logger LOG = LoggerFactory.getLogger(Networks.class);
    private static final DirectoryLock LOCK = new DirectoryLock();
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path dir;
    private final CniPlugins plugins;
    private final Path procNet;
    private final Path sysClassNet;
    private final LoopbackGuard guard;
    private final BridgeClaims claims;

    private Networks(Path dir, CniPlugins plugins, Path procNet, Path sysClassNet, LoopbackGuard guard,
            Path claimsDir) {
        this.dir = dir;
        this.claims = new BridgeClaims(claimsDir, Networks::claimAlive);
        this.plugins = plugins;
        this.procNet = procNet;
        this.sysClassNet = sysClassNet;
        this.guard = guard;
    }

    /** The networks below {@code storageRoot}, with the CNI plugins of {@link CniPlugins#DEFAULT_DIRS}. */
    public static Networks open(Path storageRoot) throws IOException {
        return open(storageRoot, CniPlugins.DEFAULT_DIRS);
    }

    /** As above, with the plugins searched in {@code pluginDirs}. */
    public static Networks open(Path storageRoot, List<Path> pluginDirs) throws IOException {
        return open(storageRoot, pluginDirs, List.of("iptables"));
    }

    /**
     * As above, with the firewall rule that keeps containers off the host's loopback services
     * ({@link LoopbackGuard}) set through {@code iptables} (a command and its first arguments).
     */
    public static Networks open(Path storageRoot, List<Path> pluginDirs, List<String> iptables) throws IOException {
        return open(storageRoot, pluginDirs, Path.of("/proc/net"), Path.of("/sys/class/net"), iptables,
                dev.berth.linux.internal.ProcStatus.isRoot() ? BridgeClaims.HOST : null);
    }

    /** For tests: claims in the storage root's own {@code networks/_bridges}. */
    static Networks open(Path storageRoot, List<Path> pluginDirs, Path procNet, Path sysClassNet, List<String> iptables)
            throws IOException {
        return open(storageRoot, pluginDirs, procNet, sysClassNet, iptables, null);
    }

    /**
     * With bridge claims in {@code claimsDir}; null for the storage root's own {@code networks/_bridges}
     * (a user other than root, who can make no bridge of the host, shares no claims).
     */
    static Networks open(Path storageRoot, List<Path> pluginDirs, Path procNet, Path sysClassNet, List<String> iptables,
            Path claimsDir) throws IOException {
        Path d = storageRoot.toAbsolutePath().resolve("networks");
        Files.createDirectories(d, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        return new Networks(d, new CniPlugins(pluginDirs, Duration.ofSeconds(60)), procNet, sysClassNet,
                new LoopbackGuard(iptables), claimsDir != null ? claimsDir : d.resolve("_bridges"));
    }

    // ---- networks ----

    /**
     * Creates a bridge network.
     *
     * @throws IllegalArgumentException naming the field: the name taken, a subnet that overlaps
     *                                  another network's or a route of the host
     */
    public Network create(NetworkSpec spec) throws IOException {
        try (DirectoryLock.Held l = lock()) {
            if (spec.name().equals(DEFAULT)) {
                throw new IllegalArgumentException("name: \"" + DEFAULT + "\" is the default network's (made on first use)");
            }
            return createLocked(spec.name(), spec.subnet(), Optional.empty(), spec.gateway(), spec.ipv6Subnet(),
                    spec.internal());
        }
    }

    /** The default network, made on first use with 10.88.0.0/16 (or a free /24 when the host or another root uses that range). */
    public Network defaultNetwork() throws IOException {
        try (DirectoryLock.Held l = lock()) {
            return defaultNetworkLocked();
        }
    }

    /**
     * Makes a network (the storage root's lock held), its bridge and subnets chosen and claimed under
     * the host-wide lock: {@code subnet} as given, else {@code preferred} when nothing uses it, else
     * a free /24.
     */
    private Network createLocked(String name, Optional<Subnet> subnet, Optional<Subnet> preferred,
            Optional<InetAddress> gateway, Optional<Subnet> ipv6, boolean internal) throws IOException {
        if (Files.exists(dir.resolve(name))) {
            throw new IllegalArgumentException("name: network \"" + name + "\" already exists");
        }
        Path nd = dir.resolve(name);
        Network n;
        try (DirectoryLock.Held host = claims.lock()) {
            List<Network> existing = list();
            List<BridgeClaims.Claim> claimed = claims.live();
            List<HostRoutes.Route> routes = HostRoutes.read(procNet);
            Subnet v4;
            if (subnet.isPresent()) {
                v4 = subnet.get();
                overlap(v4, existing, claimed, routes).ifPresent(o -> {
                    throw new IllegalArgumentException("subnet: " + v4 + " overlaps " + o);
                });
            } else if (preferred.isPresent() && overlap(preferred.get(), existing, claimed, routes).isEmpty()) {
                v4 = preferred.get();
            } else {
                v4 = freeSubnet(existing, claimed, routes);
            }
            if (ipv6.isPresent()) {
                overlap(ipv6.get(), existing, claimed, routes).ifPresent(o -> {
                    throw new IllegalArgumentException("ipv6Subnet: " + ipv6.get() + " overlaps " + o);
                });
            }
            List<Network.Range> ranges = new ArrayList<>();
            ranges.add(new Network.Range(v4, gateway.orElse(v4.host(1))));
            ipv6.ifPresent(s -> ranges.add(new Network.Range(s, s.host(1))));
            byte[] id = new byte[32];
            new SecureRandom().nextBytes(id);
            n = new Network(name, HexFormat.of().formatHex(id), freeBridge(existing, claimed), ranges, internal,
                    Instant.now());
            // claimed first: a JVM that dies before the record leaves a claim the next chooser drops
            claims.claim(new BridgeClaims.Claim(n.bridge(), nd.toString(),
                    ranges.stream().map(r -> r.subnet().toString()).toList()));
            try {
                Files.createDirectory(nd);
                Files.createDirectory(nd.resolve("attachments"));
                writeAtomically(nd.resolve("network.json"), JSON.writeValueAsBytes(NetworkFile.of(n)));
            } catch (IOException | RuntimeException e) {
                try {
                    deleteTree(nd);
                    claims.release(n.bridge(), nd);
                } catch (IOException r) {
                    e.addSuppressed(r);
                }
                throw e;
            }
        }
        LOG.debug("network {}: created ({}, bridge {})", name, n.ranges(), n.bridge());
        return n;
    }

    /** Whether a claim's network exists with its bridge: {@code <networkDir>/network.json} names it. */
    private static boolean claimAlive(Path networkDir, String bridge) throws IOException {
        try {
            return readFile(networkDir.resolve("network.json")).map(n -> n.bridge().equals(bridge)).orElse(false);
        } catch (NetworkException e) {
            return true; // unreadable, not gone: its bridge stays taken
        }
    }

    /**
     * The network's claim of its bridge, made when it has none (a network made before claims, or
     * whose claim went with a reboot's {@code /run}).
     *
     * @throws NetworkException naming the other network when that one holds the bridge
     */
    private void ensureClaimed(Network n) throws IOException {
        Path nd = dir.resolve(n.name());
        try (DirectoryLock.Held host = claims.lock()) {
            Optional<BridgeClaims.Claim> c = claims.of(n.bridge());
            if (c.isEmpty()) {
                claims.claim(new BridgeClaims.Claim(n.bridge(), nd.toString(),
                        n.ranges().stream().map(r -> r.subnet().toString()).toList()));
            } else if (!c.get().owner().equals(nd.toString())) {
                throw new NetworkException("network " + n.name() + ": its bridge " + n.bridge() + " is "
                        + c.get().describe() + "'s; remove one of the two networks");
            }
        }
    }

    /** The next /24 of 10.89.0.0/16 that no network, no claim of the host and no host route uses. */
    private static Subnet freeSubnet(List<Network> existing, List<BridgeClaims.Claim> claimed,
            List<HostRoutes.Route> routes) {
        Subnet s = new Subnet(USER_POOL.address(), 24);
        while (USER_POOL.contains(s.address())) {
            if (overlap(s, existing, claimed, routes).isEmpty()) {
                return s;
            }
            s = s.next();
        }
        throw new IllegalArgumentException("subnet: every /24 of " + USER_POOL + " is in use; give one");
    }

    /**
     * What {@code s} overlaps: another network's range, one that a network of another storage root
     * claimed, or a host route (not one of our own bridges').
     */
    static Optional<String> overlap(Subnet s, List<Network> existing, List<BridgeClaims.Claim> claimed,
            List<HostRoutes.Route> routes) {
        for (Network n : existing) {
            for (Network.Range r : n.ranges()) {
                if (r.subnet().overlaps(s)) {
                    return Optional.of("network \"" + n.name() + "\" (" + r.subnet() + ")");
                }
            }
        }
        for (BridgeClaims.Claim c : claimed) {
            for (Subnet r : c.parsedSubnets()) {
                if (r.overlaps(s)) {
                    return Optional.of(c.describe() + " (" + r + ")");
                }
            }
        }
        for (HostRoutes.Route r : routes) {
            boolean ours = existing.stream().anyMatch(n -> n.bridge().equals(r.iface()));
            if (!ours && r.destination().overlaps(s)) {
                return Optional.of("the host's route to " + r.destination() + " on " + r.iface());
            }
        }
        return Optional.empty();
    }

    /** berth0, berth1, ...: the first no network has or claimed, and the host has no interface of. */
    private String freeBridge(List<Network> existing, List<BridgeClaims.Claim> claimed) {
        for (int i = 0;; i++) {
            String b = "berth" + i;
            if (existing.stream().noneMatch(n -> n.bridge().equals(b)) && claimed.stream().noneMatch(c -> c.bridge()
                    .equals(b)) && !Files.exists(sysClassNet.resolve(b))) {
                return b;
            }
        }
    }

    /** Every network, by name. */
    public List<Network> list() throws IOException {
        List<Network> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (NetworkSpec.NAME.matcher(name).matches()) {
                    read(name).ifPresent(out::add);
                }
            }
        }
        out.sort(Comparator.comparing(Network::name));
        return out;
    }

    public Optional<Network> inspect(String name) throws IOException {
        return name != null && NetworkSpec.NAME.matcher(name).matches() ? read(name) : Optional.empty();
    }

    private Optional<Network> read(String name) throws IOException {
        return readFile(dir.resolve(name).resolve("network.json"));
    }

    private static Optional<Network> readFile(Path f) throws IOException {
        try {
            NetworkFile nf = JSON.readValue(f.toFile(), NetworkFile.class);
            if (!SCHEMA.equals(nf.schema())) {
                throw new NetworkException(f + ": schema \"" + nf.schema() + "\" is not " + SCHEMA);
            }
            return Optional.of(nf.toNetwork());
        } catch (NoSuchFileException | java.io.FileNotFoundException e) {
            return Optional.empty();
        } catch (com.fasterxml.jackson.core.JacksonException | IllegalArgumentException e) {
            throw new NetworkException(f + ": " + e.getMessage(), e);
        }
    }

    /**
     * Removes a network that no container is attached to, with its bridge and its address leases.
     *
     * @return false when there is no such network
     * @throws NetworkException when containers are attached, naming them
     */
    public boolean remove(String name) throws IOException {
        try (DirectoryLock.Held l = lock()) {
            Optional<Network> n = inspect(name);
            if (n.isEmpty()) {
                return false;
            }
            List<String> users = attachmentIds(name);
            if (!users.isEmpty()) {
                throw new NetworkException("network " + name + " is in use by " + users.size() + " container(s): "
                        + String.join(", ", users));
            }
            if (Files.exists(sysClassNet.resolve(n.get().bridge()))) {
                ipLinkDelete(n.get().bridge());
            }
            guard.remove(n.get().bridge());
            deleteTree(dir.resolve("_ipam").resolve(name));
            deleteTree(dir.resolve(name));
            try (DirectoryLock.Held host = claims.lock()) {
                claims.release(n.get().bridge(), dir.resolve(name));
            }
            LOG.debug("network {}: removed", name);
            return true;
        }
    }

    private static void ipLinkDelete(String bridge) throws NetworkException {
        try {
            Process p = new ProcessBuilder("ip", "link", "delete", bridge, "type", "bridge")
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
            if (p.waitFor() != 0 && !out.contains("Cannot find device")) {
                throw new NetworkException("ip link delete " + bridge + ": " + out);
            }
        } catch (IOException e) {
            throw new NetworkException("ip link delete " + bridge + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NetworkException("ip link delete " + bridge + ": interrupted", e);
        }
    }

    // ---- attachments ----

    /**
     * Attaches a container's network namespace to a network through CNI ADD, its published ports
     * with it: a host port of 0 is chosen among the free ones; a host port in use (by a process of
     * the host or another attachment) is refused before anything is made. A failed ADD is undone
     * (DEL) and leaves no record.
     *
     * @param netns the namespace, as a path ({@code /proc/<pid>/ns/net} or a bind mount of it)
     * @throws NetworkException naming the plugin, or the port ({@code bind 0.0.0.0:8080: Address already in use})
     */
    public Attachment attach(String network, String containerId, String netns, String ifName, List<PortMapping> ports)
            throws IOException {
        return attach(network, containerId, netns, ifName, ports, Optional.empty(), Optional.empty());
    }

    /**
     * As above, asking host-local for {@code ip} (in one of the network's subnets) and the bridge
     * plugin for {@code mac} on the container's interface.
     *
     * @throws IllegalArgumentException naming {@code ipAddress} when the address is not in the network's subnets
     */
    public Attachment attach(String network, String containerId, String netns, String ifName, List<PortMapping> ports,
            Optional<InetAddress> ip, Optional<String> mac) throws IOException {
        if (containerId == null || !CONTAINER_ID.matcher(containerId).matches()) {
            throw new IllegalArgumentException("containerId: \"" + containerId + "\" is not a container id");
        }
        if (ifName == null || !ifName.matches("[a-zA-Z0-9_.-]{1,15}")) {
            throw new IllegalArgumentException("ifName: \"" + ifName + "\" is not an interface name (at most 15)");
        }
        Network n;
        Path record;
        List<PortMapping> chosen;
        CniChain.Request request;
        try (DirectoryLock.Held l = lock()) {
            n = (network.equals(DEFAULT) ? Optional.of(defaultNetworkLocked()) : inspect(network))
                    .orElseThrow(() -> new NetworkException("no such network: " + network));
            record = dir.resolve(n.name()).resolve("attachments").resolve(containerId + ".json");
            if (Files.exists(record)) {
                throw new NetworkException("container " + containerId + " is already attached to network " + n.name());
            }
            Optional<String> cidr = Optional.empty();
            if (ip.isPresent()) {
                Network.Range r = n.ranges().stream().filter(x -> x.subnet().contains(ip.get())).findFirst()
                        .orElseThrow(() -> new IllegalArgumentException("ipAddress: " + Subnet.format(ip.get())
                                + " is not in network " + n.name() + "'s subnets " + n.ranges().stream()
                                .map(x -> x.subnet().toString()).toList()));
                cidr = Optional.of(Subnet.format(ip.get()) + "/" + r.subnet().prefix());
            }
            request = new CniChain.Request(cidr, mac);
            ensureClaimed(n);
            chosen = choosePorts(ports);
            guard.install(n.bridge()); // before the bridge plugin (and portmap's route_localnet) can open the way
            // recorded first: a JVM that dies during ADD leaves what a reconciliation needs for DEL
            write(record, new AttachmentFile(containerId, n.name(), ifName, netns, chosen, null, true));
        }
        CniChain chain = chain(n);
        JsonNode result;
        try {
            result = chain.add(containerId, netns, ifName, chosen, request);
        } catch (NetworkException e) {
            try {
                chain.del(containerId, netns, ifName, chosen, null);
            } catch (NetworkException d) {
                e.addSuppressed(d);
            }
            Files.deleteIfExists(record);
            throw e;
        }
        AttachmentFile done = new AttachmentFile(containerId, n.name(), ifName, netns, chosen, result, true);
        write(record, done);
        return done.toAttachment();
    }

    /**
     * Refuses, before anything is made, ports that no attach could get now: a host port a process of
     * the host or another container holds ({@code bind 0.0.0.0:8080: Address already in use}).
     */
    public void checkPorts(List<PortMapping> ports) throws IOException {
        try (DirectoryLock.Held l = lock()) {
            choosePorts(ports);
        }
    }

    private Network defaultNetworkLocked() throws IOException {
        Optional<Network> n = read(DEFAULT);
        if (n.isPresent()) {
            return n.get();
        }
        return createLocked(DEFAULT, Optional.empty(), Optional.of(DEFAULT_SUBNET), Optional.empty(),
                Optional.empty(), false);
    }

    /** CHECK: whether the container's networking is still as ADD left it. */
    public void check(String network, String containerId) throws IOException {
        AttachmentFile a = attachmentFile(network, containerId)
                .orElseThrow(() -> new NetworkException("container " + containerId + " is not attached to " + network));
        if (a.result() == null) {
            throw new NetworkException("container " + containerId + ": its ADD to network " + network + " never completed");
        }
        Network n = inspect(network).orElseThrow(() -> new NetworkException("no such network: " + network));
        chain(n).check(containerId, a.netns(), a.ifName(), a.ports(), a.result());
    }

    /**
     * Detaches a container (CNI DEL with the cached result), then forgets it. Idempotent: a
     * container not attached is no error. DEL must run while the namespace still exists, or the
     * bridge plugin leaks its masquerading rules.
     */
    public void detach(String network, String containerId) throws IOException {
        Optional<AttachmentFile> a = attachmentFile(network, containerId);
        if (a.isEmpty()) {
            return;
        }
        Network n = inspect(network).orElseThrow(() -> new NetworkException("no such network: " + network));
        AttachmentFile f = a.get();
        chain(n).del(containerId, f.netns(), f.ifName(), f.ports(), f.result());
        Files.deleteIfExists(dir.resolve(network).resolve("attachments").resolve(containerId + ".json"));
        if (network.equals(DEFAULT)) {
            removeIdleBridge(n);
        }
    }

    /**
     * The default network's bridge goes with its last container (the bridge plugin makes it again
     * at the next ADD): every storage root has a default network, made on first use, and a bridge
     * device outliving its containers would pile up on the host one per storage root (a test's, a
     * CLI's temporary one), each holding a route that pushes the next default network off its subnet.
     */
    private void removeIdleBridge(Network n) throws IOException {
        try (DirectoryLock.Held l = lock()) {
            if (attachmentIds(n.name()).isEmpty() && Files.exists(sysClassNet.resolve(n.bridge()))) {
                ipLinkDelete(n.bridge());
                guard.remove(n.bridge());
                LOG.debug("network {}: bridge {} removed with its last container", n.name(), n.bridge());
            }
        }
    }

    /** The containers attached to a network. */
    public List<Attachment> attachments(String network) throws IOException {
        List<Attachment> out = new ArrayList<>();
        for (String id : attachmentIds(network)) {
            attachmentFile(network, id).ifPresent(f -> out.add(f.toAttachment()));
        }
        return out;
    }

    private List<String> attachmentIds(String network) throws IOException {
        Path ad = dir.resolve(network).resolve("attachments");
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(ad)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(ad, "*.json")) {
            for (Path p : ds) {
                String f = p.getFileName().toString();
                out.add(f.substring(0, f.length() - ".json".length()));
            }
        }
        out.sort(null);
        return out;
    }

    private Optional<AttachmentFile> attachmentFile(String network, String containerId) throws IOException {
        if (!NetworkSpec.NAME.matcher(network).matches() || !CONTAINER_ID.matcher(containerId).matches()) {
            return Optional.empty();
        }
        Path f = dir.resolve(network).resolve("attachments").resolve(containerId + ".json");
        try {
            return Optional.of(JSON.readValue(f.toFile(), AttachmentFile.class));
        } catch (NoSuchFileException | java.io.FileNotFoundException e) {
            return Optional.empty();
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new NetworkException(f + ": " + e.getMessage(), e);
        }
    }

    private CniChain chain(Network n) {
        return new CniChain(plugins, n, dir.resolve("_ipam"));
    }

    /** Host ports: 0 replaced by a free one; each checked against other attachments and by binding it. */
    private List<PortMapping> choosePorts(List<PortMapping> ports) throws IOException {
        List<PortMapping> taken = new ArrayList<>();
        for (Network n : list()) {
            for (String id : attachmentIds(n.name())) {
                attachmentFile(n.name(), id).ifPresent(f -> taken.addAll(f.ports()));
            }
        }
        List<PortMapping> out = new ArrayList<>();
        for (PortMapping p : ports) {
            PortMapping c = p;
            for (int attempt = 0;; attempt++) {
                if (p.hostPort() == 0) {
                    c = p.withHostPort(bind(p.hostIp(), 0, p.protocol()));
                } else {
                    bind(p.hostIp(), p.hostPort(), p.protocol());
                }
                if (!clashes(c, taken) && !clashes(c, out)) {
                    break;
                }
                if (p.hostPort() != 0 || attempt > 100) {
                    throw new NetworkException("bind " + hostAndPort(c) + "/" + c.protocol()
                            + ": Address already in use (published by another container)");
                }
            }
            out.add(c);
        }
        return out;
    }

    private static boolean clashes(PortMapping p, List<PortMapping> others) {
        return others.stream().anyMatch(o -> o.hostPort() == p.hostPort() && o.protocol().equals(p.protocol())
                && (o.hostIp().isAnyLocalAddress() || p.hostIp().isAnyLocalAddress() || o.hostIp().equals(p.hostIp())));
    }

    /** Binds and releases the port, so that one in use by a host process is named now; returns the port. */
    private static int bind(InetAddress ip, int port, String protocol) throws NetworkException {
        InetSocketAddress at = new InetSocketAddress(ip, port);
        try {
            if (protocol.equals("udp")) {
                try (DatagramSocket s = new DatagramSocket(at)) {
                    return s.getLocalPort();
                }
            }
            try (ServerSocket s = new ServerSocket()) {
                s.setReuseAddress(true);
                s.bind(at);
                return s.getLocalPort();
            }
        } catch (BindException e) {
            throw new NetworkException("bind " + hostAndPort(new PortMapping(ip, port, 1, protocol)) + ": "
                    + e.getMessage().replaceFirst(" \\(Bind failed\\)$", ""), e);
        } catch (IOException e) {
            throw new NetworkException("bind " + ip.getHostAddress() + ":" + port + ": " + e.getMessage(), e);
        }
    }

    private static String hostAndPort(PortMapping p) {
        String ip = Subnet.format(p.hostIp());
        return (p.hostIp().getAddress().length == 16 ? "[" + ip + "]" : ip) + ":" + p.hostPort();
    }

    // ---- files ----

    private static void write(Path f, Object value) throws IOException {
        writeAtomically(f, JSON.writeValueAsBytes(value));
    }

    private static void writeAtomically(Path f, byte[] bytes) throws IOException {
        Path tmp = f.resolveSibling("." + f.getFileName() + ".tmp");
        try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            c.write(java.nio.ByteBuffer.wrap(bytes));
            c.force(true);
        }
        try {
            Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (var walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        }
    }

    /** This JVM's lock, then the storage root's: held while networks or attachments change. */
    private DirectoryLock.Held lock() throws IOException {
        return LOCK.lock(dir);
    }

    /** network.json. */
    record NetworkFile(String schema, String name, String id, String bridge, List<RangeFile> ranges, boolean internal,
            String created) {
        record RangeFile(String subnet, String gateway) {}

        static NetworkFile of(Network n) {
            return new NetworkFile(SCHEMA, n.name(), n.id(), n.bridge(), n.ranges().stream()
                    .map(r -> new RangeFile(r.subnet().toString(), Subnet.format(r.gateway()))).toList(),
                    n.internal(), n.created().toString());
        }

        Network toNetwork() {
            return new Network(name, id, bridge, ranges.stream()
                    .map(r -> new Network.Range(Subnet.parse(r.subnet()), Subnet.address(r.gateway(), "gateway")))
                    .toList(), internal, Instant.parse(created));
        }
    }

    /** attachments/<container>.json: what DEL needs, the CNI result (null until ADD completed) among it. */
    record AttachmentFile(String containerId, String network, String ifName, String netns, List<PortFile> published,
            JsonNode result) {
        AttachmentFile {
            published = published == null ? List.of() : List.copyOf(published);
        }

        AttachmentFile(String containerId, String network, String ifName, String netns, List<PortMapping> ports,
                JsonNode result, boolean unused) {
            this(containerId, network, ifName, netns, ports.stream().map(PortFile::of).toList(), result);
        }

        List<PortMapping> ports() {
            return published.stream().map(PortFile::toMapping).toList();
        }

        /** A published port as written: its host address as text. */
        record PortFile(String hostIp, int hostPort, int containerPort, String protocol) {
            static PortFile of(PortMapping p) {
                return new PortFile(p.hostIp().getHostAddress(), p.hostPort(), p.containerPort(), p.protocol());
            }

            PortMapping toMapping() {
                return new PortMapping(Subnet.address(hostIp, "hostIp"), hostPort, containerPort, protocol);
            }
        }

        Attachment toAttachment() {
            List<String> addresses = new ArrayList<>();
            List<String> gateways = new ArrayList<>();
            String mac = "";
            if (result != null) {
                for (JsonNode ip : result.path("ips")) {
                    addresses.add(ip.path("address").asText());
                    if (ip.has("gateway")) {
                        gateways.add(ip.path("gateway").asText());
                    }
                }
                for (JsonNode i : result.path("interfaces")) {
                    if (i.path("name").asText().equals(ifName) && i.has("sandbox")) {
                        mac = i.path("mac").asText("");
                    }
                }
            }
            addresses.sort(Comparator.comparing((String s) -> s.contains(":")));
            return new Attachment(containerId, network, ifName, netns, addresses, gateways, mac, ports());
        }
    }
}
