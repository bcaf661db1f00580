package dev.berth.network.usermode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.linux.internal.ProcStatus;
import dev.berth.network.NetworkException;
import dev.berth.network.PortMapping;
import dev.berth.network.Subnet;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A container's user-mode network: {@code pasta} or {@code slirp4netns} connected to the
 * network namespace the container's init made, with its published ports. Needs no privilege: it
 * is how a rootless container reaches the network, and a rootful one may use it too.
 *
 * <p>The tool is started between the init's clone and its go, against the init's pid (it joins the
 * init's user and network namespaces, as a rootless user must) or, as root, against a bind-mount pin
 * of the namespace (pasta drops its capabilities before it opens the namespace, so as root it can
 * open only a pinned file, not {@code /proc/<pid>/ns}). {@link #start} returns once the tool is ready:
 * pasta has configured the namespace and bound the ports when its foreground process exits (it
 * daemonizes, writing its pid file); slirp4netns when its API socket answers, then each port is
 * added through that socket ({@code add_hostfwd}). Neither tool ends by itself when the namespace's
 * last process exits (both hold the namespace), so {@link #stop} ends it by the pid and start time
 * recorded in the returned {@link Running}: a detached container's tool outlives the JVM, and the
 * next runtime ends it from the container's state.
 *
 * <p>The container reaches the host's loopback through the tool's gateway mapping: slirp4netns's
 * {@code 10.0.2.2}, pasta's default gateway (pasta copies the host's addresses and routes, and maps
 * the gateway's address to the host). {@link Running#hostLoopback()} names it.
 *
 * <p>Each tool also relays DNS: a UDP query to port 53 of {@link #dnsForwarder} goes out from the
 * tool's host-side socket to the host's first IPv4 name server in {@code /etc/resolv.conf}, which
 * the tool reads itself, a loopback one (systemd-resolved's 127.0.0.53, a local dnsmasq) included:
 * slirp4netns's built-in {@code 10.0.2.3} (also with {@code --disable-host-loopback}, which only
 * closes {@code 10.0.2.2}), pasta's {@code --dns-forward 169.254.1.1} as podman 5 passes it.
 */
public final class UserModeNetwork {
    /** slirp4netns's fixed addresses (its --configure defaults). */
    static final String SLIRP_ADDRESS = "10.0.2.100/24";
    static final String SLIRP_GATEWAY = "10.0.2.2";
    static final String SLIRP_DNS = "10.0.2.3";
    /**
     * The address pasta is told to forward DNS queries from ({@code --dns-forward}), podman 5's: a
     * link-local address no host or LAN resolver has.
     */
    static final String PASTA_DNS = "169.254.1.1";
    static final int SLIRP_MTU = 65520;
    /** A sun_path holds 108 bytes, the NUL included. */
    static final int MAX_SOCKET_PATH = 107;
    private static final ObjectMapper JSON = new ObjectMapper();

    private UserModeNetwork() {}

    /**
     * A started tool, as the container's state records it.
     *
     * @param tool         {@code pasta} or {@code slirp4netns}
     * @param pid          the tool's process
     * @param startTime    its start time in clock ticks after boot ({@code /proc/<pid>/stat} field 22): with the pid, its identity
     * @param apiSocket    slirp4netns's API socket, null for pasta
     * @param ports        the published ports, host ports chosen
     * @param address      the container's address with prefix, null if unknown
     * @param hostLoopback the address under which the container reaches the host's loopback
     */
    public record Running(String tool, long pid, long startTime, String apiSocket, List<PortMapping> ports,
            String address, String hostLoopback) {}

    /**
     * The address inside the container where the tool answers DNS queries by relaying them to the
     * host's first name server (a loopback one included): {@code 169.254.1.1} for pasta (as podman
     * 5 asks for it), {@code 10.0.2.3} for slirp4netns (its built-in one).
     */
    public static String dnsForwarder(UserModeTool tool) {
        return switch (tool) {
            case PASTA -> PASTA_DNS;
            case SLIRP4NETNS -> SLIRP_DNS;
        };
    }

    /** Where a tool joins the container's network namespace. */
    public record Target(long pid, Optional<Path> netnsPin) {
        public Target {
            if (pid <= 0) {
                throw new IllegalArgumentException("pid: " + pid + " is not a process id");
            }
        }
    }

    /**
     * Refuses what the start would fail on, before anything is made: a host port that is taken. A
     * host port 0 gets a free one (bound and released here, as docker chooses it).
     *
     * @return the ports, host ports chosen
     * @throws NetworkException naming the address, port and protocol
     */
    public static List<PortMapping> choosePorts(List<PortMapping> ports) {
        List<PortMapping> out = new ArrayList<>();
        for (PortMapping p : ports) {
            int port = bind(p.hostIp(), p.hostPort(), p.protocol());
            out.add(p.hostPort() == 0 ? p.withHostPort(port) : p);
        }
        return out;
    }

    private static int bind(InetAddress ip, int port, String protocol) {
        InetSocketAddress a = new InetSocketAddress(ip, port);
        try {
            if (protocol.equals("udp")) {
                try (DatagramChannel c = DatagramChannel.open()) {
                    c.bind(a);
                    return ((InetSocketAddress) c.getLocalAddress()).getPort();
                }
            }
            try (ServerSocketChannel c = ServerSocketChannel.open()) {
                c.bind(a);
                return ((InetSocketAddress) c.getLocalAddress()).getPort();
            }
        } catch (IOException e) {
            throw new NetworkException("bind " + hostAndPort(ip, port) + "/" + protocol + ": " + e.getMessage(), e);
        }
    }

    /**
     * Starts the tool for the namespace and waits until it is ready.
     *
     * @param dir     the container's state directory: the tool's pid file, log and API socket go there
     * @param ports   the published ports, host ports chosen ({@link #choosePorts})
     * @throws NetworkException with the tool's own error; nothing of it is left then
     */
    public static Running start(UserModeTool tool, Path executable, Path dir, Target target, List<PortMapping> ports,
            Duration timeout) {
        return switch (tool) {
            case PASTA -> startPasta(executable, dir, target, ports, timeout);
            case SLIRP4NETNS -> startSlirp(executable, dir, target, ports, timeout);
        };
    }

    static List<String> pastaArgv(Path executable, Path pidFile, Target target, List<PortMapping> ports,
            boolean root) {
        List<String> argv = new ArrayList<>(List.of(executable.toString(), "--config-net", "--quiet",
                "--pid", pidFile.toString()));
        if (root) {
            argv.addAll(List.of("--runas", "0:0")); // else it changes to nobody, who cannot open the pin
        }
        for (String proto : List.of("tcp", "udp")) {
            List<String> specs = ports.stream().filter(p -> p.protocol().equals(proto)).map(UserModeNetwork::pastaSpec)
                    .toList();
            String flag = proto.equals("tcp") ? "-t" : "-u";
            if (specs.isEmpty()) {
                argv.addAll(List.of(flag, "none"));
            }
            for (String s : specs) {
                argv.addAll(List.of(flag, s));
            }
        }
        // no automatic forwarding of the container's own loopback to the host's: only the gateway mapping
        argv.addAll(List.of("-T", "none", "-U", "none"));
        // the DNS relay the container's resolv.conf names when the host's resolvers are on loopback;
        // pasta takes the target from the host's /etc/resolv.conf itself (its first IPv4 name server)
        argv.addAll(List.of("--dns-forward", PASTA_DNS));
        if (target.netnsPin().isPresent()) {
            argv.addAll(List.of("--netns", target.netnsPin().get().toString()));
        } else {
            argv.add(Long.toString(target.pid()));
        }
        return argv;
    }

    /** pasta's {@code [ADDR/]PORT:TARGET}; the any-address binds every address. */
    static String pastaSpec(PortMapping p) {
        String ports = p.hostPort() + ":" + p.containerPort();
        return p.hostIp().isAnyLocalAddress() ? ports : Subnet.format(p.hostIp()) + "/" + ports;
    }

    private static Running startPasta(Path executable, Path dir, Target target, List<PortMapping> ports,
            Duration timeout) {
        Path pidFile = dir.resolve("pasta.pid");
        Path err = dir.resolve("pasta.err");
        List<String> argv = pastaArgv(executable, pidFile, target, ports, ProcStatus.isRoot());
        Process p = null;
        try {
            Files.deleteIfExists(pidFile);
            p = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(err.toFile()).start();
            if (!p.waitFor(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                throw new NetworkException("network pasta: not ready after " + timeout.toMillis() + " ms");
            }
            if (p.exitValue() != 0) {
                throw new NetworkException("network pasta: " + toolError(err, p.exitValue()));
            }
            long pid = Long.parseLong(Files.readString(pidFile, StandardCharsets.US_ASCII).trim());
            long start = startTime(pid).orElseThrow(() -> new NetworkException("network pasta: its daemon "
                    + pid + " exited at once: " + toolError(err, 0)));
            Running r = new Running(UserModeTool.PASTA.command(), pid, start, null, ports, pastaAddress(),
                    defaultGateway().orElse(null));
            Files.deleteIfExists(err);
            Files.deleteIfExists(pidFile);
            return r;
        } catch (IOException | InterruptedException | NumberFormatException | NetworkException e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            if (p != null && p.isAlive()) {
                p.destroyForcibly();
            }
            // a daemon that wrote its pid file before the failure (or the timeout) goes too
            readPid(pidFile).ifPresent(pid -> startTime(pid).ifPresent(st -> stop(pid, st)));
            deleteQuietly(pidFile);
            deleteQuietly(err);
            throw e instanceof NetworkException ne ? ne : new NetworkException("network pasta: " + e.getMessage(), e);
        }
    }

    static List<String> slirpArgv(Path executable, Path socket, Target target) {
        List<String> argv = new ArrayList<>(List.of(executable.toString(), "--configure", "--mtu=" + SLIRP_MTU,
                "--api-socket", socket.toString()));
        if (target.netnsPin().isPresent()) {
            argv.addAll(List.of("--netns-type=path", target.netnsPin().get().toString()));
        } else {
            argv.add(Long.toString(target.pid()));
        }
        argv.add("tap0");
        return argv;
    }

    private static Running startSlirp(Path executable, Path dir, Target target, List<PortMapping> ports,
            Duration timeout) {
        Path socket = dir.resolve("slirp4netns.sock");
        Path log = dir.resolve("slirp4netns.log");
        if (socket.toString().getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH) {
            throw new NetworkException("network slirp4netns: API socket path " + socket + " is longer than "
                    + MAX_SOCKET_PATH + " bytes (choose a shorter state root)");
        }
        Process p = null;
        try {
            Files.deleteIfExists(socket);
            p = new ProcessBuilder(slirpArgv(executable, socket, target))
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(log.toFile()).start();
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                if (!p.isAlive()) {
                    throw new NetworkException("network slirp4netns: " + toolError(log, p.exitValue()));
                }
                if (Files.exists(socket) && answers(socket)) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    throw new NetworkException("network slirp4netns: not ready after " + timeout.toMillis() + " ms");
                }
                Thread.sleep(2);
            }
            long start = startTime(p.pid()).orElseThrow(() -> new NetworkException("network slirp4netns: exited"));
            Running r = new Running(UserModeTool.SLIRP4NETNS.command(), p.pid(), start, socket.toString(), ports,
                    SLIRP_ADDRESS, SLIRP_GATEWAY);
            for (PortMapping m : ports) {
                JsonNode reply = api(socket, hostfwd(m));
                if (reply.has("error")) {
                    throw new NetworkException("network slirp4netns: publishing " + m + ": " + reply.get("error")
                            .path("desc").asText(reply.get("error").toString()));
                }
            }
            return r;
        } catch (IOException | InterruptedException | NetworkException e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            if (p != null) {
                p.destroyForcibly();
                try {
                    p.waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                }
            }
            deleteQuietly(socket);
            deleteQuietly(log);
            throw e instanceof NetworkException ne ? ne
                    : new NetworkException("network slirp4netns: " + e.getMessage(), e);
        }
    }

    /** slirp4netns's {@code add_hostfwd} request for a port. */
    static String hostfwd(PortMapping m) {
        ObjectNode args = JSON.createObjectNode().put("proto", m.protocol())
                .put("host_addr", Subnet.format(m.hostIp())).put("host_port", m.hostPort())
                .put("guest_port", m.containerPort());
        ObjectNode req = JSON.createObjectNode().put("execute", "add_hostfwd");
        req.set("arguments", args);
        return req.toString();
    }

    private static boolean answers(Path socket) {
        try {
            return api(socket, "{\"execute\": \"list_hostfwd\"}").isObject(); // {"entries": [...]}: listening
        } catch (IOException e) {
            return false; // not listening yet
        }
    }

    /** One request on slirp4netns's API socket: it answers and closes. */
    static JsonNode api(Path socket, String request) throws IOException {
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(socket));
            c.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.UTF_8)));
            c.shutdownOutput();
            ByteBuffer b = ByteBuffer.allocate(64 * 1024);
            while (c.read(b) >= 0 && b.hasRemaining()) {
                // until slirp4netns closes its end
            }
            b.flip();
            String reply = StandardCharsets.UTF_8.decode(b).toString().trim();
            if (reply.isEmpty()) {
                throw new IOException("slirp4netns API " + socket + ": empty reply to " + request);
            }
            return JSON.readTree(reply);
        }
    }

    /**
     * Ends a started tool, if still the same process (pid and start time), and removes its socket.
     * Idempotent: a tool already gone is no error.
     *
     * @throws NetworkException if it outlives SIGKILL
     */
    public static void stop(Running r) {
        stop(r.pid(), r.startTime());
        if (r.apiSocket() != null) {
            Path socket = Path.of(r.apiSocket());
            deleteQuietly(socket);
            deleteQuietly(socket.resolveSibling("slirp4netns.log"));
        }
    }

    static void stop(long pid, long startTime) {
        if (!sameProcess(pid, startTime)) {
            return;
        }
        Optional<ProcessHandle> h = ProcessHandle.of(pid);
        h.ifPresent(ProcessHandle::destroy);
        if (awaitGone(pid, startTime, 2000)) {
            return;
        }
        h.ifPresent(ProcessHandle::destroyForcibly);
        if (!awaitGone(pid, startTime, 5000)) {
            throw new NetworkException("user-mode network process " + pid + " survived SIGKILL");
        }
    }

    private static boolean awaitGone(long pid, long startTime, long millis) {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (sameProcess(pid, startTime)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    /** Whether pid still is the process that started at startTime, and not a zombie. */
    public static boolean sameProcess(long pid, long startTime) {
        Optional<String[]> f = stat(pid);
        return f.isPresent() && !f.get()[0].equals("Z") && Long.parseLong(f.get()[19]) == startTime;
    }

    static Optional<Long> startTime(long pid) {
        return stat(pid).filter(f -> !f[0].equals("Z")).map(f -> Long.parseLong(f[19]));
    }

    /** {@code /proc/<pid>/stat} from field 3 (state) on: the command in parentheses may hold spaces. */
    private static Optional<String[]> stat(long pid) {
        try {
            String s = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.ISO_8859_1);
            return Optional.of(s.substring(s.lastIndexOf(')') + 2).trim().split(" "));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            // reaped between open and read: the kernel answers ESRCH, not ENOENT (the stop loop polls
            // exactly then); a failure while the process still exists is a real error
            if (!Files.exists(Path.of("/proc", Long.toString(pid)))) {
                return Optional.empty();
            }
            throw new UncheckedIOException("/proc/" + pid + "/stat: " + e.getMessage(), e);
        }
    }

    private static Optional<Long> readPid(Path pidFile) {
        try {
            return Optional.of(Long.parseLong(Files.readString(pidFile, StandardCharsets.US_ASCII).trim()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The tool's error lines, without pasta's complaints about a missing syslog. */
    static String toolError(Path log, int exit) {
        String text;
        try {
            text = Files.readString(log, StandardCharsets.UTF_8).lines()
                    .filter(l -> !l.isBlank() && !l.startsWith("Failed to send") && !l.contains("Don't run as root"))
                    .map(String::trim).collect(Collectors.joining("; "));
        } catch (IOException e) {
            text = "";
        }
        return (text.isEmpty() ? "no message" : text) + (exit != 0 ? " (exit " + exit + ")" : "");
    }

    /** The host's IPv4 default gateway: what pasta gives the container, and maps to the host's loopback. */
    static Optional<String> defaultGateway() {
        return defaultRoute().map(r -> r[1]);
    }

    /** The address pasta copies into the namespace: the one of the host's default-route interface. */
    private static String pastaAddress() {
        Optional<String[]> r = defaultRoute();
        if (r.isEmpty()) {
            return null;
        }
        try {
            NetworkInterface nif = NetworkInterface.getByName(r.get()[0]);
            if (nif != null) {
                for (InterfaceAddress a : nif.getInterfaceAddresses()) {
                    if (a.getAddress() instanceof Inet4Address) {
                        return a.getAddress().getHostAddress() + "/" + a.getNetworkPrefixLength();
                    }
                }
            }
        } catch (SocketException e) {
            return null;
        }
        return null;
    }

    /** {interface, gateway} of the first IPv4 default route in /proc/net/route. */
    private static Optional<String[]> defaultRoute() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/net/route"))) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 2 && f[1].equals("00000000") && !f[2].equals("00000000")) {
                    long g = Long.parseLong(f[2], 16); // little-endian hex
                    return Optional.of(new String[] {f[0], (g & 0xff) + "." + ((g >> 8) & 0xff) + "."
                            + ((g >> 16) & 0xff) + "." + ((g >> 24) & 0xff)});
                }
            }
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    /**
     * Whether the tool must be handed a pinned namespace file rather than the init's pid: as root
     * (pasta drops its capabilities first, and a pinned nsfs file opens without the ptrace check).
     */
    public static boolean needsPin() {
        return ProcStatus.isRoot();
    }

    /** Whether the JVM's effective uid is not 0: Berth runs rootless. */
    public static boolean rootless() {
        return !ProcStatus.isRoot();
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // best effort: a state directory's leftover goes with the directory
        }
    }

    private static String hostAndPort(InetAddress ip, int port) {
        String a = Subnet.format(ip);
        return (ip.getAddress().length == 16 ? "[" + a + "]" : a) + ":" + port;
    }
}
