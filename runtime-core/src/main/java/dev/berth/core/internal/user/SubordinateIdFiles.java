package dev.berth.core.internal.user;

import dev.berth.core.SubordinateIds;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A runtime's parsed {@code /etc/subuid} and {@code /etc/subgid}: read again only when a file's
 * identity changed, so that a rootless start costs a {@code stat} of each instead of a read and a
 * parse. A file is known by its device, inode, size, modification and change times: an edit in
 * place changes the times (and mostly the size), a replacement by rename ({@code usermod}, editors)
 * the inode. A missing file has no ranges, and is noticed when it appears.
 *
 * <p>The file is stat'ed before it is read, so that an edit between the two leaves the new text
 * under the old key, to be read once more at the next call, never old text under the new key.
 */
public final class SubordinateIdFiles {

    /** What tells one version of a file from another; {@code null} for a missing file. */
    public record Key(long dev, long ino, long size, long mtimeNanos, long ctimeNanos) {}

    /** Stats a file: its key, or empty when there is no such file. */
    @FunctionalInterface
    public interface Stat {
        Optional<Key> of(Path file) throws IOException;
    }

    /** The {@code unix} attributes of the file a path names (following links, as newuidmap does). */
    public static final Stat UNIX = file -> {
        Map<String, Object> a;
        try {
            a = Files.readAttributes(file, "unix:dev,ino,size,lastModifiedTime,ctime");
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        return Optional.of(new Key((Long) a.get("dev"), (Long) a.get("ino"), (Long) a.get("size"),
                ((FileTime) a.get("lastModifiedTime")).to(TimeUnit.NANOSECONDS),
                ((FileTime) a.get("ctime")).to(TimeUnit.NANOSECONDS)));
    };

    private record Entry(Optional<Key> key, SubordinateIds ids) {}

    private final Stat stat;
    private final Function<Path, SubordinateIds> reader;
    private final Map<Path, Entry> entries = new HashMap<>();

    /** Files as they are on disk. */
    public SubordinateIdFiles() {
        this(UNIX, SubordinateIds::read);
    }

    /** For tests: a fake stat and reader. */
    public SubordinateIdFiles(Stat stat, Function<Path, SubordinateIds> reader) {
        this.stat = Objects.requireNonNull(stat, "stat");
        this.reader = Objects.requireNonNull(reader, "reader");
    }

    /**
     * The ranges {@code file} lists now: the ones parsed before when its key is unchanged.
     *
     * @throws UncheckedIOException naming the file when it cannot be stat'ed or read
     * @throws IllegalArgumentException naming the file and line of a malformed entry
     */
    public SubordinateIds read(Path file) {
        Optional<Key> key;
        try {
            key = stat.of(file);
        } catch (IOException e) {
            throw new UncheckedIOException("stat " + file + ": " + e.getMessage(), e);
        }
        synchronized (entries) {
            Entry e = entries.get(file);
            if (e != null && e.key().equals(key)) {
                return e.ids();
            }
        }
        SubordinateIds ids = key.isEmpty() ? SubordinateIds.parse(file, "") : reader.apply(file);
        synchronized (entries) {
            entries.put(file, new Entry(key, ids));
        }
        return ids;
    }
}
