package dev.berth.core.internal.net;

import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import dev.berth.network.Network;
import dev.berth.network.NetworkException;
import dev.berth.network.Subnet;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Names on user networks served by Debian's {@code aardvark-dns} (podman's DNS server), one
 * server per network listening on the network's gateway addresses, port 53.
 *
 * <p>Its configuration directory is {@code <storage>/networks/_dns/<network>/}: one file named as
 * the network, whose first line lists the addresses to listen on and every further line one
 * container ({@code id ipv4,... ipv6,... name,alias,...}); aardvark answers a name with every
 * container listing it, and forwards other names to the host's resolvers. The file is rewritten
 * atomically and the server told with SIGHUP; the server is started with the network's first
 * entry and stopped (by the pid it wrote, checked to be aardvark-dns on that directory) with its
 * last, when the directory goes too. Every change holds this JVM's lock and the storage root's
 * ({@code flock} of {@code _dns/.lock}), as the networks' own store does.
 */
public final class AardvarkNameService implements NameService {
    /** Debian's aardvark-dns package, then podman's other homes. */
    static final List<Path> BINARIES = List.of(Path.of("/usr/lib/podman/aardvark-dns"),
            Path.of("/usr/libexec/podman/aardvark-dns"), Path.of("/usr/local/lib/podman/aardvark-dns"));
    private static final Logger LOG = LoggerFactory.getLogger(AardvarkNameService.class);
    private static final ReentrantLock JVM_LOCK = new ReentrantLock();

    private final Path dir;
    private final Syscalls sys;
    private final List<Path> binaries;
    private final int port;

    public AardvarkNameService(Path networksDir, Syscalls sys) {
        this(networksDir.resolve("_dns"), sys, BINARIES, 53);
    }

    AardvarkNameService(Path dir, Syscalls sys, List<Path> binaries, int port) {
        this.dir = dir;
        this.sys = sys;
        this.binaries = binaries;
        this.port = port;
    }

    @Override
    public Optional<String> server(Network network) {
        return network.ranges().stream().filter(r -> !r.subnet().isIpv6()).findFirst()
                .map(r -> Subnet.format(r.gateway()));
    }

    @Override
    public void add(Network network, String containerId, List<String> addresses, List<String> names) throws IOException {
        Path exe = binary();
        try (Locked l = lock()) {
            Path nd = dir.resolve(network.name());
            Files.createDirectories(nd, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Path file = nd.resolve(network.name());
            List<String> lines = read(file);
            List<String> out = new ArrayList<>();
            out.add(String.join(",", network.ranges().stream().map(r -> Subnet.format(r.gateway())).toList()));
            lines.stream().skip(1).filter(x -> !x.startsWith(containerId + " ")).forEach(out::add);
            out.add(entry(containerId, addresses, names));
            write(file, out);
            if (!signal(nd, Syscalls.SIGHUP)) {
                start(exe, nd, network.name());
            }
        }
    }

    /** {@code id ipv4,... ipv6,... name,...}: aardvark's entry line (an empty column for a family without one). */
    static String entry(String containerId, List<String> addresses, List<String> names) {
        List<String> v4 = addresses.stream().filter(a -> !a.contains(":")).toList();
        List<String> v6 = addresses.stream().filter(a -> a.contains(":")).toList();
        return containerId + " " + String.join(",", v4) + " " + String.join(",", v6) + " " + String.join(",", names);
    }

    @Override
    public void remove(String network, String containerId) throws IOException {
        try (Locked l = lock()) {
            Path nd = dir.resolve(network);
            Path file = nd.resolve(network);
            List<String> lines = read(file);
            if (lines.isEmpty()) {
                stopAndRemove(nd);
                return;
            }
            List<String> out = new ArrayList<>();
            out.add(lines.get(0));
            lines.stream().skip(1).filter(x -> !x.isBlank() && !x.startsWith(containerId + " ")).forEach(out::add);
            if (out.size() == 1) {
                stopAndRemove(nd); // the network's last container: its server goes
                return;
            }
            write(file, out);
            signal(nd, Syscalls.SIGHUP);
        }
    }

    private Path binary() throws NetworkException {
        return binaries.stream().filter(Files::isExecutable).findFirst().orElseThrow(() -> new NetworkException(
                "name service: aardvark-dns not found in " + binaries.stream().map(Path::toString).toList()
                        + " (Debian: apt-get install aardvark-dns)"));
    }

    /** Starts aardvark on the directory; it daemonizes once it listens, writing its pid. */
    private void start(Path exe, Path nd, String network) throws IOException {
        Path log = dir.resolve(network + ".log"); // beside, not in, its directory: aardvark reads every file there
        Process p = new ProcessBuilder(exe.toString(), "--config", nd.toString(), "-p", Integer.toString(port), "run")
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new NetworkException("name service of network " + network + ": aardvark-dns did not start"
                        + " within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new NetworkException("name service of network " + network + ": interrupted", e);
        }
        if (p.exitValue() != 0 || pid(nd).isEmpty()) {
            String out = Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8).replace('\n', ' ').trim() : "";
            throw new NetworkException("name service of network " + network + ": aardvark-dns exit " + p.exitValue()
                    + (out.isEmpty() ? "" : ": " + out));
        }
        LOG.debug("network {}: aardvark-dns {} serving on port {}", network, pid(nd).orElse(-1L), port);
    }

    /** The pid aardvark wrote, when that process still runs aardvark on this directory. */
    private static Optional<Long> pid(Path nd) {
        try {
            long pid = Long.parseLong(Files.readString(nd.resolve("aardvark.pid")).trim());
            String cmdline = Files.readString(Path.of("/proc/" + pid + "/cmdline"), StandardCharsets.UTF_8);
            return cmdline.contains("aardvark-dns") && cmdline.contains("\0" + nd + "\0") ? Optional.of(pid)
                    : Optional.empty();
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

    private static List<String> read(Path file) throws IOException {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
        } catch (NoSuchFileException e) {
            return List.of();
        }
    }

    private static void write(Path file, List<String> lines) throws IOException {
        Path tmp = file.getParent().resolveSibling("." + file.getFileName() + ".tmp"); // not where aardvark reads
        Files.write(tmp, (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private Locked lock() throws IOException {
        JVM_LOCK.lock();
        try {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            FileChannel c = FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            try {
                return new Locked(c, c.lock());
            } catch (IOException | RuntimeException e) {
                c.close();
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            JVM_LOCK.unlock();
            throw e;
        }
    }

    private record Locked(FileChannel channel, FileLock lock) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            try {
                channel.close();
            } finally {
                JVM_LOCK.unlock();
            }
        }
    }
}
