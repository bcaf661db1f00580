package dev.berth.linux.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A process's ids from its {@code /proc/PID/status} ({@code Uid:} and {@code Gid:}, proc(5): real,
 * effective, saved set and filesystem id): the one parse every module uses, e.g. to decide whether
 * Berth runs rootless (the effective uid is not 0). JDK only, no native call, so that a public class
 * or a test condition can use it before JNA is loaded.
 */
public final class ProcStatus {
    /** This process's status file. */
    public static final Path SELF = Path.of("/proc/self/status");

    private ProcStatus() {}

    /** The four ids of a {@code Uid:} or {@code Gid:} line. */
    public record Ids(long real, long effective, long saved, long filesystem) {}

    /**
     * The {@code Uid:} line of a status text.
     *
     * @return empty when the text has no {@code Uid:} line
     * @throws IllegalArgumentException naming the line when it does not hold four ids
     */
    public static Optional<Ids> uids(String status) {
        return ids(status, "Uid:");
    }

    /** The {@code Gid:} line of a status text, as {@link #uids(String)}. */
    public static Optional<Ids> gids(String status) {
        return ids(status, "Gid:");
    }

    private static Optional<Ids> ids(String status, String field) {
        for (String line : status.split("\n")) {
            if (!line.startsWith(field)) {
                continue;
            }
            String[] f = line.substring(field.length()).strip().split("\\s+");
            long[] n = new long[4];
            boolean ok = f.length == 4;
            for (int i = 0; ok && i < 4; i++) {
                try {
                    n[i] = Long.parseLong(f[i]);
                    ok = n[i] >= 0 && n[i] <= 0xFFFF_FFFFL;
                } catch (NumberFormatException e) {
                    ok = false;
                }
            }
            if (!ok) {
                throw new IllegalArgumentException(field + " line \"" + line.strip()
                        + "\" is not four ids (real, effective, saved, filesystem)");
            }
            return Optional.of(new Ids(n[0], n[1], n[2], n[3]));
        }
        return Optional.empty();
    }

    /**
     * The uids in a status file ({@code /proc/PID/status}).
     *
     * @throws IOException one line naming the file when it cannot be read, or has no {@code Uid:} line or a
     *     malformed one
     */
    public static Ids uidsOf(Path statusFile) throws IOException {
        String text = read(statusFile);
        try {
            return uids(text).orElseThrow(() -> new IOException(statusFile + ": no Uid: line"));
        } catch (IllegalArgumentException e) {
            throw new IOException(statusFile + ": " + e.getMessage(), e);
        }
    }

    /**
     * This process's effective uid.
     *
     * @throws UncheckedIOException when {@link #SELF} cannot be read
     * @throws IllegalStateException when it has no {@code Uid:} line or a malformed one (one line naming the file)
     */
    public static long effectiveUid() {
        return self("Uid:").effective();
    }

    /** This process's effective gid, as {@link #effectiveUid()}. */
    public static long effectiveGid() {
        return self("Gid:").effective();
    }

    /** Whether this process's effective uid is 0 (otherwise Berth runs rootless), as {@link #effectiveUid()}. */
    public static boolean isRoot() {
        return effectiveUid() == 0;
    }

    private static Ids self(String field) {
        String text;
        try {
            text = read(SELF);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
        try {
            return ids(text, field).orElseThrow(() -> new IllegalStateException(SELF + ": no " + field + " line"));
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(SELF + ": " + e.getMessage(), e);
        }
    }

    /** @throws IOException whose message names the file and the reason */
    private static String read(Path file) throws IOException {
        try {
            return Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new IOException(file + ": no such file", e);
        } catch (IOException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }
}
