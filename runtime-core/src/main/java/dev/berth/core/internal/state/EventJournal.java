package dev.berth.core.internal.state;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One container's events as every process that follows it sees them: an append-only file of JSON
 * lines ({@code S/ID/events.jsonl}), one object per event (sequence number, time, type, the run it
 * belongs to, attributes), appended by whoever causes the event while holding the journal's
 * {@code flock} ({@code S/ID/events.lock}), and read by every handle from where it subscribed.
 *
 * <p>Sequence numbers grow by one per event. A line torn by a writer killed mid-append (no newline
 * at its end) is ended by the next append and skipped by readers; so is any line that does not parse.
 * The file is bounded: an append that finds it at {@link #ROTATE_BYTES} or more first renames it to
 * {@code events.jsonl.1} (replacing the one before); a follower holds its file open, so it reads a
 * rotated file to its end before it moves on. Everything goes with the state directory.
 */
public final class EventJournal {
    private static final Logger LOG = LoggerFactory.getLogger(EventJournal.class);
    private static final ObjectMapper JSON = new ObjectMapper()
            .setSerializationInclusion(JsonInclude.Include.NON_NULL)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private static final Set<PosixFilePermission> PRIVATE = PosixFilePermissions.fromString("rw-------");

    public static final String FILE = "events.jsonl";
    public static final String ROTATED = "events.jsonl.1";
    public static final String LOCK = "events.lock";
    /** The size past which the next append starts a new file. */
    public static final long ROTATE_BYTES = 256 * 1024;
    /** How far back from its end a file is read for its last sequence number. */
    private static final int TAIL_BYTES = 64 * 1024;

    /**
     * One event.
     *
     * @param seq        its number (1, 2, ...)
     * @param time       when it happened
     * @param type       its type's label ({@code health_status}, {@code paused}, ...)
     * @param run        the run (its monitor) it belongs to
     * @param attributes its details
     */
    public record Entry(long seq, String time, String type, StateDocument.ProcessDoc run,
            Map<String, String> attributes) {
        public Entry {
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(time, "time");
            attributes = attributes == null ? Map.of() : Map.copyOf(attributes);
        }

        /** When it happened (ISO-8601 in the file). */
        public Instant instant() {
            return Instant.parse(time);
        }
    }

    private final Syscalls sys;
    private final Path dir;
    private final long rotateBytes;

    /** The journal of the container whose state directory is {@code dir}. */
    public EventJournal(Syscalls sys, Path dir) {
        this(sys, dir, ROTATE_BYTES);
    }

    EventJournal(Syscalls sys, Path dir, long rotateBytes) {
        this.sys = sys;
        this.dir = dir;
        this.rotateBytes = rotateBytes;
    }

    public Path file() {
        return dir.resolve(FILE);
    }

    /** Holds the journal's lock; -1 when the state directory is gone (the container was removed). */
    private int lock() {
        Path f = dir.resolve(LOCK);
        int fd;
        try {
            fd = sys.open(f.toString(), Syscalls.O_RDWR | Syscalls.O_CREAT | Syscalls.O_CLOEXEC | Syscalls.O_NOFOLLOW,
                    0600);
        } catch (SyscallException e) {
            if (e.errno() == Syscalls.ENOENT) {
                return -1;
            }
            throw e;
        }
        try {
            sys.flock(fd, Syscalls.LOCK_EX, f.toString());
        } catch (RuntimeException e) {
            sys.close(fd);
            throw e;
        }
        return fd;
    }

    /** Appends an event of {@code run} and returns it; empty when the container's state directory is gone. */
    public java.util.Optional<Entry> append(StateDocument.ProcessDoc run, String type, Instant time,
            Map<String, String> attributes) {
        int fd = lock();
        if (fd < 0) {
            return java.util.Optional.empty();
        }
        Path f = file();
        try {
            long size = sizeOf(f);
            if (size >= rotateBytes) {
                Files.move(f, dir.resolve(ROTATED), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                size = 0;
            }
            long last = size > 0 ? lastSeqOf(f) : 0;
            if (last == 0) {
                last = lastSeqOf(dir.resolve(ROTATED));
            }
            Entry e = new Entry(last + 1, time.toString(), type, run, attributes);
            byte[] line = JSON.writeValueAsBytes(e);
            boolean torn = size > 0 && !endsWithNewline(f, size);
            ByteBuffer b = ByteBuffer.allocate(line.length + 2);
            if (torn) {
                b.put((byte) '\n'); // ends a line a writer killed mid-append left; readers skip it
            }
            b.put(line).put((byte) '\n').flip();
            try (FileChannel ch = FileChannel.open(f, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND, LinkOption.NOFOLLOW_LINKS), PosixFilePermissions.asFileAttribute(PRIVATE))) {
                while (b.hasRemaining()) {
                    ch.write(b);
                }
            }
            return java.util.Optional.of(e);
        } catch (NoSuchFileException e) {
            return java.util.Optional.empty(); // removed meanwhile
        } catch (IOException e) {
            throw new UncheckedIOException("appending to " + f + ": " + e.getMessage(), e);
        } finally {
            sys.close(fd);
        }
    }

    private static long sizeOf(Path f) throws IOException {
        try {
            return Files.readAttributes(f, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).size();
        } catch (NoSuchFileException e) {
            return 0;
        }
    }

    private static boolean endsWithNewline(Path f, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, size - 1);
            return b.get(0) == '\n';
        }
    }

    /** The last sequence number in {@code f} (the last line that parses); 0 when none. */
    private static long lastSeqOf(Path f) throws IOException {
        byte[] tail;
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            long size = ch.size();
            int n = (int) Math.min(size, TAIL_BYTES);
            ByteBuffer b = ByteBuffer.allocate(n);
            while (b.hasRemaining() && ch.read(b, size - n + b.position()) > 0) {
                // read it all
            }
            tail = b.array();
        } catch (NoSuchFileException e) {
            return 0;
        }
        int end = tail.length;
        while (end > 0) {
            int start = end - 1;
            while (start > 0 && tail[start - 1] != '\n') {
                start--;
            }
            Entry e = parse(tail, start, end);
            if (e != null) {
                return e.seq();
            }
            end = start - 1;
        }
        return 0;
    }

    /** The entry of the line {@code b[from, to)} (without its newline); null when it does not parse. */
    private static Entry parse(byte[] b, int from, int to) {
        while (to > from && (b[to - 1] == '\n' || b[to - 1] == '\r')) {
            to--;
        }
        if (to <= from) {
            return null;
        }
        try {
            Entry e = JSON.readValue(b, from, to - from, Entry.class);
            e.instant(); // a time that does not parse: not an event
            return e.seq() > 0 ? e : null;
        } catch (IOException | RuntimeException e) {
            LOG.debug("skipping a journal line that does not parse ({}): {}",
                    new String(b, from, Math.min(to - from, 80), StandardCharsets.UTF_8), e.getMessage());
            return null;
        }
    }

    /**
     * A reader from now on: it returns the events appended after this call (none before it: as
     * {@code docker events} without {@code --since}).
     */
    public Follower follow() {
        int fd = lock(); // no append is half done while the start is taken
        try {
            Follower r = new Follower();
            if (fd >= 0) {
                r.start();
            }
            return r;
        } finally {
            if (fd >= 0) {
                sys.close(fd);
            }
        }
    }

    /** Reads a journal from a position on, across rotations. Not thread-safe: one reader at a time. */
    public final class Follower implements AutoCloseable {
        private FileChannel channel;
        private Object key;
        private long position;
        private long lastSeq;
        private boolean closed;

        private void start() {
            Path f = file();
            try {
                lastSeq = Math.max(lastSeqOf(f), lastSeqOf(dir.resolve(ROTATED)));
                if (open()) {
                    position = channel.size();
                }
            } catch (IOException e) {
                throw new UncheckedIOException("reading " + f + ": " + e.getMessage(), e);
            }
        }

        /** Opens the file at the path (no rotation between its key and the open); false when there is none. */
        private boolean open() throws IOException {
            Path f = file();
            for (int i = 0; i < 100; i++) {
                Object before;
                try {
                    before = Files.readAttributes(f, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
                } catch (NoSuchFileException e) {
                    return false;
                }
                FileChannel ch;
                try {
                    ch = FileChannel.open(f, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
                } catch (NoSuchFileException e) {
                    continue;
                }
                Object after;
                try {
                    after = Files.readAttributes(f, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
                } catch (NoSuchFileException e) {
                    after = null;
                }
                if (Objects.equals(before, after)) {
                    channel = ch;
                    key = before;
                    position = 0;
                    return true;
                }
                ch.close(); // rotated meanwhile
            }
            throw new IOException("replaced 100 times while being opened");
        }

        /** The last sequence number returned (or there when it started). */
        public long lastSeq() {
            return lastSeq;
        }

        /** The events appended since the last call, in order; empty when none (or the journal is gone). */
        public List<Entry> poll() {
            List<Entry> out = new ArrayList<>();
            if (closed) {
                return out;
            }
            Path f = file();
            try {
                if (channel == null && !open()) {
                    return out;
                }
                while (true) {
                    Object now;
                    try {
                        now = Files.readAttributes(f, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
                    } catch (NoSuchFileException e) {
                        now = null;
                    }
                    readAll(out);
                    if (Objects.equals(now, key) || now == null) {
                        return out; // the same file (or none any more: removed)
                    }
                    // rotated: the old file was complete before the new one appeared (read just now)
                    channel.close();
                    channel = null;
                    if (!open()) {
                        return out;
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("reading " + f + ": " + e.getMessage(), e);
            }
        }

        /** Reads the complete lines from the position on. */
        private void readAll(List<Entry> out) throws IOException {
            long size = channel.size();
            while (position < size) {
                int n = (int) Math.min(size - position, 1 << 20);
                ByteBuffer b = ByteBuffer.allocate(n);
                while (b.hasRemaining() && channel.read(b, position + b.position()) > 0) {
                    // read it all
                }
                byte[] a = b.array();
                int lineStart = 0;
                int consumed = 0;
                for (int i = 0; i < b.position(); i++) {
                    if (a[i] == '\n') {
                        Entry e = parse(a, lineStart, i);
                        if (e != null && e.seq() > lastSeq) {
                            lastSeq = e.seq();
                            out.add(e);
                        }
                        lineStart = i + 1;
                        consumed = i + 1;
                    }
                }
                if (consumed == 0) {
                    if (n >= 1 << 20) {
                        position += n; // a line of a MiB or more is no event: skipped
                        continue;
                    }
                    return; // a line still being written (or torn): read again once ended
                }
                position += consumed;
            }
        }

        @Override
        public void close() {
            closed = true;
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException e) {
                    LOG.debug("closing {}: {}", file(), e.getMessage());
                }
                channel = null;
            }
        }
    }
}
