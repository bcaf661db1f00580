package dev.berth.network.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.network.NetworkException;
import dev.berth.network.Subnet;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The host's bridge networks, across storage roots: a bridge and its subnets are claimed by the
 * network that chose them (a file {@code <bridge>.json} in a host-wide directory naming the
 * network's directory), under a host-wide lock, so that two runtimes with different storage roots
 * creating networks at once never choose one bridge name or overlapping subnets. The bridge device
 * itself appears only at a network's first attach and goes with its last container (the default
 * network's), so neither {@code /sys/class/net} nor the route table tells a network that no
 * container uses yet.
 *
 * <p>A claim is alive while the network it names exists with that bridge: one whose network is gone
 * (its root deleted, a JVM that died between the claim and the network's record) is removed when
 * found. Root's claims live in {@link #HOST}, which must be root's own directory, mode 0700.
 */
public final class BridgeClaims {
    /** Host-wide, beside the default state root's containers (whose ids cannot begin with a dot). */
    public static final Path HOST = Path.of("/run/berth/.bridges");
    private static final DirectoryLock LOCK = new DirectoryLock();
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One claim: {@code bridge} and {@code subnets}, for the network whose directory is {@code owner}. */
    public record Claim(String bridge, String owner, List<String> subnets) {
        public Claim {
            subnets = subnets == null ? List.of() : List.copyOf(subnets);
        }

        /** The claimed subnets, parsed. */
        public List<Subnet> parsedSubnets() {
            return subnets.stream().map(Subnet::parse).toList();
        }

        /** {@code network "NAME" of storage root ROOT}. */
        public String describe() {
            Path o = Path.of(owner);
            Path root = o.getParent() == null ? null : o.getParent().getParent();
            return "network \"" + o.getFileName() + "\" of storage root " + root;
        }
    }

    /** Whether the network at a directory exists now with this bridge. */
    @FunctionalInterface
    public interface Liveness {
        boolean alive(Path networkDir, String bridge) throws IOException;
    }

    private final Path dir;
    private final Liveness liveness;

    public BridgeClaims(Path dir, Liveness liveness) {
        this.dir = dir;
        this.liveness = liveness;
    }

    /** Where the claims are. */
    public Path dir() {
        return dir;
    }

    /**
     * The host-wide lock (this JVM's, then the flock of {@code .lock}), after the directory is
     * checked: made 0700 when missing; refused when it is a link or another user's or others may
     * write it.
     */
    public DirectoryLock.Held lock() throws IOException {
        Files.createDirectories(dir.getParent());
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (java.nio.file.FileAlreadyExistsException e) {
            // checked below
        }
        PosixFileAttributes a = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        Set<PosixFilePermission> p = a.permissions();
        Object owner = Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        long me = dev.berth.linux.internal.ProcStatus.effectiveUid();
        if (!a.isDirectory() || ((Number) owner).longValue() != me || p.contains(PosixFilePermission.GROUP_WRITE)
                || p.contains(PosixFilePermission.OTHERS_WRITE)) {
            throw new NetworkException("bridge claims: " + dir + " must be a directory of uid " + me
                    + " that only it may write (it is " + (a.isSymbolicLink() ? "a link" : (a.isDirectory()
                    ? "a directory" : "a file") + " of uid " + owner + ", mode " + PosixFilePermissions.toString(p))
                    + ")");
        }
        return LOCK.lock(dir);
    }

    /** The live claims (the lock held), stale ones removed. */
    public List<Claim> live() throws IOException {
        List<Claim> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.json")) {
            for (Path f : ds) {
                Claim c;
                try {
                    c = JSON.readValue(f.toFile(), Claim.class);
                } catch (com.fasterxml.jackson.core.JacksonException | IllegalArgumentException e) {
                    throw new NetworkException(f + ": " + e.getMessage(), e);
                }
                String name = f.getFileName().toString();
                if (!name.equals(c.bridge() + ".json")) {
                    throw new NetworkException(f + ": bridge \"" + c.bridge() + "\" is not the file's name");
                }
                if (liveness.alive(Path.of(c.owner()), c.bridge())) {
                    out.add(c);
                } else {
                    Files.deleteIfExists(f);
                }
            }
        }
        return out;
    }

    /** The live claim of {@code bridge} (the lock held), if there is one. */
    public Optional<Claim> of(String bridge) throws IOException {
        return live().stream().filter(c -> c.bridge().equals(bridge)).findFirst();
    }

    /** Writes a claim (the lock held), replacing the file of its bridge. */
    public void claim(Claim c) throws IOException {
        Path f = dir.resolve(c.bridge() + ".json");
        Path tmp = dir.resolve("." + c.bridge() + ".json.tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(JSON.writeValueAsBytes(c)));
            ch.force(true);
        }
        Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Removes the claim of {@code bridge} when {@code owner} holds it (the lock held). */
    public void release(String bridge, Path owner) throws IOException {
        Path f = dir.resolve(bridge + ".json");
        if (!Files.exists(f)) {
            return;
        }
        Claim c;
        try {
            c = JSON.readValue(f.toFile(), Claim.class);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new NetworkException(f + ": " + e.getMessage(), e);
        }
        if (c.owner().equals(owner.toString())) {
            Files.deleteIfExists(f);
        }
    }
}
