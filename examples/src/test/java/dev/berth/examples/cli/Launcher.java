package dev.berth.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.core.ContainerInfo;
import dev.berth.core.ContainerRuntime;
import dev.berth.network.Networks;
import dev.berth.network.Subnet;
import dev.berth.network.internal.HostRoutes;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The executable examples/berth, as a user runs it, on roots of one test class: a storage root and
 * a state root made for the class and passed as the global options ({@code berth --root S
 * --state-root T CMD ...}; a {@code --root} after the command has the last word), so that no test
 * depends on or leaves anything in the host's /var/lib/berth and /run/berth. After the class every
 * container on the state root is removed (force), whether its test passed or not, and the roots
 * are deleted. Register it as {@code @RegisterExtension static final Launcher BERTH = new Launcher();}.
 *
 * <p>Bridges and subnets are the host's, while the default network ({@code bridge}) is a storage
 * root's, made on first use: two storage roots each make theirs with the first {@code berthN} that
 * no interface has yet and 10.88.0.0/16, so two runs at once (or a run and the host's own root)
 * could make theirs alike before either bridge exists, share one bridge with two address pools, and
 * the first to end would delete the bridge of the other. Each storage root made here therefore gets
 * its default network written in advance on a bridge {@code berthitN} and a subnet 10.87.N.0/24 that
 * this run holds (an flock of {@code /run/lock/berth-it-networks/N.lock}, released with the JVM).
 */
final class Launcher implements BeforeAllCallback, AfterAllCallback {
    /** What a command did. */
    record Outcome(int code, String out, String err) {}

    private static final Path RESERVATIONS = Path.of("/run/lock/berth-it-networks");
    private static final String SCHEMA = "berth.network/v1";

    private final List<FileChannel> reservations = new ArrayList<>();
    private final Map<Path, String> bridges = new LinkedHashMap<>();
    private final String run = Long.toHexString(System.nanoTime() & 0xffffff);
    private Path dir;
    private Path storageRoot;
    private Path stateRoot;

    @Override
    public void beforeAll(ExtensionContext context) throws IOException, InterruptedException {
        dir = Files.createTempDirectory("berth-it-");
        stateRoot = dir.resolve("state");
        storageRoot = newStorageRoot();
    }

    /** The class's storage root ({@code --root}). */
    Path storageRoot() {
        return storageRoot;
    }

    /** The class's state root ({@code --state-root}). */
    Path stateRoot() {
        return stateRoot;
    }

    /** Another, empty storage root (given with {@code --root} after the command), with its own default network. */
    Path newStorageRoot() throws IOException, InterruptedException {
        Path root = Files.createTempDirectory(dir, "storage-");
        reserveDefaultNetwork(root);
        return root;
    }

    /** A container name of this run only ({@code name-<hex>}): cgroups and CNI chains are named after it, host-wide. */
    String name(String name) {
        return name + "-" + run;
    }

    /** The command line of {@code berth ARGS} on the class's roots. */
    List<String> command(String... args) {
        List<String> cmd = new ArrayList<>(List.of(System.getProperty("berth.launcher"), "--root", storageRoot.toString(),
                "--state-root", stateRoot.toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Runs {@code berth ARGS} with stdin closed. */
    Outcome run(String... args) throws IOException, InterruptedException {
        return run(Map.of(), "", args);
    }

    /** Runs {@code berth ARGS} with {@code env} added to the environment and {@code input} on stdin. */
    Outcome run(Map<String, String> env, String input, String... args) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command(args));
        pb.environment().putAll(env);
        Process p = pb.start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(input.getBytes(StandardCharsets.UTF_8));
        }
        // stderr on a thread of its own: a command that fills the pipe of one stream would wait for ever
        var err = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("berth %s ended", String.join(" ", args)).isTrue();
        return new Outcome(p.exitValue(), out, err.join());
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (dir == null) {
            return; // beforeAll failed before it made anything
        }
        List<Throwable> failures = new ArrayList<>();
        try (ContainerRuntime r = ContainerRuntime.builder().stateRoot(stateRoot).storageRoot(storageRoot).build()) {
            for (ContainerInfo i : r.list()) {
                try {
                    r.remove(i.id(), true);
                } catch (RuntimeException e) {
                    failures.add(e);
                }
            }
        } catch (RuntimeException e) {
            failures.add(e);
        }
        for (Path root : bridges.keySet()) {
            try {
                Networks.open(root).remove(Networks.DEFAULT); // its bridge, if a container left it behind
            } catch (IOException | RuntimeException e) {
                failures.add(e);
            }
        }
        for (String bridge : bridges.values()) { // checked while held: once released, another run may make it
            if (Files.exists(Path.of("/sys/class/net", bridge))) {
                failures.add(new AssertionError("bridge left: " + bridge));
            }
        }
        for (FileChannel c : reservations) {
            c.close();
        }
        try {
            deleteTree(dir);
        } catch (IOException e) {
            failures.add(e);
        }
        if (!failures.isEmpty()) {
            AssertionError e = new AssertionError("cleaning up after the launcher's tests: " + failures.get(0));
            failures.forEach(e::addSuppressed);
            throw e;
        }
    }

    /** Writes the default network of {@code root} on a bridge and a /24 that this run holds. */
    private void reserveDefaultNetwork(Path root) throws IOException, InterruptedException {
        Files.createDirectories(RESERVATIONS);
        List<HostRoutes.Route> routes = HostRoutes.read(Path.of("/proc/net"));
        for (int n = 0; n < 256; n++) {
            FileChannel c = FileChannel.open(RESERVATIONS.resolve(n + ".lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = c.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null; // this JVM's already
            }
            String bridge = "berthit" + n;
            Subnet subnet = Subnet.parse("10.87." + n + ".0/24");
            boolean hostUses = routes.stream().anyMatch(r -> !r.iface().equals(bridge) && r.destination().overlaps(subnet));
            if (lock == null || hostUses) {
                c.close();
                continue;
            }
            reservations.add(c);
            if (Files.exists(Path.of("/sys/class/net", bridge))) {
                sh(Path.of("/"), "ip", "link", "delete", bridge); // a run that was killed left it; no run holds it now
            }
            Path network = Files.createDirectories(root.resolve("networks/bridge/attachments"),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"))).getParent();
            byte[] id = new byte[32];
            new SecureRandom().nextBytes(id);
            ObjectNode json = new ObjectMapper().createObjectNode().put("schema", SCHEMA).put("name", Networks.DEFAULT)
                    .put("id", HexFormat.of().formatHex(id)).put("bridge", bridge);
            json.putArray("ranges").addObject().put("subnet", subnet.toString())
                    .put("gateway", Subnet.format(subnet.host(1)));
            json.put("internal", false).put("created", Instant.now().toString());
            Files.write(network.resolve("network.json"), new ObjectMapper().writeValueAsBytes(json));
            bridges.put(root, bridge);
            return;
        }
        throw new IllegalStateException("no /24 of 10.87.0.0/16 is free for a test's default network");
    }

    /** Runs {@code cmd} in {@code dir}, and checks that it succeeded (its output in the message otherwise). */
    static void sh(Path dir, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(String.join(" ", cmd) + ": " + out).isZero();
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        }
    }
}
