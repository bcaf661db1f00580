package dev.berth.core.internal.user;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.core.IdMapping;
import dev.berth.core.SubordinateIds;
import dev.berth.core.UserNamespace;
import dev.berth.core.internal.StateStore;
import dev.berth.core.internal.sys.Syscalls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
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
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Podman's {@code --userns=auto}: gives each container of a state root a host id range of its own,
 * taken from the subordinate ids of {@value UserNamespace#AUTO_OWNER} in {@code /etc/subuid} and
 * {@code /etc/subgid} (files configurable), overlapping no range another container of the root
 * holds.
 *
 * <p>Allocations are recorded under {@code <stateRoot>/.userns/}: one {@code <id>.json} a container,
 * written atomically (temp file, fsync, rename), and every read-choose-write happens under an
 * exclusive {@code flock} of {@code .userns/lock}. A flock belongs to the open file, so it excludes
 * two threads of one JVM as well as two JVMs, and the kernel drops it when a JVM dies mid-way (its
 * temp file is ignored and overwritten). Each allocation first drops the records of containers that
 * no longer exist under the state root (neither a state directory nor a lock file): a runtime that
 * died before releasing leaks no range.
 */
public final class IdRangeAllocator {
    private static final Logger LOG = LoggerFactory.getLogger(IdRangeAllocator.class);

    /** The directory of the records, below the state root (a name no container id can have). */
    public static final String DIR = ".userns";
    static final String LOCK = "lock";
    static final String SUFFIX = ".json";
    /** The cached walks of image layers ({@link ImageIdSpan}). */
    static final String LAYERS = "layers";
    /** Held ranges listed in an error message before "and N more". */
    private static final int HELD_SHOWN = 6;
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    /** One container's ranges. */
    public record Allocation(String id, List<IdMapping> uidMap, List<IdMapping> gidMap) {
        public Allocation {
            uidMap = List.copyOf(uidMap);
            gidMap = List.copyOf(gidMap);
        }

        /** The ids the maps cover (both the same). */
        public long size() {
            return uidMap.stream().mapToLong(IdMapping::size).sum();
        }

        public UserNamespace userNamespace() {
            return UserNamespace.of(uidMap, gidMap);
        }
    }

    /** The record's JSON. */
    record Doc(@JsonProperty("id") String id, @JsonProperty("uidMap") List<String> uidMap,
               @JsonProperty("gidMap") List<String> gidMap) {}

    private final Path dir;
    private final Path subuid;
    private final Path subgid;
    private final Syscalls sys;
    private final Predicate<String> containerExists;
    private final ImageIdSpan span;

    /**
     * The allocator of {@code stateRoot}: a container exists while its state directory or its
     * lock file ({@code .<id>.lock}) does.
     */
    public IdRangeAllocator(Path stateRoot, Path subuid, Path subgid, Syscalls sys) {
        this(stateRoot.resolve(DIR), subuid, subgid, sys, id -> Files.exists(stateRoot.resolve(id), LinkOption.NOFOLLOW_LINKS)
                || Files.exists(stateRoot.resolve("." + id + ".lock"), LinkOption.NOFOLLOW_LINKS));
    }

    /** For tests: records in {@code dir}, and containers that exist as {@code containerExists} says. */
    public IdRangeAllocator(Path dir, Path subuid, Path subgid, Syscalls sys, Predicate<String> containerExists) {
        this.dir = Objects.requireNonNull(dir, "dir");
        this.subuid = Objects.requireNonNull(subuid, "subuid");
        this.subgid = Objects.requireNonNull(subgid, "subgid");
        this.sys = Objects.requireNonNull(sys, "sys");
        this.containerExists = Objects.requireNonNull(containerExists, "containerExists");
        this.span = new ImageIdSpan(dir.resolve(LAYERS));
    }

    public Path subuidFile() {
        return subuid;
    }

    public Path subgidFile() {
        return subgid;
    }

    /**
     * The size {@code auto} asks for: its own, or (plain {@code auto}) the image's highest uid or
     * gid plus one, at least {@value UserNamespace#AUTO_DEFAULT_SIZE}.
     */
    public long sizeFor(UserNamespace auto, List<Path> lowerLayers) {
        requireAuto(auto);
        if (auto.autoSize().isPresent()) {
            return auto.autoSize().getAsLong();
        }
        long[] highest = span.highest(lowerLayers);
        return Math.max(UserNamespace.AUTO_DEFAULT_SIZE, Math.max(highest[0], highest[1]) + 1);
    }

    /**
     * A range for container {@code containerId}: its recorded one when it has one of the size asked
     * (a restart keeps its ids), else a new one, recorded before it is returned.
     *
     * @param auto        {@link UserNamespace#auto()} or {@link UserNamespace#auto(long)}
     * @param lowerLayers the image's unpacked layers, topmost first (sizes plain {@code auto}; may be
     *                    empty for a root directory, which gets the default size)
     * @return a {@link UserNamespace.Mode#MAPPED} namespace: container ids 0.. onto the range
     * @throws IllegalStateException naming the file and owner when the subordinate ids have no free
     *     room of that size, or when a record cannot be read
     */
    public UserNamespace allocate(String containerId, UserNamespace auto, List<Path> lowerLayers) {
        checkId(containerId);
        long size = sizeFor(auto, lowerLayers);
        return withLock(() -> {
            List<Allocation> held = readAll(containerId);
            Optional<Allocation> own = held.stream().filter(a -> a.id().equals(containerId)).findFirst();
            if (own.isPresent() && own.get().size() == size) {
                return own.get().userNamespace();
            }
            List<Allocation> others = held.stream().filter(a -> !a.id().equals(containerId)).toList();
            SubordinateIds uids = read(subuid);
            SubordinateIds gids = read(subgid);
            List<IdMapping> uidMap = pick(uids, others, Allocation::uidMap, size, "--add-subuids");
            List<IdMapping> gidMap = pick(gids, others, Allocation::gidMap, size, "--add-subgids");
            Allocation a = new Allocation(containerId, uidMap, gidMap);
            write(a);
            LOG.debug("userns auto: container {} gets uids {} gids {}", containerId, uidMap, gidMap);
            return a.userNamespace();
        });
    }

    /** Drops the range of {@code containerId}, if it has one. */
    public void release(String containerId) {
        checkId(containerId);
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return; // no container of this root ever had a range: nothing to make
        }
        withLock(() -> {
            Files.deleteIfExists(dir.resolve(containerId + SUFFIX));
            return null;
        });
    }

    /** Every recorded allocation, ordered by id (records of containers that are gone included until {@link #reconcile()}). */
    public List<Allocation> allocations() {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return List.of();
        }
        return withLock(() -> {
            List<Allocation> out = new ArrayList<>();
            for (Path f : records()) {
                out.add(parse(f));
            }
            out.sort(Comparator.comparing(Allocation::id));
            return out;
        });
    }

    /** Drops the records of containers that no longer exist, and the cached walks of layers that are gone; returns the ids. */
    public List<String> reconcile() {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return List.of();
        }
        span.prune();
        return withLock(() -> {
            List<String> dropped = new ArrayList<>();
            for (Path f : records()) {
                String id = idOf(f);
                if (!containerExists.test(id)) {
                    Files.deleteIfExists(f);
                    dropped.add(id);
                }
            }
            return dropped;
        });
    }

    /**
     * Free ids of {@code file}'s {@value UserNamespace#AUTO_OWNER} ranges, taken in file order until
     * {@code size}: one line per piece, container ids 0.. in order, as podman splits a range over
     * several subordinate ranges.
     */
    private static List<IdMapping> pick(SubordinateIds file, List<Allocation> others,
                                        java.util.function.Function<Allocation, List<IdMapping>> map, long size,
                                        String usermodOption) {
        List<long[]> taken = new ArrayList<>();
        for (Allocation a : others) {
            for (IdMapping m : map.apply(a)) {
                taken.add(new long[] {m.hostId(), m.hostEnd()});
            }
        }
        taken.sort(Comparator.comparingLong(t -> t[0]));
        List<IdMapping> out = new ArrayList<>();
        long need = size;
        long next = 0;
        List<SubordinateIds.Range> own = file.rangesOf(UserNamespace.AUTO_OWNER);
        // overlapping lines in the file must not hand out one id twice: walk the ids in host order
        List<SubordinateIds.Range> sorted = new ArrayList<>(own);
        sorted.sort(Comparator.comparingLong(SubordinateIds.Range::start));
        long covered = -1; // the highest id handed out or skipped so far
        for (SubordinateIds.Range r : sorted) {
            long at = Math.max(r.start(), covered + 1);
            while (need > 0 && at <= r.end()) {
                long blockEnd = r.end();
                boolean clash = false;
                for (long[] t : taken) {
                    if (t[1] < at || t[0] > blockEnd) {
                        continue;
                    }
                    if (t[0] <= at) { // the id at is taken: skip past it
                        at = t[1] + 1;
                        clash = true;
                        break;
                    }
                    blockEnd = t[0] - 1; // free up to the next taken range
                }
                if (clash) {
                    continue;
                }
                long n = Math.min(need, blockEnd - at + 1);
                if (out.size() == UserNamespace.MAX_LINES) {
                    break;
                }
                out.add(IdMapping.of(next, at, n));
                next += n;
                need -= n;
                at += n;
            }
            covered = Math.max(covered, r.end());
            if (need == 0) {
                break;
            }
        }
        if (need > 0) {
            throw new IllegalStateException("userns auto: no free range of " + size + " ids in " + file.file()
                    + " for \"" + UserNamespace.AUTO_OWNER + "\" (" + describe(own, others, map) + "); add one with"
                    + " usermod " + usermodOption + " START-END " + UserNamespace.AUTO_OWNER);
        }
        return out;
    }

    private static String describe(List<SubordinateIds.Range> own, List<Allocation> others,
                                   java.util.function.Function<Allocation, List<IdMapping>> map) {
        if (own.isEmpty()) {
            return "it has none";
        }
        StringBuilder b = new StringBuilder("has ");
        for (int i = 0; i < own.size(); i++) {
            b.append(i == 0 ? "" : ", ").append(own.get(i).start()).append('-').append(own.get(i).end());
        }
        b.append("; held: ");
        if (others.isEmpty()) {
            return b.append("none").toString();
        }
        int shown = 0;
        for (Allocation a : others) {
            if (shown == HELD_SHOWN) {
                b.append(", and ").append(others.size() - shown).append(" more");
                break;
            }
            List<IdMapping> m = map.apply(a);
            b.append(shown == 0 ? "" : ", ").append(a.id());
            for (IdMapping l : m) {
                b.append(' ').append(l.hostId()).append('-').append(l.hostEnd());
            }
            shown++;
        }
        return b.toString();
    }

    /** The records, after dropping those of containers that are gone (never {@code keep}'s). */
    private List<Allocation> readAll(String keep) throws IOException {
        List<Allocation> out = new ArrayList<>();
        for (Path f : records()) {
            String id = idOf(f);
            if (!id.equals(keep) && !containerExists.test(id)) {
                Files.deleteIfExists(f);
                LOG.debug("userns auto: dropped the range of container {}, which is gone", id);
                continue;
            }
            out.add(parse(f));
        }
        return out;
    }

    private List<Path> records() throws IOException {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
            for (Path f : s) {
                String id = idOf(f);
                if (StateStore.ID.matcher(id).matches()) {
                    out.add(f);
                }
            }
        } catch (NoSuchFileException e) {
            return List.of();
        }
        out.sort(Comparator.naturalOrder());
        return out;
    }

    private static String idOf(Path f) {
        String name = f.getFileName().toString();
        return name.substring(0, name.length() - SUFFIX.length());
    }

    private static Allocation parse(Path f) {
        String id = idOf(f);
        try {
            if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
                throw new IOException("not a regular file");
            }
            Doc d = JSON.readValue(Files.readAllBytes(f), Doc.class);
            if (d == null || !id.equals(d.id())) {
                throw new IOException("it names container \"" + (d == null ? null : d.id()) + "\"");
            }
            if (d.uidMap() == null || d.gidMap() == null) {
                throw new IOException("uidMap and gidMap are required");
            }
            List<IdMapping> uid = d.uidMap().stream().map(IdMapping::parse).toList();
            List<IdMapping> gid = d.gidMap().stream().map(IdMapping::parse).toList();
            UserNamespace.of(uid, gid); // validates: no overlaps, at most 340 lines
            return new Allocation(id, uid, gid);
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalStateException("userns auto: record " + f + " of an existing container cannot be read: "
                    + e.getMessage().lines().findFirst().orElse("") + " (remove the container, or the file)", e);
        }
    }

    private void write(Allocation a) throws IOException {
        Doc d = new Doc(a.id(), a.uidMap().stream().map(IdMapping::toString).toList(),
                a.gidMap().stream().map(IdMapping::toString).toList());
        Path tmp = dir.resolve("." + a.id() + SUFFIX + ".tmp");
        Files.deleteIfExists(tmp);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(JSON.writeValueAsBytes(d)));
            ch.force(true);
        }
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        Files.move(tmp, dir.resolve(a.id() + SUFFIX), StandardCopyOption.ATOMIC_MOVE);
    }

    private static SubordinateIds read(Path file) {
        try {
            return SubordinateIds.read(file);
        } catch (IllegalArgumentException | UncheckedIOException e) {
            throw new IllegalStateException("userns auto: " + e.getMessage(), e);
        }
    }

    private interface Locked<T> {
        T run() throws IOException;
    }

    /** Runs {@code body} holding the exclusive flock of {@code dir/lock} (waiting for it). */
    private <T> T withLock(Locked<T> body) {
        try {
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                try {
                    Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(
                            PosixFilePermissions.fromString("rwx------")));
                } catch (java.nio.file.FileAlreadyExistsException e) {
                    throw new IOException(dir + " exists and is not a directory", e);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("userns auto: mkdir " + dir + ": " + e.getMessage(), e);
        }
        Path lock = dir.resolve(LOCK);
        int fd = sys.open(lock.toString(), Syscalls.O_RDWR | Syscalls.O_CREAT | Syscalls.O_CLOEXEC
                | Syscalls.O_NOFOLLOW, 0600);
        try {
            sys.flock(fd, Syscalls.LOCK_EX, lock.toString());
            return body.run();
        } catch (IOException e) {
            throw new UncheckedIOException("userns auto: " + dir + ": " + e.getMessage(), e);
        } finally {
            sys.close(fd); // drops the flock
        }
    }

    private static void requireAuto(UserNamespace auto) {
        Objects.requireNonNull(auto, "auto");
        if (auto.mode() != UserNamespace.Mode.AUTO) {
            throw new IllegalArgumentException("userns auto: expected an auto user namespace, got " + auto);
        }
    }

    private static void checkId(String id) {
        if (id == null || !StateStore.ID.matcher(id).matches()) {
            throw new IllegalArgumentException("userns auto: container id \"" + id + "\" must match "
                    + StateStore.ID.pattern());
        }
    }
}
