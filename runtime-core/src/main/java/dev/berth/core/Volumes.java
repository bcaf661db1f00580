package dev.berth.core;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.core.internal.PrivateDirectories;
import dev.berth.core.internal.TreeCopy;
import dev.berth.core.internal.linux.LinuxSyscalls;
import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The named volumes of a runtime ({@link ContainerRuntime#volumes()}), under
 * {@code <storageRoot>/volumes/<name>/}: {@code _data/} holds the content, {@code volume.json}
 * the metadata. Both directories above {@code _data} are 0700, as the rest of the store.
 *
 * <p>A volume is in use while a container that mounts it is open (started and not closed): the
 * runtime holds a shared {@code flock} on the volume's directory for it, and {@link #remove}
 * needs the exclusive lock. The lock is the kernel's, so this holds across runtimes and JVMs on
 * one storage root; it goes with the process that held it.
 */
public final class Volumes {
    /** Docker's volume names. */
    static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]*");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String METADATA = "volume.json";

    private final Path root;
    private final Syscalls sys;

    /** What volume.json holds. */
    record Metadata(String name, String createdAt) {}

    Volumes(Path root, Syscalls sys) {
        this.root = root;
        this.sys = sys;
    }

    /** The volumes of the storage root {@code storageRoot}, without a runtime (the launcher's {@code volume} commands). */
    public static Volumes at(Path storageRoot) {
        return new Volumes(storageRoot.toAbsolutePath().resolve("volumes"), new LinuxSyscalls());
    }

    /** {@code <storageRoot>/volumes}. */
    public Path root() {
        return root;
    }

    /**
     * Creates the volume, empty; an existing one of that name is returned as it is (docker's
     * {@code volume create}).
     *
     * @throws IllegalArgumentException when {@code name} is not a volume name
     */
    public Volume create(String name) throws IOException {
        Path dir = dir(name);
        PrivateDirectories.create(root, true);
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                throw e;
            }
            Optional<Volume> existing = inspect(name);
            if (existing.isPresent()) {
                return existing.get();
            }
            // half-made by a creator that died: completed below
        }
        Files.createDirectories(dir.resolve("_data"));
        Path tmp = dir.resolve(METADATA + ".tmp");
        Files.write(tmp, JSON.writeValueAsBytes(new Metadata(name, Instant.now().toString())));
        Files.move(tmp, dir.resolve(METADATA), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return inspect(name).orElseThrow(() -> new IOException("volume " + name + ": removed while being created"));
    }

    /** Every volume, by name. */
    public List<Volume> list() throws IOException {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        List<Volume> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(root)) {
            for (Path d : s.sorted().toList()) {
                String n = d.getFileName().toString();
                if (NAME.matcher(n).matches()) {
                    inspect(n).ifPresent(out::add);
                }
            }
        }
        return out;
    }

    /** The volume, when it exists. */
    public Optional<Volume> inspect(String name) throws IOException {
        Path dir = dir(name);
        Path meta = dir.resolve(METADATA);
        if (!Files.isRegularFile(meta, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        Metadata m = JSON.readValue(meta.toFile(), Metadata.class);
        return Optional.of(new Volume(name, dir.resolve("_data"), Instant.parse(m.createdAt())));
    }

    /**
     * Removes the volume and its content.
     *
     * @return false when there is no such volume
     * @throws IllegalStateException when a container (of any runtime on this storage root) uses it
     */
    public boolean remove(String name) throws IOException {
        Path dir = dir(name);
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        int fd = open(dir);
        try {
            if (!sys.flock(fd, Syscalls.LOCK_EX | Syscalls.LOCK_NB, dir.toString())) {
                throw new IllegalStateException("volume " + name + ": in use by a container");
            }
            Files.deleteIfExists(dir.resolve(METADATA)); // gone for every reader from here
            Files.deleteIfExists(dir.resolve(METADATA + ".tmp"));
            if (Files.isDirectory(dir.resolve("_data"), LinkOption.NOFOLLOW_LINKS)) {
                TreeCopy.clear(dir.resolve("_data"));
            }
            Files.deleteIfExists(dir.resolve("_data"));
            Files.delete(dir);
            return true;
        } finally {
            sys.close(fd);
        }
    }

    private Path dir(String name) {
        if (name == null || !NAME.matcher(name).matches() || name.length() > 255) {
            throw new IllegalArgumentException("volume name: \"" + name + "\" must match " + NAME.pattern());
        }
        return root.resolve(name);
    }

    private int open(Path dir) {
        return sys.open(dir.toString(), Syscalls.O_RDONLY | Syscalls.O_DIRECTORY | Syscalls.O_CLOEXEC, 0);
    }

    /**
     * A container's use of a volume: a shared lock on its directory, held until {@link #close()}
     * (the container's close, or its failed start).
     */
    final class Lease implements AutoCloseable {
        final Volume volume;
        /** Whether this start created the volume (a failed start removes it again). */
        final boolean created;
        private final int fd;
        private final AtomicBoolean closed = new AtomicBoolean();

        private Lease(Volume volume, boolean created, int fd) {
            this.volume = volume;
            this.created = created;
            this.fd = fd;
        }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                sys.close(fd);
            }
        }
    }

    /** Takes a lease on the volume, creating it when missing (docker's {@code -v name:/path}). */
    Lease acquire(String name) throws IOException {
        boolean existed = inspect(name).isPresent();
        Volume v = create(name);
        int fd = open(dir(name));
        try {
            if (!sys.flock(fd, Syscalls.LOCK_SH | Syscalls.LOCK_NB, dir(name).toString())
                    || inspect(name).isEmpty()) {
                throw new IllegalStateException("volume " + name + ": being removed");
            }
            return new Lease(v, !existed, fd);
        } catch (RuntimeException e) {
            sys.close(fd);
            throw e;
        }
    }

    /** Whether the leased volume has no content (so that it would be filled from the image). */
    boolean isEmpty(Lease lease) throws IOException {
        return TreeCopy.isEmpty(lease.volume.mountpoint());
    }

    /**
     * Fills an empty volume with what the container's root holds at {@code destination}, resolved
     * inside {@code root} (symlinks of the image cannot leave it); nothing when that is not a
     * directory. Exclusive against other fillers (a lock on volume.json); a failure leaves the
     * volume empty.
     *
     * @param root the container's root as the JVM sees it before the container runs anything
     *             ({@code /proc/<init>/root/<rootfs>})
     */
    /**
     * Rootless: a volume can receive only this user's own files (the container root's), since an ordinary user can
     * neither give a file another owner nor read what the image's other users keep to themselves. Fails before
     * anything is copied, naming the first entry of another owner, or one this user may not read.
     */
    private static void requireOwnTree(Path from, String destination, long euid, long egid) throws IOException {
        String top = destination.endsWith("/") ? destination.substring(0, destination.length() - 1) : destination;
        Files.walkFileTree(from, new java.nio.file.SimpleFileVisitor<>() {
            private String shown(Path p) {
                String rel = from.relativize(p).toString();
                return rel.isEmpty() || rel.equals(".") ? top : top + "/" + rel;
            }

            private void check(Path p) throws IOException {
                int uid = (Integer) Files.getAttribute(p, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS);
                int gid = (Integer) Files.getAttribute(p, "unix:gid", java.nio.file.LinkOption.NOFOLLOW_LINKS);
                if (uid != euid || gid != egid) {
                    throw new IOException("rootless: " + shown(p) + " is owned by " + uid + ":" + gid + " on the host,"
                            + " another user of the image than the container's root (" + euid + ":" + egid + "); a"
                            + " rootless runtime fills a volume only with its own files: use the volume option nocopy"
                            + " (" + dev.berth.core.internal.RootlessStart.DOCS + ")");
                }
            }

            @Override
            public java.nio.file.FileVisitResult preVisitDirectory(Path dir, java.nio.file.attribute.BasicFileAttributes a)
                    throws IOException {
                check(dir);
                return java.nio.file.FileVisitResult.CONTINUE;
            }

            @Override
            public java.nio.file.FileVisitResult visitFile(Path file, java.nio.file.attribute.BasicFileAttributes a)
                    throws IOException {
                check(file);
                return java.nio.file.FileVisitResult.CONTINUE;
            }

            @Override
            public java.nio.file.FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                throw new IOException("rootless: " + shown(file) + ": Permission denied to this user (uid " + euid
                        + "), and a rootless runtime fills a volume only with its own files: use the volume option"
                        + " nocopy (" + dev.berth.core.internal.RootlessStart.DOCS + ")", e);
            }
        });
    }

    void populate(Lease lease, Path root, String destination) throws IOException {
        int rootFd = sys.open(root.toString(), Syscalls.O_PATH | Syscalls.O_DIRECTORY | Syscalls.O_CLOEXEC, 0);
        try {
            int dirFd;
            try {
                dirFd = sys.openat2(rootFd, destination, Syscalls.O_PATH | Syscalls.O_DIRECTORY | Syscalls.O_CLOEXEC,
                        Syscalls.RESOLVE_IN_ROOT | Syscalls.RESOLVE_NO_MAGICLINKS);
            } catch (SyscallException e) {
                if (e.errno() == Syscalls.ENOENT || e.errno() == Syscalls.ENOTDIR) {
                    return; // nothing in the image there: the volume stays empty
                }
                throw e;
            }
            int lock = sys.open(dir(lease.volume.name()).resolve(METADATA).toString(),
                    Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
            try {
                sys.flock(lock, Syscalls.LOCK_EX, lease.volume.name());
                Path data = lease.volume.mountpoint();
                if (!TreeCopy.isEmpty(data)) {
                    return; // another container filled it meanwhile
                }
                Path from = Path.of("/proc/self/fd/" + dirFd + "/.");
                long euid = dev.berth.linux.internal.ProcStatus.effectiveUid();
                if (euid != 0) {
                    requireOwnTree(from, destination, euid, dev.berth.linux.internal.ProcStatus.effectiveGid());
                }
                try {
                    TreeCopy.copy(sys, from, data);
                } catch (IOException | RuntimeException e) {
                    try {
                        TreeCopy.clear(data);
                    } catch (IOException | UncheckedIOException c) {
                        e.addSuppressed(c);
                    }
                    throw e;
                }
            } finally {
                sys.close(lock);
                sys.close(dirFd);
            }
        } finally {
            sys.close(rootFd);
        }
    }
}
