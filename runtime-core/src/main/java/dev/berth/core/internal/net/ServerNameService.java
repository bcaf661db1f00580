package dev.berth.core.internal.net;

import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import dev.berth.network.Network;
import dev.berth.network.NetworkException;
import dev.berth.network.Subnet;
import dev.berth.network.dns.NameServer;
import dev.berth.network.dns.NamesFile;
import dev.berth.network.internal.DirectoryLock;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Names on user networks served by Berth's own name server ({@link NameServer}, dnsjava messages),
 * one process per network, listening on the network's gateway addresses, port 53. It replaced
 * Debian's aardvark-dns 1.4, which answers an alias shared by several containers in one fixed order
 * (its table keeps a name's addresses in the order of its configuration lines, read at start and on
 * SIGHUP only): a client taking the first address always reached the same replica.
 *
 * <p>Its directory is {@code <storage>/networks/_dns/<network>/} holding {@code names.json}
 * ({@link NamesFile}: listen addresses, the subnets that may ask, one entry per container with
 * whether it serves now) and {@code server.pid}; its output goes to {@code _dns/<network>.log}.
 * The file is rewritten whole and renamed into place; the server checks it at each query, so the
 * next answer already has the change. The server is its own session ({@code setsid}) of a separate
 * {@code java} (never a fork of this JVM), so it outlives this JVM for detached containers and a
 * terminal's interrupt does not reach it; it starts with the network's first entry and is stopped
 * (SIGTERM through a pidfd, after checking the pid is the server of that directory) with the last,
 * when the directory goes too (a server that finds its directory gone ends by itself). Every change
 * holds this JVM's lock and the storage root's ({@code flock} of {@code _dns/.lock}).
 */
public final class ServerNameService implements NameService {
    static final List<Path> SETSID = List.of(Path.of("/usr/bin/setsid"), Path.of("/bin/setsid"));
    private static final String MAIN = NameServer.class.getName();
    private static final Logger LOG = LoggerFactory.getLogger(ServerNameService.class);
    private static final DirectoryLock LOCK = new DirectoryLock();

    private final Path dir;
    private final Syscalls sys;
    private final int port;

    public ServerNameService(Path networksDir, Syscalls sys) {
        this(networksDir.resolve("_dns"), sys, 53);
    }

    ServerNameService(Path dir, Syscalls sys, int port) {
        this.dir = dir;
        this.sys = sys;
        this.port = port;
    }

    @Override
    public Optional<String> server(Network network) {
        return network.ranges().stream().filter(r -> !r.subnet().isIpv6()).findFirst()
                .map(r -> Subnet.format(r.gateway()));
    }

