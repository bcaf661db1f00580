package dev.berth.core;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The subordinate id ranges of {@code /etc/subuid} or {@code /etc/subgid} (subuid(5)): lines
 * {@code NAME_OR_UID:START:COUNT}, where a user owns the ranges listed under its name or its
 * numeric uid, as {@code newuidmap} reads them. Comments ({@code #}) and blank lines are skipped;
 * a malformed line is an error naming the file and line, never skipped silently.
 */
public final class SubordinateIds {

    /** The default files, as shadow-utils and podman read them. */
    public static final Path SUBUID = Path.of("/etc/subuid");
    public static final Path SUBGID = Path.of("/etc/subgid");

    /** One line: {@code owner} (a name or a number) owns host ids {@code start} to {@code start + count - 1}. */
    public record Range(String owner, long start, long count) {
        public Range {
            if (owner == null || owner.isEmpty()) {
                throw new IllegalArgumentException("subordinate range: owner must not be empty");
            }
            if (start < 0 || count < 1 || start + count > IdMapping.ID_LIMIT) {
                throw new IllegalArgumentException("subordinate range " + owner + ":" + start + ":" + count
                        + ": out of range");
            }
        }

        public long end() {
            return start + count - 1;
        }
    }

    private final Path file;
    private final List<Range> ranges;

    private SubordinateIds(Path file, List<Range> ranges) {
        this.file = file;
        this.ranges = List.copyOf(ranges);
    }

    /** Reads a file; a missing file has no ranges. */
    public static SubordinateIds read(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return new SubordinateIds(file, List.of());
        } catch (IOException e) {
            throw new UncheckedIOException("read " + file + ": " + e.getMessage(), e);
        }
        return parse(file, text);
    }

    /** Parses the text of {@code file} (named in errors). */
    public static SubordinateIds parse(Path file, String text) {
        List<Range> ranges = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split(":", -1);
            String where = file + " line " + (i + 1);
            if (f.length != 3 || f[0].isEmpty()) {
                throw new IllegalArgumentException(where + ": \"" + line + "\": expected NAME:START:COUNT");
            }
            long start;
            long count;
            try {
                start = Long.parseLong(f[1]);
                count = Long.parseLong(f[2]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(where + ": \"" + line + "\": START and COUNT must be numbers");
            }
            try {
                ranges.add(new Range(f[0], start, count));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + ": " + e.getMessage());
            }
        }
        return new SubordinateIds(file, ranges);
    }

    /** The file these ranges came from. */
    public Path file() {
        return file;
    }

    /** Every range, in file order. */
    public List<Range> ranges() {
        return ranges;
    }

    /**
     * The ranges of a user, by name or by uid, in file order (as newuidmap matches them: the
     * owner field equals the name, or equals the uid as a decimal number).
     */
    public List<Range> rangesOf(String name, long uid) {
        String id = Long.toString(uid);
        List<Range> out = new ArrayList<>();
        for (Range r : ranges) {
            if ((name != null && r.owner().equals(name)) || r.owner().equals(id)) {
                out.add(r);
            }
        }
        return out;
    }

    /** The ranges listed under exactly this owner field (a name or a number). */
    public List<Range> rangesOf(String owner) {
        List<Range> out = new ArrayList<>();
        for (Range r : ranges) {
            if (r.owner().equals(owner)) {
                out.add(r);
            }
        }
        return out;
    }

    /**
     * The mapping podman makes from a user's ranges: container ids 0, 1, … onto the ranges one
     * after another.
     *
     * @throws IllegalArgumentException naming the file when the user has no range
     */
    public List<IdMapping> mappingFor(String owner) {
        List<Range> own = rangesOf(owner);
        if (own.isEmpty()) {
            throw new IllegalArgumentException(file + ": no subordinate ids for \"" + owner + "\"");
        }
        List<IdMapping> out = new ArrayList<>();
        long next = 0;
        for (Range r : own) {
            long size = Math.min(r.count(), IdMapping.ID_LIMIT - next);
            if (size < 1) {
                break;
            }
            out.add(new IdMapping(next, r.start(), size));
            next += size;
        }
        return out;
    }
}
