package dev.berth.core.internal.logs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.core.LogEntry;
import dev.berth.core.LogQuery;
import dev.berth.core.Subscription;
import dev.berth.core.internal.Sampler;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Spliterator;
import java.util.Spliterators;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Reads a container's log files as its monitor writes them (berth-log.c): {@code container.log.N} ...
 * {@code container.log.1}, then {@code container.log}, one JSON object a line
 * ({@code {"log":"text\n","stream":"stdout","time":"..."}}); pieces of a long line (a {@code log}
 * without its newline) are joined. Following, it polls the current file and, when the monitor has
 * rotated it (another file now has its name), reads the old one to its end and goes on with the new.
 * Every file is opened once, when first needed, so a rotation while reading loses nothing that was
 * already open. Not thread-safe: one reader per caller.
 */
public final class LogReader implements Iterator<LogEntry>, Closeable {
    /** The file the monitor writes to; rotated ones are {@code container.log.1} (newest) and up. */
    public static final String CURRENT = "container.log";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long POLL_MILLIS = 100;

    private final Path dir;
    private final LogQuery query;
    private final BooleanSupplier ended;
    private final Deque<FileChannel> rotated = new ArrayDeque<>();
    private FileChannel current;
    private Object currentKey;
    private final ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private final Map<String, Piece> pieces = new HashMap<>();
    private final Deque<LogEntry> ready = new ArrayDeque<>();
    private boolean endSeen;
    private boolean done;

    /** A line written in pieces: what came so far, and when its first piece came. */
    private record Piece(StringBuilder text, Instant time) {}

    /**
     * @param ended whether the container has ended (its monitor then wrote everything it will); only
     *              asked when following
     */
    public LogReader(Path dir, LogQuery query, BooleanSupplier ended) {
        this.dir = Objects.requireNonNull(dir, "dir");
        this.query = Objects.requireNonNull(query, "query");
        this.ended = Objects.requireNonNull(ended, "ended");
        openFiles();
        if (query.tail() >= 0) {
            catchUpToTail();
        }
    }

    /** The files there are now, oldest first, opened at once so that a rotation cannot take one away. */
    private void openFiles() {
        List<Integer> numbers = new ArrayList<>();
        try (var s = Files.newDirectoryStream(dir, CURRENT + ".*")) {
            for (Path p : s) {
                String suffix = p.getFileName().toString().substring(CURRENT.length() + 1);
                if (suffix.matches("[1-9][0-9]{0,2}")) {
                    numbers.add(Integer.parseInt(suffix));
                }
            }
        } catch (NoSuchFileException e) {
            return; // nothing written yet, or removed: an empty log
        } catch (IOException e) {
            throw new UncheckedIOException("reading log directory " + dir + ": " + e.getMessage(), e);
        }
        numbers.sort((a, b) -> b - a);
        for (int n : numbers) {
            FileChannel ch = open(dir.resolve(CURRENT + "." + n));
            if (ch != null) {
                rotated.add(ch);
            }
        }
        openCurrent();
    }