    @Override
    public void add(Network network, String containerId, List<String> addresses, List<String> names, boolean serving)
            throws IOException {
        try (DirectoryLock.Held l = lock()) {
            Path nd = dir.resolve(network.name());
            Files.createDirectories(nd, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Path file = nd.resolve(NameServer.FILE);
            NamesFile table = read(file).orElseGet(() -> new NamesFile(NamesFile.SCHEMA,
                    network.ranges().stream().map(r -> Subnet.format(r.gateway())).toList(),
                    network.ranges().stream().map(r -> r.subnet().toString()).toList(), List.of()));
            table.with(new NamesFile.Entry(containerId, addresses, names, serving)).write(file);
            if (pid(nd).isEmpty()) {
                start(nd, network.name());
            }
        }
    }

    @Override
    public void serve(String network, String containerId, boolean serving) throws IOException {
        try (DirectoryLock.Held l = lock()) {
            Path nd = dir.resolve(network);
            Path file = nd.resolve(NameServer.FILE);
            Optional<NamesFile> table = read(file);
            Optional<NamesFile.Entry> e = table.flatMap(t -> t.entries().stream()
                    .filter(x -> x.id().equals(containerId)).findFirst());
            if (e.isEmpty() || e.get().serving() == serving) {
                return; // released meanwhile, or already so
            }
            table.get().with(e.get().withServing(serving)).write(file);
            LOG.debug("network {}: container {} {} its names", network, containerId, serving ? "serves" : "left out of");
        }
    }

    @Override
    public void remove(String network, String containerId) throws IOException {
        try (DirectoryLock.Held l = lock()) {
            Path nd = dir.resolve(network);
            Path file = nd.resolve(NameServer.FILE);
            Optional<NamesFile> table = read(file);
            NamesFile rest = table.map(t -> t.without(containerId)).orElse(null);
            if (rest == null || rest.entries().isEmpty()) {
                stopAndRemove(nd); // the network's last container: its server goes
                return;
            }
            rest.write(file);
        }
    }

    /** The classpath the server needs: the jars (or class directories) of its code and its libraries. */
    static String classpath() throws NetworkException {
        List<String> out = new ArrayList<>();
        for (Class<?> c : List.of(NameServer.class, org.xbill.DNS.Message.class, org.slf4j.LoggerFactory.class,
                com.fasterxml.jackson.databind.ObjectMapper.class, com.fasterxml.jackson.core.JsonFactory.class,
                com.fasterxml.jackson.annotation.JsonInclude.class)) {
            try {
                java.security.CodeSource cs = c.getProtectionDomain().getCodeSource();
                Path p = Path.of(cs.getLocation().toURI());
                if (!Files.exists(p)) {
                    throw new NetworkException("name service: " + c.getName() + " comes from " + p + ", which is gone");
                }
                if (!out.contains(p.toString())) {
                    out.add(p.toString());
                }
            } catch (URISyntaxException | RuntimeException e) {
                throw new NetworkException("name service: no file to give the name server for " + c.getName()
                        + " (loaded from " + c.getProtectionDomain().getCodeSource() + "): " + e.getMessage(), e);
            }
        }
        return String.join(":", out);
    }

    /** Starts the server on the directory, in its own session; returns once it listens (it wrote its pid). */
    private void start(Path nd, String network) throws IOException {
        Path setsid = SETSID.stream().filter(Files::isExecutable).findFirst().orElseThrow(() -> new NetworkException(
                "name service: setsid not found in " + SETSID + " (Debian: util-linux)"));
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path log = dir.resolve(network + ".log");
        Process p = new ProcessBuilder(setsid.toString(), java.toString(), "-Xmx32m", "-Xss512k", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData", "-cp", classpath(), MAIN, nd.toString(),
                Integer.toString(port))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        try {
            while (pid(nd).isEmpty()) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    boolean timedOut = p.isAlive();
                    p.destroyForcibly();
                    p.waitFor(5, TimeUnit.SECONDS);
                    String out = Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8).replace('\n', ' ').trim()
                            : "";
                    throw new NetworkException("name service of network " + network + ": "
                            + (timedOut ? "the name server did not listen within 30 s" : "name server exit " + p.exitValue())
                            + (out.isEmpty() ? "" : ": " + out));
                }
                Thread.sleep(10);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new NetworkException("name service of network " + network + ": interrupted", e);
        }
        LOG.debug("network {}: name server {} on port {}", network, pid(nd).orElse(-1L), port);
    }

    /** The pid the server wrote, when that process still runs the server on this directory. */
    static Optional<Long> pid(Path nd) {
        try {
            long pid = Long.parseLong(Files.readString(nd.resolve(NameServer.PID)).trim());
            String cmdline = Files.readString(Path.of("/proc/" + pid + "/cmdline"), StandardCharsets.UTF_8);
            return cmdline.contains("\0" + MAIN + "\0" + nd + "\0") ? Optional.of(pid) : Optional.empty();
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * Sends {@code signal} to the directory's server through a pidfd, opened before the process is
     * checked, so that a reused pid is never signalled.
     *
     * @return false when no server runs there
     */
    private boolean signal(Path nd, int signal) {
        Optional<Long> pid = pid(nd);
        if (pid.isEmpty()) {
            return false;
        }
        int pidfd;
        try {
            pidfd = sys.pidfdOpen(pid.get());
        } catch (SyscallException e) {
            return false;
        }
        try {
            return pid(nd).equals(pid) && sys.pidfdSendSignal(pidfd, signal);
        } finally {
            sys.close(pidfd);
        }
    }

    private void stopAndRemove(Path nd) throws IOException {
        Optional<Long> pid = pid(nd);
        if (pid.isPresent() && signal(nd, Syscalls.SIGTERM)) {
            Optional<ProcessHandle> h = ProcessHandle.of(pid.get());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (h.isPresent() && h.get().isAlive() && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        Files.deleteIfExists(dir.resolve(nd.getFileName() + ".log"));
        if (Files.exists(nd, LinkOption.NOFOLLOW_LINKS)) {
            try (Stream<Path> walk = Files.walk(nd)) {
                for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(q);
                }
            }
        }
    }

    private static Optional<NamesFile> read(Path file) throws IOException {
        try {
            return Optional.of(NamesFile.read(file));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    private DirectoryLock.Held lock() throws IOException {
        return LOCK.lock(dir);
    }
}
