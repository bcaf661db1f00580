package dev.berth.core.internal.etc;

import dev.berth.core.ContainerSpec;
import dev.berth.core.Namespace;
import dev.berth.core.internal.plan.ContainerView;
import dev.berth.network.usermode.UserModeNetwork;
import dev.berth.network.usermode.UserModeTool;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Writes a container's {@code hosts}, {@code hostname} and {@code resolv.conf} into its state
 * directory, from where the plan bind-mounts them onto {@code /etc}: they never reach an image's
 * layers, a writable layer or a root directory, and go with the state directory.
 */
public final class EtcFiles {
    /** The host's files read, each at most this long: a file beyond it fails the start, saying so. */
    static final int MAX_HOST_FILE = 16 << 20;

    /** The files written into the state directory, each mounted at /etc/NAME. */
    public static final List<String> NAMES = List.of("hosts", "hostname", "resolv.conf");

    /** The host's resolv.conf, relative to the host root. */
    public static final String RESOLV_CONF = "etc/resolv.conf";

    private final Path hostRoot;
    private final Path resolvConf;

    /** Reads the host's files below {@code hostRoot} ("/" but in tests). */
    public EtcFiles(Path hostRoot) {
        this(hostRoot, hostRoot.resolve(RESOLV_CONF));
    }

    /**
     * Reads the host's files below {@code hostRoot}, its resolv.conf from {@code resolvConf}: for tests
     * (a user-mode network's tool still reads the host's {@code /etc/resolv.conf} itself).
     */
    public EtcFiles(Path hostRoot, Path resolvConf) {
        this.hostRoot = hostRoot;
        this.resolvConf = resolvConf;
    }

    /**
     * @param dir      the container's state directory (private to root: the files are reached through it
     *                 only by the init, before pivot_root)
     * @param hostname the container's host name (its UTS namespace's; the host's when it shares that)
     * @return the mounts, in the order the plan makes them
     */
    public List<ContainerView.FileMount> write(Path dir, ContainerSpec spec, String hostname) throws IOException {
        boolean hostNetwork = !spec.namespaces().contains(Namespace.NETWORK);
        boolean ownUts = spec.namespaces().contains(Namespace.UTS);
        String name = ownUts ? hostname : hostHostname();
        String hosts = hostNetwork
                ? HostsFile.host(read("etc/hosts").orElse(""), name, ownUts, spec.extraHosts())
                : HostsFile.own(name, spec.extraHosts());
        // a user-mode network relays DNS to the host's resolver, a loopback one included
        Optional<String> forwarder = spec.network().userMode()
                ? UserModeTool.of(spec.network().toString()).map(UserModeNetwork::dnsForwarder) : Optional.empty();
        String resolv = ResolvConf.generate(hostResolv(), hostNetwork, forwarder, spec.dns(), spec.dnsSearch(),
                spec.dnsOptions());
        List<String> contents = List.of(hosts, name + "\n", resolv);
        List<ContainerView.FileMount> out = new ArrayList<>();
        for (int i = 0; i < NAMES.size(); i++) {
            out.add(create(dir, NAMES.get(i), contents.get(i)));
        }
        return out;
    }

    /**
     * The resolv.conf of a container on a network with a name server of its own: that server (the
     * network's gateway) unless the spec names servers, with the spec's or the host's search
     * domains and options.
     */
    public String resolvConfWith(ContainerSpec spec, String server) throws IOException {
        List<String> servers = spec.dns().isEmpty() ? List.of(server) : spec.dns();
        return ResolvConf.generate(hostResolv(), false, servers, spec.dnsSearch(), spec.dnsOptions());
    }

    private ResolvConf.HostFiles hostResolv() throws IOException {
        return new ResolvConf.HostFiles(read(resolvConf).orElse(""), read(hostRoot.resolve(
                "run/systemd/resolve/resolv.conf")));
    }

    private static ContainerView.FileMount create(Path dir, String name, String content) throws IOException {
        Path f = dir.resolve(name);
        // CREATE_NEW: never through a symlink, never over anything
        Files.write(f, content.getBytes(StandardCharsets.ISO_8859_1), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--")); // for every user inside
        return new ContainerView.FileMount(f.toString(), "/etc/" + name);
    }

    /** The host's host name (the kernel's, as hostname(1) prints it). */
    private String hostHostname() throws IOException {
        String h = read("proc/sys/kernel/hostname").orElse("").trim();
        return h.isEmpty() ? "localhost" : h;
    }

    /**
     * A host file's bytes (ISO-8859-1, so that they pass through unchanged), or empty when it is missing
     * or not a regular file (a FIFO would block the start).
     */
    Optional<String> read(String relative) throws IOException {
        return read(hostRoot.resolve(relative));
    }

    private static Optional<String> read(Path p) throws IOException {
        if (!Files.isRegularFile(p)) {
            return Optional.empty();
        }
        try (InputStream in = Files.newInputStream(p)) {
            byte[] b = in.readNBytes(MAX_HOST_FILE + 1);
            if (b.length > MAX_HOST_FILE) {
                throw new IOException(p + ": longer than " + MAX_HOST_FILE + " bytes");
            }
            return Optional.of(new String(b, StandardCharsets.ISO_8859_1));
        } catch (java.nio.file.NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /**
     * Whether the plan may make a missing mount point in the root: false on a read-only mount
     * (access(2) answers EROFS; a FileStore would report the file system, not the bind mount's flag).
     */
    public static boolean writable(Path directoryRoot) {
        return Files.isWritable(directoryRoot);
    }
}