    /**
     * Opens the file now named {@code container.log}, with the key (device, inode) of the very file
     * opened: the name is looked up before and after the open, and a rotation in between means another
     * try. (A key read before the open alone could be a rotated file's, whose inode a later file may
     * get again once it is deleted: that rotation would then go unseen.)
     */
    private boolean openCurrent() {
        Path p = dir.resolve(CURRENT);
        try {
            for (int attempt = 0; attempt < 100; attempt++) {
                Object key = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
                FileChannel ch = open(p);
                if (ch == null) {
                    return false;
                }
                Object after = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
                if (key.equals(after)) {
                    current = ch;
                    currentKey = key;
                    return true;
                }
                closeQuietly(ch); // rotated meanwhile
            }
            return false;
        } catch (NoSuchFileException e) {
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + p + ": " + e.getMessage(), e);
        }
    }

    private static FileChannel open(Path p) {
        try {
            return FileChannel.open(p, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null; // rotated away meanwhile
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + p + ": " + e.getMessage(), e);
        }
    }

    /** Reads what is there now, keeping only the last {@code tail} lines of it. */
    private void catchUpToTail() {
        while (readSome()) {
            while (ready.size() > query.tail()) {
                ready.removeFirst();
            }
        }
        if (!query.follow()) {
            flushPieces();
            while (ready.size() > query.tail()) {
                ready.removeFirst();
            }
            done = true;
        }
    }

    @Override
    public boolean hasNext() {
        while (ready.isEmpty()) {
            if (done) {
                return false;
            }
            if (readSome() || switchIfRotated()) {
                continue;
            }
            if (!query.follow() || endSeen) {
                flushPieces();
                done = true;
                continue;
            }
            if (ended.getAsBoolean()) {
                endSeen = true; // one more read: what the monitor wrote before the end is there by now
                continue;
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                done = true;
            }
        }
        return true;
    }

    @Override
    public LogEntry next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        return ready.removeFirst();
    }

    /**
     * Following without waiting: the lines there are now, and whether the log is complete (the
     * container had ended before this read, so everything it wrote is in it); then the files are
     * closed. For a reader made with {@link LogQuery#follow()}.
     */
    public Sampler.Read<LogEntry> poll() {
        boolean endedBefore = ended.getAsBoolean();
        while (!done && (readSome() || switchIfRotated())) {
            // read all there is
        }
        if (endedBefore) {
            flushPieces();
        }
        List<LogEntry> out = new ArrayList<>(ready);
        ready.clear();
        if (endedBefore) {
            close();
        }
        return new Sampler.Read<>(out, endedBefore || done);
    }

    /**
     * Delivers each line {@code dir}'s log gets from now on ({@code docker logs -f --tail 0}) to
     * {@code listener} on {@code executor}, in order, read by the sampler thread every 100 ms, until the
     * container has ended and its last lines are delivered, or the subscription is closed.
     */
    public static Subscription follow(Path dir, BooleanSupplier ended, Consumer<? super LogEntry> listener,
            Executor executor) {
        LogReader r = new LogReader(dir, LogQuery.builder().tail(0).follow(true).build(), ended);
        Subscription s = Sampler.every(Duration.ofMillis(100), r::poll, listener, executor);
        return () -> {
            s.close();
            r.close(); // (the sampler may read once more: on closed files, nothing)
        };
    }

    /** The entries as a stream; closing it closes the files. */
    public Stream<LogEntry> stream() {
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(this, Spliterator.ORDERED | Spliterator.NONNULL),
                false).onClose(this::close);
    }

    /** Reads from the oldest open file; false when none has more now. */
    private boolean readSome() {
        while (true) {
            FileChannel ch = rotated.isEmpty() ? current : rotated.peekFirst();
            if (ch == null) {
                if (current == null && openCurrent()) {
                    continue; // the first file appeared
                }
                return false;
            }
            buf.clear();
            int n;
            try {
                n = ch.read(buf);
            } catch (IOException e) {
                throw new UncheckedIOException("reading log of " + dir + ": " + e.getMessage(), e);
            }
            if (n > 0) {
                buf.flip();
                consume(buf);
                return true;
            }
            if (ch == current) {
                return false;
            }
            closeQuietly(rotated.removeFirst()); // a rotated file read to its end
            line.reset(); // a record is never split over two files
        }
    }

    /** The monitor rotated: the old file (read to its end by now) gives way to the new current one. */
    private boolean switchIfRotated() {
        Path p = dir.resolve(CURRENT);
        Object key;
        try {
            key = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
        } catch (IOException e) {
            return false; // between the rename and the new file's creation
        }
        if (current != null && key.equals(currentKey)) {
            return false;
        }
        FileChannel old = current;
        if (!openCurrent()) {
            return false;
        }
        if (old != null) {
            rotated.add(old); // whatever was appended to it before the rename is read first
        }
        return true;
    }

    private void consume(ByteBuffer b) {
        while (b.hasRemaining()) {
            byte c = b.get();
            if (c == '\n') {
                record(line.toByteArray());
                line.reset();
            } else {
                line.write(c);
            }
        }
    }

    private void record(byte[] json) {
        if (json.length == 0) {
            return;
        }
        JsonNode r;
        Instant time;
        try {
            r = JSON.readTree(json);
            time = Instant.parse(r.path("time").asText());
        } catch (IOException | DateTimeParseException e) {
            return; // not a record the monitor wrote whole (a file cut short): skipped, as docker does
        }
        String stream = r.path("stream").asText("stdout");
        String text = r.path("log").asText("");
        Piece earlier = pieces.get(stream);
        if (!text.endsWith("\n")) {
            if (earlier == null) {
                pieces.put(stream, new Piece(new StringBuilder(text), time));
            } else {
                earlier.text().append(text);
            }
            return;
        }
        String whole = text.substring(0, text.length() - 1);
        if (earlier != null) {
            pieces.remove(stream);
            offer(new LogEntry(earlier.time(), stream, earlier.text().append(whole).toString()));
        } else {
            offer(new LogEntry(time, stream, whole));
        }
    }

    /** The last lines, which ended without a newline: given as they are. */
    private void flushPieces() {
        for (Map.Entry<String, Piece> e : pieces.entrySet()) {
            offer(new LogEntry(e.getValue().time(), e.getKey(), e.getValue().text().toString()));
        }
        pieces.clear();
    }

    private void offer(LogEntry e) {
        if (query.since().isPresent() && e.time().isBefore(query.since().get())) {
            return;
        }
        if (query.until().isPresent() && !e.time().isBefore(query.until().get())) {
            return;
        }
        ready.add(e);
    }

    @Override
    public void close() {
        done = true;
        rotated.forEach(LogReader::closeQuietly);
        rotated.clear();
        closeQuietly(current);
        current = null;
    }

    private static void closeQuietly(FileChannel ch) {
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException e) {
                // read-only: nothing lost
            }
        }
    }
}
