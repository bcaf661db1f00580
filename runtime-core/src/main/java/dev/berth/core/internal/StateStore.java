package dev.berth.core.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;

/**
 * {@code <stateRoot>/<id>/state.json}: written atomically (temp file + rename), removed
 * when the container ends. The pid is recorded with its start time, so a later reader
 * can tell the process from a successor that reused its pid.
 */
public final class StateStore {
    private final Path root;

    public StateStore(Path root) {
        this.root = root;
    }

    public boolean exists(String id) {
        return Files.exists(root.resolve(id));
    }

    public void create(String id) {
        try {
            Files.createDirectories(root);
            Files.createDirectory(root.resolve(id));
        } catch (IOException e) {
            throw new UncheckedIOException("state directory " + root.resolve(id) + ": " + e.getMessage(), e);
        }
    }

    public void write(String id, long pid, String containerRoot) {
        Path dir = root.resolve(id);
        String json = "{\"id\":\"" + id + "\",\"status\":\"running\",\"pid\":" + pid
                + ",\"pidStartTime\":" + startTime(pid) + ",\"root\":\"" + escape(containerRoot)
                + "\",\"created\":\"" + Instant.now() + "\"}\n";
        Path tmp = dir.resolve("state.json.tmp");
        try {
            Files.writeString(tmp, json, StandardCharsets.UTF_8);
            try {
                Files.move(tmp, dir.resolve("state.json"), StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, dir.resolve("state.json"), StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + dir.resolve("state.json"), e);
        }
    }

    public void remove(String id) {
        Path dir = root.resolve(id);
        try {
            Files.deleteIfExists(dir.resolve("state.json.tmp"));
            Files.deleteIfExists(dir.resolve("state.json"));
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("removing " + dir, e);
        }
    }

    /** Field 22 of /proc/PID/stat (clock ticks since boot), or -1. */
    static long startTime(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[19]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}
