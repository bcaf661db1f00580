package dev.berth.core;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Where one of the container's standard streams goes, in the manner of
 * {@link ProcessBuilder.Redirect}.
 */
public final class Stdio {

    /** The kinds of wiring. */
    public enum Kind {
        /** The JVM's own stream. */
        INHERIT,
        /** A pipe whose other end is a stream on the {@link Container} handle. */
        PIPE,
        /** {@code /dev/null}. */
        NULL,
        /** A file on the host: read for stdin, truncated and written for output. */
        FILE,
        /** A file on the host, appended to. */
        APPEND
    }

    private static final Stdio INHERIT = new Stdio(Kind.INHERIT, null);
    private static final Stdio PIPE = new Stdio(Kind.PIPE, null);
    private static final Stdio NULL = new Stdio(Kind.NULL, null);

    private final Kind kind;
    private final Path file;

    private Stdio(Kind kind, Path file) {
        this.kind = kind;
        this.file = file;
    }

    public static Stdio inherit() {
        return INHERIT;
    }

    public static Stdio pipe() {
        return PIPE;
    }

    public static Stdio discard() {
        return NULL;
    }

    public static Stdio file(Path file) {
        return new Stdio(Kind.FILE, Objects.requireNonNull(file, "file"));
    }

    public static Stdio append(Path file) {
        return new Stdio(Kind.APPEND, Objects.requireNonNull(file, "file"));
    }

    public Kind kind() {
        return kind;
    }

    public Optional<Path> path() {
        return Optional.ofNullable(file);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Stdio s && s.kind == kind && Objects.equals(s.file, file);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, file);
    }

    @Override
    public String toString() {
        return file == null ? kind.name().toLowerCase() : kind.name().toLowerCase() + ":" + file;
    }
}
